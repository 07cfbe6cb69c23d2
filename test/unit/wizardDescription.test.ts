import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refreshedDescription, staleDescriptionProblem, strategyTitle } from '../../src/core/wizardDescription';
import type { ExperimentFile } from '../../src/core/experiment';

type Exp = Pick<ExperimentFile, 'description' | 'strategy' | 'backbone' | 'train'>;
const FE = 'Feature extraction (frozen backbone, new head): small dataset (< 100/class), similar to the backbone’s data.';
const TRAINING = 'Training: 20 epochs of batch 16: about 300 steps for 240 training images.';

const exp = (over: Partial<Exp>): Exp => ({
  description: `${FE} ${TRAINING}`,
  strategy: { kind: 'feature-extraction' },
  backbone: { catalog: 'fmnist-mini' },
  train: { epochs: 20, batchSize: 16 },
  ...over,
});

/** The file the wizard writes for a feature extraction from an earlier layer: its title names the cut. */
const earlierCut = (title: string, cutAt: string): Exp =>
  exp({
    description: `${title}: small dataset (< 100/class), different from the backbone's data. ${TRAINING}`,
    backbone: { catalog: 'mobilenet_v2_1.00_224', cutAt },
  });

test('a wizard description that still matches the file is left alone', () => {
  assert.equal(refreshedDescription(exp({})), undefined);
  assert.equal(staleDescriptionProblem(exp({})), undefined);
  // The wizard's own titles for an earlier cut and a fine-tune point match their fields.
  assert.equal(
    refreshedDescription(earlierCut('Feature extraction from an earlier layer (block_3_pw_relu, the end of stage 3)', 'block_3_pw_relu')),
    undefined,
  );
  const lateBlock = exp({
    description: `Fine-tune from a late block (block_13_expand, the start of stage 6): large dataset (≥ 100/class), similar to the backbone's data. ${TRAINING}`,
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_13_expand' },
  });
  assert.equal(refreshedDescription(lateBlock), undefined);
  assert.match(
    refreshedDescription({ ...lateBlock, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_10_expand' } }) ?? '',
    /^Fine-tune from block_10_expand: large/,
  );
});

test('after a strategy change the title is rewritten and the situation and training kept', () => {
  const changed = exp({ strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' } });
  assert.equal(
    refreshedDescription(changed),
    'Fine-tune from block_5_dw: small dataset (< 100/class), similar to the backbone’s data. Training: 20 epochs of batch 16: about 300 steps for 240 training images.',
  );
  const problem = staleDescriptionProblem(changed)!;
  assert.equal(problem.path, 'description');
  assert.deepEqual(problem.fix, { kind: 'replace-value', to: refreshedDescription(changed), title: 'Update the description to match the file' });
  // Once fixed, nothing is stale; a later change of the unfreeze point is caught again.
  const fixed = { ...changed, description: refreshedDescription(changed) };
  assert.equal(refreshedDescription(fixed), undefined);
  assert.match(refreshedDescription({ ...fixed, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_4_dw' } }) ?? '', /^Fine-tune from block_4_dw:/);
});

test('a new cut point, or new epochs and batch size, make the matching part stale', () => {
  assert.match(
    refreshedDescription(exp({ backbone: { catalog: 'fmnist-mini', cutAt: 'block_2_pw_relu' } })) ?? '',
    /^Feature extraction from an earlier layer \(block_2_pw_relu\):/,
  );
  assert.equal(
    refreshedDescription(exp({ train: { epochs: 30, batchSize: 8 } })),
    `${FE} Training: 30 epochs of batch 8: about 900 steps for 240 training images.`,
  );
});

test("a description in the user's own words is never touched", () => {
  assert.equal(refreshedDescription(exp({ description: 'My cats vs dogs baseline.', strategy: { kind: 'scratch' } })), undefined);
  assert.equal(refreshedDescription(exp({ description: undefined })), undefined);
});

test('the titles the fix writes', () => {
  assert.equal(strategyTitle({ strategy: { kind: 'scratch' }, backbone: { catalog: 'x' } }), 'Train from scratch');
  assert.equal(strategyTitle({ strategy: { kind: 'fine-tune', unfreezeLast: 12 }, backbone: { catalog: 'x' } }), 'Fine-tune the last 12 layers');
  assert.equal(strategyTitle({ strategy: { kind: 'feature-extraction' }, backbone: { catalog: 'x' } }), 'Feature extraction (frozen backbone, new head)');
});
