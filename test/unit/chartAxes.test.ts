// The chart's x axes (webview/lib/chartAxes.ts): log ticks of sizes for the Study panel,
// named categories for the probe, the epoch axis unchanged, and the bands' series layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandLayout, categoryLabel, categoryTicks, logXRange, logXTicks, translucent, xAxisFor } from '../../webview/lib/chartAxes';
import { readoutText } from '../../webview/lib/chartData';

test('log x ticks are 1-2-5 per decade, thinned to 1-5 and then decades when crowded', () => {
  assert.deepEqual(logXTicks(5, 100, 8), [5, 10, 20, 50, 100]);
  assert.deepEqual(logXTicks(2, 8, 8), [2, 5]);
  assert.deepEqual(logXTicks(1, 10000, 13), [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]);
  assert.deepEqual(logXTicks(1, 10000, 9), [1, 5, 10, 50, 100, 500, 1000, 5000, 10000]);
  assert.deepEqual(logXTicks(1, 10000, 5), [1, 10, 100, 1000, 10000]);
  assert.deepEqual(logXTicks(1, 1e8, 3), [1, 1000, 1e6], 'decades, every third, when even they do not fit');
  assert.deepEqual(logXTicks(0, 10, 5), [], 'no ticks at or below zero on a log axis');
});

test('a log x range pads the data by a quarter each side, a single size by a factor of two', () => {
  assert.deepEqual(logXRange(4, 40), [3.2, 50]);
  assert.deepEqual(logXRange(10, 10), [5, 20]);
  assert.deepEqual(logXRange(0, 10), [1, 10]);
  const axis = xAxisFor({ logX: true });
  assert.equal(axis.distr, 3);
  assert.deepEqual(axis.range(4, 40, 4, 40), [3.2, 50]);
  assert.deepEqual(axis.range(6, 20, 4, 40), [6, 20], 'a dragged zoom is kept');
});

test('fixed x ticks (the sizes a study ran) are kept inside the range and formatted by xFormat', () => {
  const names = new Map([
    [2, '2'],
    [4, '4'],
    [12.5, 'all'],
  ]);
  const axis = xAxisFor({ logX: true, xTicks: [...names.keys()], xFormat: (x) => names.get(x) ?? String(x) });
  assert.deepEqual(axis.ticks(1.6, 15.6, 8), [2, 4, 12.5]);
  assert.deepEqual(axis.ticks(3, 15.6, 8), [4, 12.5]);
  assert.deepEqual(axis.ticks(1.6, 15.6, 2), [2, 12.5], 'every other tick when only two fit');
  assert.equal(axis.tick(12.5), 'all');
  assert.equal(readoutText('images per class', 12.5, [{ label: 'scratch', text: '80%' }], axis.readout), 'images per class all · scratch 80%');
});

test('categorical x: names at 0..n-1, the range a half step past each end, ticks thinned', () => {
  const blocks = ['stem', 'block1', 'block2', 'block3', 'head'];
  const axis = xAxisFor({ xCategories: blocks });
  assert.deepEqual(axis.range(0, 4, 0, 4), [-0.5, 4.5]);
  assert.deepEqual(axis.ticks(-0.5, 4.5, 10), [0, 1, 2, 3, 4]);
  assert.deepEqual(
    axis.ticks(-0.5, 4.5, 10).map((x) => axis.tick(x)),
    blocks,
  );
  assert.deepEqual(categoryTicks(5, -0.5, 4.5, 2), [0, 3]);
  assert.deepEqual(categoryTicks(5, 1.2, 3.8, 10), [2, 3], 'a zoom shows the categories inside it');
  assert.equal(categoryLabel(blocks, 1.5), '', 'no name between categories');
  assert.equal(categoryLabel(blocks, 7), '');
  assert.equal(axis.readout(2), 'block2');
  assert.deepEqual(xAxisFor({ xCategories: ['only'] }).range(0, 0, 0, 0), [-0.5, 0.5]);
});

test('the epoch axis is unchanged: whole epochs, ticks that read as numbers, fractional epochs in the readout', () => {
  const axis = xAxisFor({});
  assert.equal(axis.distr, 1);
  assert.deepEqual(axis.range(0.1, 5, 0.1, 5), [0, 5]);
  assert.deepEqual(axis.ticks(0, 6, 12), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(axis.readout(2.5), '2.50');
  assert.equal(readoutText('epoch', 3, []), 'epoch 3');
});

test('bands fill from the upper edge to the lower one, in uPlot numbering; their edges belong to the series', () => {
  const specs = [
    { key: 'a-min' },
    { key: 'a-max' },
    { key: 'a', band: { lower: 'a-min', upper: 'a-max' } },
    { key: 'b' },
    { key: 'c-lo' },
    { key: 'c-hi' },
    { key: 'c', band: { lower: 'c-lo', upper: 'c-hi' } },
  ];
  const { bands, edgeOwner } = bandLayout('Test accuracy', specs);
  assert.deepEqual(bands, [
    { owner: 2, series: [2, 1] },
    { owner: 6, series: [6, 5] },
  ]);
  assert.deepEqual(
    [...edgeOwner].sort((x, y) => x[0] - y[0]),
    [
      [0, 2],
      [1, 2],
      [4, 6],
      [5, 6],
    ],
  );
  assert.throws(() => bandLayout('Test accuracy', [{ key: 'a', band: { lower: 'a-min', upper: 'a-max' } }]), /Test accuracy.*"a".*"a-min".*not defined/);
});

test('a band is its series colour made translucent', () => {
  assert.equal(translucent('#3794ff', 0.18), 'rgba(55, 148, 255, 0.18)');
  assert.equal(translucent('rgba(10, 20, 30, 0.5)', 0.2), 'rgba(10, 20, 30, 0.1)');
  assert.equal(translucent('var(--x)', 0.2), 'var(--x)');
});
