// A run is a function of its experiment file and data: the same experiment run twice (same
// seed, backend, machine) writes the same metrics.jsonl values to the last digit, for each
// strategy kind; and another train.seed changes them, so the comparison can fail. The head has
// a hidden layer and dropout and the data is augmented, so initial weights, dropout masks,
// augmentation and batch order are all in play.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runExperiment';
import { readMetrics, readRun } from '../../src/core/runStore';
import type { StrategySpec } from '../../src/core/experiment';
// @ts-expect-error: plain ESM helper shared with the scripts (no types)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const repo = path.resolve(__dirname, '../../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-repro-'));
const cacheDir = path.join(root, 'cache');

/**
 * Not results of the run, so excluded by name: wall-clock time (time, imagesPerSec) and the
 * process's memory after each epoch (tensors, tensorBytes, rssBytes count whatever else this
 * process holds, e.g. the previous run's cached backbone).
 */
const NOT_RESULTS = new Set(['time', 'imagesPerSec', 'tensors', 'tensorBytes', 'rssBytes']);

before(async () => {
  await loadBackend({ preference: 'tensorflow', installRoot: repo });
  copyShippedDataset(path.join(root, 'data'), { train: 6, val: 3, test: 3 }, repo);
});

const STRATEGIES: StrategySpec[] = [
  { kind: 'scratch' },
  { kind: 'feature-extraction' },
  { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', warmupEpochs: 1, baseLearningRate: 1e-3 },
];

async function metricsOf(strategy: StrategySpec, seed: number | undefined, tag: string): Promise<{ metrics: Record<string, unknown>[]; seed: number }> {
  const file = writeTinyExperiment(path.join(root, `${strategy.kind}-${tag}.tlexp.json`), {
    name: `repro-${strategy.kind}`,
    data: { dir: 'data', seed: 3, augment: { flip: true, rotate: 10 } },
    strategy,
    head: { pooling: 'avg', dense: [8], dropout: 0.3 },
    train: { epochs: 3, batchSize: 4, learningRate: 0.01, ...(seed === undefined ? {} : { seed }) },
  });
  const outcome = await runExperiment({
    experimentFile: file,
    runsDir: path.join(root, 'runs'),
    cacheDir,
    installRoot: repo,
    backend: 'tensorflow',
    onEvent: () => {},
    shouldStop: () => false,
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.error));
  const read = readMetrics(outcome.runDir);
  assert.deepEqual(read.problems, []);
  const record = readRun(outcome.runDir);
  assert.ok(record.ok);
  const metrics = read.records.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !NOT_RESULTS.has(k))));
  metrics.push({ testAccuracy: outcome.evaluation!.accuracy, testLoss: outcome.evaluation!.loss });
  return { metrics, seed: record.value.config.train.seed };
}

for (const strategy of STRATEGIES) {
  test(`${strategy.kind}: the same experiment twice gives identical metrics.jsonl values; another train.seed does not`, { timeout: 300_000 }, async () => {
    const first = await metricsOf(strategy, undefined, 'a');
    const second = await metricsOf(strategy, undefined, 'b');
    // The seed is in run.json: train.seed defaults to data.seed.
    assert.equal(first.seed, 3);
    assert.ok(first.metrics.length > 3, 'batch and epoch records were written');
    assert.deepEqual(second.metrics, first.metrics);
    const other = await metricsOf(strategy, 4, 'c');
    assert.equal(other.seed, 4);
    assert.notDeepEqual(other.metrics, first.metrics);
    const losses = (m: Record<string, unknown>[]) => m.filter((r) => r.kind === 'batch').map((r) => r.loss);
    assert.notDeepEqual(losses(other.metrics), losses(first.metrics), 'another seed changes the losses, not just a count');
  });
}
