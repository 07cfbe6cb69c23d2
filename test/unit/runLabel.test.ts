// The Experiments tree names a run by strategy and score, not by its id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLabel, shortDate } from '../../src/core/runLabel';

test('a finished run: strategy and best validation accuracy with its epoch', () => {
  assert.equal(
    runLabel({ strategy: 'fine-tune', status: 'succeeded', metrics: { bestValAccuracy: 0.8444, bestEpoch: 7 } }),
    'fine-tune · 84.4% best val (epoch 7)',
  );
  assert.equal(runLabel({ strategy: 'feature-extraction', status: 'succeeded', metrics: { bestValAccuracy: 0.5 } }), 'feature extraction · 50.0% best val');
  assert.equal(runLabel({ strategy: 'scratch', status: 'succeeded', metrics: { bestValAccuracy: NaN } }), 'scratch · no validation score');
});

test('a failed or cancelled run says so; a running one says its epoch', () => {
  assert.equal(runLabel({ strategy: 'scratch', status: 'failed', metrics: {} }), 'scratch · failed');
  assert.equal(
    runLabel({ strategy: 'fine-tune', status: 'cancelled', metrics: { bestValAccuracy: 0.7, bestEpoch: 2 } }),
    'fine-tune · cancelled · 70.0% best val (epoch 2)',
  );
  assert.equal(runLabel({ strategy: 'fine-tune', status: 'running', live: { epoch: 3, epochs: 10, valAccuracy: 0.625 } }), 'fine-tune · epoch 3/10, 62.5% val');
  assert.equal(runLabel({ status: 'running' }), 'run · starting…', 'before run.json is read');
});

test('the date, in local time, minutes', () => {
  const d = new Date(2026, 11, 3, 9, 5, 42);
  assert.equal(shortDate(d.toISOString()), '2026-12-03 09:05');
  assert.equal(shortDate('not a date'), 'not a date');
});
