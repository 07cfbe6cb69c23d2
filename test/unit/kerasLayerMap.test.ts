// The TF.js -> Keras 3 layer map: what each class becomes in config.json, the variable order
// Keras 3 keeps, and the clear refusals (a class, an activation or a key with no Keras 3
// equivalent that computes the same) naming the layer.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { kerasModelParts } from '../../src/engine/keras/kerasConfigWriter';
import { KerasExportError, kerasLayerConfig, kerasVariableOrder } from '../../src/engine/keras/kerasLayerMap';

const installRoot = path.resolve(__dirname, '../../..');
before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
});

type Json = Record<string, unknown>;

test('a small functional model: Keras 3 entries, tensors with shapes, merge inputs as one list, paths numbered per class', () => {
  const t = tf();
  const input = t.input({ shape: [8, 8, 3], name: 'pixels' });
  const a = t.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tfTypes.SymbolicTensor;
  const b = t.layers.conv2d({ filters: 4, kernelSize: 1, name: 'c2', useBias: false }).apply(input) as tfTypes.SymbolicTensor;
  const sum = t.layers.add({ name: 'sum' }).apply([a, b]) as tfTypes.SymbolicTensor;
  const bn = t.layers.batchNormalization({ name: 'bn' }).apply(sum) as tfTypes.SymbolicTensor;
  const pool = t.layers.globalAveragePooling2d({ name: 'pool' }).apply(bn) as tfTypes.SymbolicTensor;
  const out = t.layers.dense({ units: 2, activation: 'softmax', name: 'out', kernelInitializer: t.initializers.glorotUniform({ seed: 7 }) }).apply(pool);
  const model = t.model({ inputs: input, outputs: out as tfTypes.SymbolicTensor, name: 'tiny' });
  const parts = kerasModelParts(model);
  const config = parts.config.config as { layers: Json[]; input_layers: unknown; output_layers: unknown };
  assert.equal(parts.config.class_name, 'Functional');
  assert.deepEqual(config.input_layers, ['pixels', 0, 0]);
  assert.deepEqual(config.output_layers, ['out', 0, 0]);
  assert.deepEqual(
    parts.layers.map((l) => l.path),
    ['layers/input_layer', 'layers/conv2d', 'layers/conv2d_1', 'layers/add', 'layers/batch_normalization', 'layers/global_average_pooling2d', 'layers/dense'],
  );
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  assert.deepEqual((byName.get('pixels')!.config as Json).batch_shape, [null, 8, 8, 3]);
  const sumNode = (byName.get('sum')!.inbound_nodes as { args: Json[][] }[])[0];
  assert.equal(sumNode.args.length, 1, 'Add takes one list of tensors');
  assert.deepEqual(
    sumNode.args[0].map((x) => (x.config as Json).keras_history),
    [
      ['c1', 0, 0],
      ['c2', 0, 0],
    ],
  );
  assert.deepEqual((sumNode.args[0][0].config as Json).shape, [null, 8, 8, 4]);
  const dense = byName.get('out')!.config as Json;
  assert.equal(dense.activation, 'softmax');
  assert.deepEqual(dense.kernel_initializer, {
    module: 'keras.initializers',
    class_name: 'VarianceScaling',
    config: { scale: 1, mode: 'fan_avg', distribution: 'uniform', seed: null },
    registered_name: null,
  });
  assert.equal(byName.get('c1')!.module, 'keras.layers');
  // Variables: kernel then bias; BatchNormalization gamma, beta, moving mean, moving variance; c2 has no bias.
  assert.deepEqual(
    parts.layers.map((l) => l.values.length),
    [0, 2, 1, 0, 4, 0, 2],
  );
  assert.deepEqual(parts.layers[1].values[0].shape, [3, 3, 3, 4]);
  assert.deepEqual(parts.layers[4].values[3].data, new Float32Array(4).fill(1), 'moving variance last');
});

test('refusals name the layer and what to do', () => {
  const t = tf();
  const input = t.input({ shape: [4] });
  const hard = t.layers.dense({ units: 2, activation: 'hardSigmoid', name: 'gate' }).apply(input) as tfTypes.SymbolicTensor;
  assert.throws(
    () => kerasModelParts(t.model({ inputs: input, outputs: hard })),
    (e: Error) =>
      e instanceof KerasExportError && /layer 'gate' \(Dense\): activation 'hard_sigmoid'/.test(e.message) && /export as TF\.js layers/.test(e.message),
  );
  assert.throws(() => kerasLayerConfig('GRU', 'rnn', {}), /layer 'rnn' \(GRU\): Transfer Lab cannot write this layer class for Keras 3/);
  assert.throws(() => kerasLayerConfig('Dense', 'd', { units: 2, surprise: 3 }), /layer 'd' \(Dense\): its 'surprise' \(3\) has no Keras 3 equivalent/);
  assert.throws(() => kerasVariableOrder('Dense', 'd', ['d/kernel', 'd/extra']), /weight\(s\) extra have no place in Keras 3's Dense/);
  assert.deepEqual(kerasVariableOrder('BatchNormalization', 'bn', ['bn/moving_mean', 'bn/moving_variance', 'bn/gamma', 'bn/beta']), [2, 3, 0, 1]);
  assert.deepEqual(kerasLayerConfig('LeakyReLU', 'lr', { alpha: 0.1 }).negative_slope, 0.1);
});
