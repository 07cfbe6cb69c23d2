// The strategy advisor: the four classic situations map to the strategies of the seeds'
// rules of thumb, graph models only ever get feature extraction, and the layer names it
// proposes exist in the real backbones they name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { adviseStrategy, allSituations, datasetSize, describeSituation, MAX_SUGGESTED_EPOCHS, SMALL_DATASET_PER_CLASS, suggestTraining, VERY_LARGE_DATASET_PER_CLASS } from '../../src/core/strategyAdvisor';
import { validateExperiment } from '../../src/core/experimentValidation';

const repo = path.resolve(__dirname, '../../..');

test('small datasets get feature extraction; similar data keeps the default cut', () => {
  const a = adviseStrategy({ imagesPerClass: 20, similarity: 'similar', format: 'layers', family: 'mobilenet_v2' });
  assert.equal(a.situation, 'small-similar');
  assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
  assert.equal(a.cutAt, undefined);
  assert.match(a.reason, /about 20 training images per class/);
});

test('small and different data cuts earlier (a named layer for known families, a hint otherwise)', () => {
  const known = adviseStrategy({ imagesPerClass: 50, similarity: 'different', format: 'layers', family: 'mobilenet_v2' });
  assert.equal(known.situation, 'small-different');
  assert.deepEqual(known.strategy, { kind: 'feature-extraction' });
  assert.equal(known.cutAt, 'block_13_expand_relu');
  const unknown = adviseStrategy({ imagesPerClass: 50, similarity: 'different', format: 'layers' });
  assert.equal(unknown.cutAt, undefined);
  assert.match(unknown.reason, /backbone\.cutAt/);
});

test('large datasets fine-tune: a late block for similar data, most of the network for different data', () => {
  const similar = adviseStrategy({ imagesPerClass: 400, similarity: 'similar', format: 'layers', family: 'mobilenet_v1' });
  assert.equal(similar.situation, 'large-similar');
  assert.deepEqual(similar.strategy, { kind: 'fine-tune', unfreezeFrom: 'conv_dw_12' });
  const different = adviseStrategy({ imagesPerClass: 400, similarity: 'different', format: 'layers', family: 'mobilenet_v1' });
  assert.deepEqual(different.strategy, { kind: 'fine-tune', unfreezeFrom: 'conv_dw_2' });
  assert.doesNotMatch(different.reason, /scratch/);
  const huge = adviseStrategy({ imagesPerClass: VERY_LARGE_DATASET_PER_CLASS, similarity: 'different', format: 'layers' });
  assert.deepEqual(huge.strategy, { kind: 'fine-tune', unfreezeLast: 100 });
  assert.match(huge.reason, /scratch baseline/);
});

test('the threshold between small and large, and unknown counts count as small', () => {
  assert.equal(datasetSize(SMALL_DATASET_PER_CLASS - 1), 'small');
  assert.equal(datasetSize(SMALL_DATASET_PER_CLASS), 'large');
  assert.equal(datasetSize(undefined), 'small');
  assert.match(adviseStrategy({ imagesPerClass: undefined, similarity: 'similar', format: 'layers' }).reason, /unknown number/);
});

test('graph models only ever get feature extraction', () => {
  for (const similarity of ['similar', 'different'] as const) {
    for (const n of [10, 500, 5000]) {
      const a = adviseStrategy({ imagesPerClass: n, similarity, format: 'graph', family: 'mobilenet_v3' });
      assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
      assert.equal(a.cutAt, undefined);
      assert.match(a.reason, /graph model/);
    }
  }
});

test('allSituations lists the four situations, the ones matching the dataset size first and recommended', () => {
  const list = allSituations({ imagesPerClass: 20, format: 'layers', family: 'fmnist-mini' });
  assert.deepEqual(list.map((s) => s.advice.situation), ['small-similar', 'small-different', 'large-similar', 'large-different']);
  assert.deepEqual(list.map((s) => s.recommended), [true, true, false, false]);
  const large = allSituations({ imagesPerClass: 300, format: 'layers' });
  assert.deepEqual(large.map((s) => s.advice.situation), ['large-similar', 'large-different', 'small-similar', 'small-different']);
  assert.match(describeSituation('small-different'), /Small dataset .* different from/);
});

test('every advised strategy makes a valid experiment', () => {
  for (const family of ['mobilenet_v1', 'mobilenet_v2', 'fmnist-mini', undefined] as const) {
    for (const { advice } of allSituations({ imagesPerClass: 2000, format: 'layers', family })) {
      const exp = { name: 'x', data: { dir: 'd' }, backbone: { catalog: 'fmnist-mini', ...(advice.cutAt ? { cutAt: advice.cutAt } : {}) }, strategy: advice.strategy };
      const checked = validateExperiment(exp);
      assert.ok(checked.ok, JSON.stringify(checked));
    }
  }
});

test('the layer names proposed for the shipped fmnist-mini backbone exist in its model.json', () => {
  const modelJson = fs.readFileSync(path.join(repo, 'media/backbones/fmnist-mini/model.json'), 'utf8');
  const names = new Set([...modelJson.matchAll(/"name":\s*"([^"]+)"/g)].map((m) => m[1]));
  for (const { advice } of allSituations({ imagesPerClass: 20, format: 'layers', family: 'fmnist-mini' })) {
    if (advice.cutAt) assert.ok(names.has(advice.cutAt), `${advice.cutAt} in model.json`);
    if (advice.strategy.kind === 'fine-tune' && advice.strategy.unfreezeFrom) assert.ok(names.has(advice.strategy.unfreezeFrom), `${advice.strategy.unfreezeFrom} in model.json`);
  }
});

test('small datasets train longer in smaller batches; large ones keep the Keras defaults', () => {
  const D = { epochs: 10, batchSize: 32 };
  // 5 classes x 20 images: 7 steps per epoch of 16, so 43 epochs reach ~300 steps.
  const tiny = suggestTraining(100, D);
  assert.deepEqual([tiny.epochs, tiny.batchSize], [43, 16]);
  assert.match(tiny.reason, /43 epochs of batch 16: about 301 steps for 100 training images/);
  // 280 images: 18 steps per epoch, 17 epochs.
  assert.deepEqual([suggestTraining(280, D).epochs, suggestTraining(280, D).batchSize], [17, 16]);
  // Very few images hit the ceiling rather than memorising for hundreds of epochs.
  assert.equal(suggestTraining(10, D).epochs, MAX_SUGGESTED_EPOCHS);
  // Thousands of images: Keras's defaults, never fewer epochs than them.
  assert.deepEqual(suggestTraining(5000, D), { epochs: 10, batchSize: 32, reason: 'the usual Keras defaults suit 5000 training images' });
  assert.deepEqual([suggestTraining(undefined, D).epochs, suggestTraining(undefined, D).batchSize], [10, 32]);
});
