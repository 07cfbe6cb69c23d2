import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freezeView, blockOf } from '../../src/core/freezeView';
import type { LayerRow } from '../../src/core/layerSummary';

const row = (name: string, inbound: string[], params = 10, className = 'Conv2D'): LayerRow => ({
  index: 0,
  name,
  className,
  outputShape: [null, 4],
  params,
  trainable: true,
  inbound,
  isCut: false,
  afterCut: false,
});
const rows = [
  row('input', [], 0, 'InputLayer'),
  row('stem_conv', ['input']),
  row('block_1_dw', ['stem_conv']),
  row('block_2_dw', ['block_1_dw']),
  row('out_relu', ['block_2_dw'], 0, 'ReLU'),
  row('predictions', ['out_relu'], 50, 'Dense'),
];

test('the freeze view follows the strategy and the cut', () => {
  const fe = freezeView(rows, 'out_relu', { kind: 'feature-extraction' });
  assert.deepEqual(fe.states, ['input', 'frozen', 'frozen', 'frozen', 'frozen', 'after-cut']);
  assert.equal(fe.trainableParams, 0);
  assert.equal(fe.frozenParams, 30);
  const ft = freezeView(rows, 'out_relu', { kind: 'fine-tune', unfreezeFrom: 'block_2_dw' });
  assert.deepEqual(ft.states, ['input', 'frozen', 'frozen', 'trainable', 'trainable', 'after-cut']);
  assert.equal(ft.boundary, 'block_2_dw');
  assert.deepEqual(freezeView(rows, 'out_relu', { kind: 'fine-tune', unfreezeLast: 1 }).states.filter((s) => s === 'trainable').length, 1);
  assert.deepEqual(freezeView(rows, 'block_1_dw', { kind: 'scratch' }).states, ['input', 'trainable', 'trainable', 'after-cut', 'after-cut', 'after-cut']);
  assert.equal(blockOf('block_13_expand_bn'), 'block_13');
  assert.equal(blockOf('conv2_block1_1_conv'), 'conv2_block1');
  assert.equal(blockOf('predictions'), undefined);
});
