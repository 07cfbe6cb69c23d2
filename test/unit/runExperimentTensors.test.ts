// A run that ends early leaves no tensor behind: fine-tuning cancelled while featurizing, or
// failing there, disposes the backbone, the cut and suffix models, the head and the frozen
// prefix's plan, as a run that finishes does (tf.memory().numTensors before == after).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment, type RunOutcome } from '../../src/engine/runExperiment';
import { tf } from '../../src/engine/tf';
import type { ExperimentFile } from '../../src/core/experiment';
import type { RunEvent } from '../../src/core/runEvents';
// @ts-expect-error: plain ESM helper shared with the scripts (no types)
import { writePngClassFolders, TARGET_CLASSES } from '../../scripts/fashionMnist.mjs';

const installRoot = path.resolve(__dirname, '../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-engine-tensors-'));
const datasetDir = path.join(work, 'fashion');
after(() => fs.rmSync(work, { recursive: true, force: true }));

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  await writePngClassFolders(datasetDir, { classes: TARGET_CLASSES, perClass: 24, split: 'train', root: installRoot });
});

function experiment(name: string, strategy: ExperimentFile['strategy']): string {
  const file = path.join(work, `${name}.tlexp.json`);
  const exp: ExperimentFile = {
    name,
    data: { dir: 'fashion', split: { val: 0.25, test: 0.25 }, seed: 7 },
    backbone: { catalog: 'fmnist-mini' },
    strategy,
    head: { pooling: 'avg', dense: [16], dropout: 0.1 },
    train: { epochs: 2, batchSize: 16, optimizer: 'adam', learningRate: 0.01 },
  };
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  return file;
}

const featurizing = (e: RunEvent) => e.type === 'phase' && e.phase === 'featurizing' && (e.done ?? 0) > 0;

/** Runs `file`; `stopWhen` decides from the events so far whether the user pressed Stop. `cacheDir` fresh per run: featurizing really runs. */
async function run(file: string, stopWhen: (events: RunEvent[]) => boolean, onEvent: (e: RunEvent) => void = () => {}): Promise<RunOutcome> {
  const events: RunEvent[] = [];
  return runExperiment({
    experimentFile: file,
    runsDir: path.join(work, 'runs'),
    cacheDir: fs.mkdtempSync(path.join(work, 'cache-')),
    installRoot,
    backend: 'test',
    onEvent: (e) => {
      events.push(e);
      onEvent(e);
    },
    shouldStop: () => stopWhen(events),
  });
}

/** The tensors a run leaves: numTensors after it minus before it (after one run of the same kind, so lazily made kernels' constants are there). */
async function tensorsLeftBy(go: () => Promise<RunOutcome>, status: RunOutcome['status'], error?: RegExp): Promise<number> {
  assert.equal((await go()).status, status);
  const before = tf().memory().numTensors;
  const outcome = await go();
  assert.equal(outcome.status, status, outcome.error?.message);
  if (error) assert.match(outcome.error?.message ?? '', error);
  return tf().memory().numTensors - before;
}

test('a fine-tune run cancelled while featurizing leaves no tensor', async () => {
  const file = experiment('ft-cancel', { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 0.001, warmupEpochs: 1 });
  assert.equal(await tensorsLeftBy(() => run(file, (events) => events.some(featurizing)), 'cancelled'), 0);
});

test('a fine-tune run that fails while featurizing leaves no tensor', async () => {
  const file = experiment('ft-fail', { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 0.001, warmupEpochs: 1 });
  // The dataset folder goes away after the first images are featurized: the run fails there.
  const copy = path.join(work, 'fashion-gone');
  const go = () => {
    fs.cpSync(datasetDir, copy, { recursive: true });
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/"dir": "[^"]*"/, '"dir": "fashion-gone"'));
    return run(
      file,
      () => false,
      (e) => featurizing(e) && fs.rmSync(copy, { recursive: true, force: true }),
    );
  };
  assert.equal(await tensorsLeftBy(go, 'failed', /disappeared during the run/), 0);
});

test('a feature-extraction run cancelled while featurizing leaves no tensor', async () => {
  const file = experiment('fe-cancel', { kind: 'feature-extraction' });
  assert.equal(await tensorsLeftBy(() => run(file, (events) => events.some(featurizing)), 'cancelled'), 0);
});

test('a fine-tune run that succeeds leaves no tensor', async () => {
  const file = experiment('ft-ok', { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 0.001, warmupEpochs: 1 });
  assert.equal(await tensorsLeftBy(() => run(file, () => false), 'succeeded'), 0);
});

test('feature-extraction and scratch runs that succeed leave no tensor', async () => {
  for (const strategy of [{ kind: 'feature-extraction' }, { kind: 'scratch' }] as const) {
    const file = experiment(`${strategy.kind}-ok`, strategy);
    assert.equal(await tensorsLeftBy(() => run(file, () => false), 'succeeded'), 0, strategy.kind);
  }
});
