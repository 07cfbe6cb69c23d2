// The Experiments tree names a run by strategy and score, not by its id, in the run summary's
// words (the same as the dashboard, sidebar, CodeLens and status bar).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLabel, shortDate } from '../../src/core/runLabel';
import { summarizeRun, summaryLine, type RunSummaryInput } from '../../src/core/runSummary';
import type { RunRecord } from '../../src/core/runRecord';

type Metrics = RunRecord['metrics'];
const record = (status: RunRecord['status'], metrics: Metrics, checkpointMetric = 'val_accuracy'): NonNullable<RunSummaryInput['record']> =>
  ({ status, metrics, config: { train: { epochs: 10, checkpointMetric } }, dataset: { counts: { a: { train: 10, val: 2, test: 2 } } } }) as never;
const label = (strategy: string | undefined, input: RunSummaryInput) => runLabel(strategy, summarizeRun(input));

test('a finished run: strategy, then the best validation accuracy with its epoch and the test accuracy, as the CodeLens says them', () => {
  const r = record('succeeded', { bestValAccuracy: 0.8444, bestEpoch: 7, accuracy: 0.82, epochs: 9 });
  assert.equal(label('fine-tune', { record: r, valAccuracy: [] }), 'fine-tune · 84.4% best (epoch 7) · test 82.0%');
  assert.equal(label('fine-tune', { record: r, valAccuracy: [] }), `fine-tune · ${summaryLine(summarizeRun({ record: r, valAccuracy: [] }))}`);
  // The peak, not the kept checkpoint's score, when the file chose val_loss.
  const byLoss = record('succeeded', { bestValAccuracy: 0.7, bestEpoch: 3, peakValAccuracy: 0.75, peakValAccuracyEpoch: 5, accuracy: 0.7 }, 'val_loss');
  assert.equal(label('feature-extraction', { record: byLoss, valAccuracy: [] }), 'feature extraction · 75.0% best (epoch 5) · test 70.0%');
  assert.equal(label('scratch', { record: record('succeeded', { bestValAccuracy: NaN }), valAccuracy: [] }), 'scratch · no validation score');
  // A best without its epoch is not shown as a best (the summary never says "best" without "(epoch N)").
  assert.equal(
    label('feature-extraction', { record: record('succeeded', { bestValAccuracy: 0.5 }), valAccuracy: [] }),
    'feature extraction · no validation score',
  );
  const noTest = { ...record('succeeded', { bestValAccuracy: 0.6, bestEpoch: 2, accuracy: 0.6 }), dataset: { counts: { a: { train: 10, val: 2 } } } } as never;
  assert.equal(label('scratch', { record: noTest, valAccuracy: [] }), 'scratch · 60.0% best (epoch 2) · val 60.0% (no test split)');
});

test('a failed or cancelled run says so; a running one says its epoch and last validation accuracy', () => {
  assert.equal(label('scratch', { record: record('failed', {}), valAccuracy: [] }), 'scratch · failed');
  assert.equal(
    label('fine-tune', { record: record('cancelled', { bestValAccuracy: 0.7, bestEpoch: 2 }), valAccuracy: [] }),
    'fine-tune · cancelled · 70.0% best (epoch 2)',
  );
  const running = { record: record('running', {}), valAccuracy: [0.5, 0.7, 0.625].map((y, i) => ({ x: i + 1, y })) };
  assert.equal(label('fine-tune', { ...running, live: { status: 'running', lastEpoch: { epoch: 3, epochs: 10 } } }), 'fine-tune · epoch 3/10 · val 62.5%');
  assert.equal(label('fine-tune', { record: record('running', {}), valAccuracy: [], live: { status: 'running', epochs: 10 } }), 'fine-tune · starting…');
  assert.equal(label(undefined, { valAccuracy: [], live: { status: 'running' } }), 'run · starting…', 'before run.json is read');
});

test('the date, in local time, minutes', () => {
  const d = new Date(2026, 11, 3, 9, 5, 42);
  assert.equal(shortDate(d.toISOString()), '2026-12-03 09:05');
  assert.equal(shortDate('not a date'), 'not a date');
});
