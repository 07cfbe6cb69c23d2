import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lastAndBest, summarizeRun, summaryLabels, summaryLine } from '../../src/core/runSummary';
import type { RunRecord } from '../../src/core/runRecord';

const curve = (...ys: number[]) => ys.map((y, i) => ({ x: i + 1, y }));

const record = (over: Partial<RunRecord> = {}): RunRecord =>
  ({
    id: 'r',
    status: 'succeeded',
    config: { train: { epochs: 12, checkpointMetric: 'val_accuracy' } },
    metrics: { accuracy: 0.802, bestValAccuracy: 0.844, bestEpoch: 3, epochs: 4 },
    dataset: { counts: { a: { train: 10, val: 2, test: 2 } } },
    ...over,
  }) as unknown as RunRecord;

test('last and best: the last finite point and the first epoch to reach the maximum', () => {
  assert.deepEqual(lastAndBest(curve(0.5, 0.9, 0.9, 0.7, NaN)), { last: { value: 0.7, epoch: 4 }, best: { value: 0.9, epoch: 2 } });
  assert.deepEqual(lastAndBest([]), { last: undefined, best: undefined });
});

test('a live run: its status and epoch win over run.json; no evaluation or weights while it trains', () => {
  const s = summarizeRun({
    record: record({ status: 'running', metrics: {} }),
    valAccuracy: curve(0.6, 0.781),
    live: { status: 'running', lastEpoch: { epoch: 2, epochs: 60 } },
  });
  assert.deepEqual([s.status, s.epoch, s.epochs], ['running', 2, 60]);
  assert.equal(s.evaluation, undefined);
  assert.equal(s.weights, undefined);
  assert.deepEqual(summaryLabels(s), { progress: 'epoch 2/60', last: 'val 78.1% · last (epoch 2)', best: '78.1% best (epoch 2)' });
  assert.equal(summaryLine(s), 'epoch 2/60 · val 78.1% · last (epoch 2) · 78.1% best (epoch 2)');
});

test('a finished run: best, last, test and the kept weights, labelled; the same from the curve or from run.json alone', () => {
  const r = record({
    metrics: { accuracy: 0.802, bestValAccuracy: 0.844, bestEpoch: 3, epochs: 4, lastValAccuracy: 0.781, peakValAccuracy: 0.844, peakValAccuracyEpoch: 3 },
    weights: { epoch: 3, metric: 'val_accuracy', evaluatedOn: 'test' },
  });
  const fromCurve = summarizeRun({ record: r, valAccuracy: curve(0.5, 0.7, 0.844, 0.781) });
  const fromRecord = summarizeRun({ record: r, valAccuracy: [] });
  assert.deepEqual(fromRecord, fromCurve, 'the tree and the CodeLens (run.json) agree with the dashboards (metrics.jsonl)');
  const labels = summaryLabels(fromCurve);
  assert.equal(labels.last, 'val 78.1% · last (epoch 4)');
  assert.equal(labels.best, '84.4% best (epoch 3)');
  assert.equal(labels.evaluation, 'test 80.2%');
  assert.equal(labels.weights, 'weights: best epoch 3 by val_accuracy (restored after epoch 4)');
  assert.equal(summaryLine(fromCurve), '84.4% best (epoch 3) · test 80.2%');
});

test('weights kept at the last epoch say so; a run without a test split says its evaluation was on validation', () => {
  const r = record({
    metrics: { accuracy: 0.7, epochs: 2, lastValAccuracy: 0.7, peakValAccuracy: 0.7, peakValAccuracyEpoch: 2 },
    weights: { epoch: 2, metric: 'val_loss', evaluatedOn: 'val' },
  });
  const labels = summaryLabels(summarizeRun({ record: r, valAccuracy: curve(0.6, 0.7) }));
  assert.equal(labels.weights, 'weights: last epoch 2 (also the best by val_loss)');
  assert.equal(labels.evaluation, 'val 70.0% (no test split)');
});

test('runs written before run.json recorded its weights: the best checkpoint from metrics, the split from the counts', () => {
  const old = record({ dataset: { root: '/d', layout: 'folders', classes: ['a'], counts: { a: { train: 8, val: 2, test: 0 } } } });
  const s = summarizeRun({ record: old, valAccuracy: [] });
  assert.deepEqual(s.best, { value: 0.844, epoch: 3 });
  assert.equal(s.last, undefined, 'no last epoch value was recorded: none is made up');
  assert.deepEqual(s.weights, { epoch: 3, metric: 'val_accuracy', evaluatedOn: 'val', lastEpoch: 4 });
  // A checkpoint chosen by val_loss is not the best validation accuracy: not shown as "best".
  const byLoss = record({ config: { train: { epochs: 12, checkpointMetric: 'val_loss' } } as RunRecord['config'] });
  assert.equal(summarizeRun({ record: byLoss, valAccuracy: [] }).best, undefined);
});

test('a cancelled or failed run has no kept weights and a cancelled one no evaluation', () => {
  const cancelled = summarizeRun({ record: record({ status: 'cancelled', metrics: {} }), valAccuracy: curve(0.5, 0.6) });
  assert.equal(cancelled.weights, undefined);
  assert.equal(cancelled.evaluation, undefined);
  assert.equal(summaryLine(cancelled), '60.0% best (epoch 2)');
  // The trainer's 'finished' event (live status) wins over a run.json that still says running.
  const stopped = summarizeRun({ record: record({ status: 'running', metrics: {} }), valAccuracy: curve(0.5), live: { status: 'cancelled' } });
  assert.equal(stopped.status, 'cancelled');
});
