// The one walk that finds the layers a cut keeps (freeze view, model summary, Keras graph trim).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { upstreamLayers } from '../../src/core/layerGraph';

// input -> a -> b -> add <- c <- input; head after add; side branch d from a, not upstream of add.
const INBOUND: Record<string, string[]> = { input: [], a: ['input'], b: ['a'], c: ['input'], add: ['b', 'c'], head: ['add'], d: ['a'] };
const inboundOf = (n: string) => INBOUND[n] ?? [];

test('the cut layer and everything upstream of it, through both branches of a merge, nothing downstream or beside', () => {
  assert.deepEqual([...upstreamLayers('add', inboundOf)].sort(), ['a', 'add', 'b', 'c', 'input']);
  assert.deepEqual([...upstreamLayers('d', inboundOf)].sort(), ['a', 'd', 'input']);
  assert.deepEqual([...upstreamLayers('input', inboundOf)], ['input']);
});

test('a layer reached twice is walked once (a diamond does not loop or repeat)', () => {
  const calls: string[] = [];
  upstreamLayers('head', (n) => (calls.push(n), inboundOf(n)));
  assert.deepEqual(calls.sort(), ['a', 'add', 'b', 'c', 'head', 'input']);
});
