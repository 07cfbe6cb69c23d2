import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchX, historyCurves, ownBaseRate } from '../../src/core/dashboardCurves';
import type { MetricRecord } from '../../src/core/runRecord';

const batch = (epoch: number, b: number, lr: number, baseLr?: number): MetricRecord => ({
  kind: 'batch',
  epoch,
  batch: b,
  step: (epoch - 1) * 4 + b,
  loss: 1 / (epoch + b),
  accuracy: 0.5,
  lr,
  ...(baseLr === undefined ? {} : { baseLr }),
  time: 0,
});

test('a batch sits at its fraction of its epoch on the epoch axis', () => {
  assert.equal(batchX(1, 1, 4), 0.25);
  assert.equal(batchX(3, 5, 10), 2.5);
  assert.equal(batchX(2, 4, 4), 2, 'the last batch of epoch 2 meets the epoch-2 point');
  assert.equal(batchX(1, 3, 0), 1, 'an unknown count never puts a batch past its epoch');
});

test('the curves of a run: batches at fractional epochs, epochs at their number, the base rate where it differs', () => {
  const records: MetricRecord[] = [
    batch(1, 1, 1e-3),
    batch(1, 2, 1e-3),
    batch(1, 3, 1e-3),
    batch(1, 4, 1e-3),
    { kind: 'epoch', epoch: 1, step: 4, loss: 0.9, accuracy: 0.6, val_loss: 0.8, val_accuracy: 0.7, lr: 1e-3, time: 0 },
    batch(2, 1, 1e-3, 1e-5),
    batch(2, 2, 1e-3, 1e-5),
    { kind: 'epoch', epoch: 2, step: 6, loss: 0.7, val_accuracy: 0.75, lr: 1e-3, baseLr: 1e-5, time: 0 },
  ];
  const c = historyCurves(records);
  assert.deepEqual(
    c.batchLoss.map((p) => p.x),
    [0.25, 0.5, 0.75, 1, 1.25, 1.5],
  );
  assert.deepEqual(
    c.learningRate.map((p) => p.y),
    [1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 1e-3],
  );
  assert.deepEqual(c.baseLearningRate, [
    { x: 1.25, y: 1e-5 },
    { x: 1.5, y: 1e-5 },
  ]);
  assert.deepEqual(c.valAccuracy, [
    { x: 1, y: 0.7 },
    { x: 2, y: 0.75 },
  ]);
  assert.deepEqual(c.valLoss, [{ x: 1, y: 0.8 }], 'an epoch without val_loss has no point');
  assert.equal(c.epochAccuracy.length, 1);
});

test('the base rate is its own curve only when it is not the head rate', () => {
  assert.equal(ownBaseRate(1e-3, 1e-5), 1e-5);
  assert.equal(ownBaseRate(1e-3, 1e-3), undefined);
  assert.equal(ownBaseRate(1e-3, undefined), undefined);
  assert.equal(ownBaseRate(undefined, 1e-5), 1e-5);
});
