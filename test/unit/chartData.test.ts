import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bestEpoch,
  epochRange,
  formatEpoch,
  formatTick,
  linearRange,
  logRange,
  logTicks,
  nearestIndex,
  niceTicks,
  readoutText,
  SeriesTable,
} from '../../webview/lib/chartData';

test('nice ticks fall on 1, 2, 2.5 or 5 times a power of ten, inside the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.13, 0.87, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(niceTicks(0, 10, 4), [0, 2.5, 5, 7.5, 10]);
  // An epoch axis of three or more epochs ticks whole epochs only.
  assert.deepEqual(niceTicks(0, 6, 12, true), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(niceTicks(1, 1, 5), [1]);
  assert.deepEqual(niceTicks(NaN, 1, 5), []);
});

test('log ticks are decades, or 1-2-5 within a narrow range', () => {
  assert.deepEqual(logTicks(1e-6, 1e-2), [1e-6, 1e-5, 1e-4, 1e-3, 1e-2]);
  assert.deepEqual(logTicks(1e-4, 1e-3), [1e-4, 2e-4, 5e-4, 1e-3]);
  assert.deepEqual(logTicks(0, 1), [], 'a log axis has no ticks at or below zero');
  assert.deepEqual(logRange(1e-5, 1e-3), [1e-5, 1e-3]);
  assert.deepEqual(logRange(3e-4, 3e-4), [1e-4, 1e-3], 'a flat learning rate gets a decade');
});

test('linear and epoch ranges: padded data, a fixed range that holds it, whole epochs unless zoomed', () => {
  assert.deepEqual(linearRange(0.2, 0.9, [0, 1]), [0, 1]);
  assert.deepEqual(linearRange(0.5, 1.5, [0, 1]), [0.45, 1.55]);
  assert.deepEqual(linearRange(2, 2), [1, 3]);
  assert.deepEqual(epochRange(0.1, 5, 0.1, 5), [0, 5]);
  assert.deepEqual(epochRange(1.5, 2.5, 0.1, 5), [1.5, 2.5], 'a dragged zoom is kept');
});

test('the table aligns series on one x column and refuses points that go back', () => {
  const t = new SeriesTable();
  const batch = t.addSeries();
  const epoch = t.addSeries();
  t.append(batch, [
    { x: 0.5, y: 2 },
    { x: 1, y: 1.5 },
    { x: 1.5, y: NaN },
    { x: 2, y: 1 },
  ]);
  t.append(epoch, [
    { x: 1, y: 1.6 },
    { x: 2, y: 1.1 },
  ]);
  assert.deepEqual(t.xs, [0.5, 1, 2]);
  assert.deepEqual(t.columns, [
    [2, 1.5, 1],
    [null, 1.6, 1.1],
  ]);
  t.append(epoch, [{ x: 1.5, y: 0 }]);
  assert.equal(t.outOfOrder, 1);
  assert.equal(t.length(), 5);
  assert.deepEqual(t.nearest(epoch, 1.4), { x: 1, y: 1.6 });
  assert.deepEqual(t.last(batch), { x: 2, y: 1 });
  t.replace(batch, [{ x: 3, y: 0.5 }]);
  assert.deepEqual(t.xs, [0.5, 1, 2, 3]);
  assert.deepEqual(t.columns[batch], [null, null, null, 0.5]);
  assert.equal(nearestIndex([], 1), -1);
});

test('the best epoch is the highest accuracy or the lowest loss, the first on ties, NaN skipped', () => {
  const val = [
    { x: 1, y: 0.5 },
    { x: 2, y: 0.8 },
    { x: 3, y: NaN },
    { x: 4, y: 0.8 },
    { x: 5, y: 0.7 },
  ];
  assert.deepEqual(bestEpoch(val, 'max'), { x: 2, y: 0.8 });
  assert.deepEqual(bestEpoch(val, 'min'), { x: 1, y: 0.5 });
  assert.equal(bestEpoch([], 'max'), undefined);
});

test('the readout and tick labels', () => {
  assert.equal(
    readoutText('epoch', 7, [
      { label: 'loss', text: '0.412' },
      { label: 'val', text: '0.398' },
    ]),
    'epoch 7 · loss 0.412 · val 0.398',
  );
  assert.equal(formatEpoch(2.5), '2.50');
  assert.equal(formatTick(0.1 + 0.2), '0.3');
  assert.equal(formatTick(1e-5), '0.00001');
});
