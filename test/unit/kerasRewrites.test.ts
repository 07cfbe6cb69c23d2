// The rewrites of layers TensorFlow.js lacks, on configs as tf_keras (Keras 2) writes them,
// which the Keras fixtures (Keras 3 only: tf_keras is not installable here) cannot cover:
// TFOpLambda arithmetic with its constant in the node's kwargs (MobileNetV3's hard-swish in
// tf_keras), SeparableConv2D with tf_keras's kernel_* keys (Xception, NASNet), and the two
// meanings of hard_sigmoid (Keras 2: 0.2x + 0.5; Keras 3: relu6(x + 3) / 6). Outputs are
// checked against the formula computed directly.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { buildLayersModel } from '../../src/engine/backbone/layersModel';
import type { WeightValue } from '../../src/engine/keras/kerasWeights';

before(async () => {
  await loadBackend({ preference: 'auto', installRoot: path.resolve(__dirname, '../../..') });
});

type Layer = { class_name: string; config: Record<string, unknown>; name: string; inbound_nodes: unknown[] };
const k2 = (class_name: string, name: string, config: Record<string, unknown>, inbound: unknown[][] = []): Layer => ({
  class_name,
  name,
  config: { name, trainable: true, dtype: 'float32', ...config },
  inbound_nodes: inbound.length ? [inbound] : [],
});
const model = (layers: Layer[], output: string) => ({
  class_name: 'Functional',
  config: { name: 'm', layers, input_layers: [['input_1', 0, 0]], output_layers: [[output, 0, 0]] },
});
const input = k2('InputLayer', 'input_1', { batch_input_shape: [null, 4, 4, 2] });

async function build(topology: unknown, weights: Record<string, WeightValue[]> = {}, kerasVersion = '2.15.0'): Promise<tfTypes.LayersModel> {
  const notes: string[] = [];
  const built = await buildLayersModel({ topology, kerasVersion, where: 'test.h5', notes, weightsOf: (l) => weights[l.name] }, undefined);
  return built.model;
}

const x = () => tf().randomUniform([2, 4, 4, 2], -5, 5, 'float32', 3);
const maxDiff = (a: tfTypes.Tensor, b: tfTypes.Tensor) =>
  tf().tidy(
    () =>
      tf()
        .max(tf().abs(tf().sub(a, b)))
        .dataSync()[0],
  );

test('tf_keras TFOpLambda hard-swish (x + 3.0 -> ReLU(6) -> * 1/6 -> Multiply) equals x * relu6(x + 3) / 6', async () => {
  const m = await build(
    model(
      [
        input,
        k2('TFOpLambda', 'tf.__operators__.add', { function: '__operators__.add' }, [['input_1', 0, 0, { y: 3.0, name: null }]]),
        k2('ReLU', 're_lu', { max_value: 6.0, negative_slope: 0.0, threshold: 0.0 }, [['tf.__operators__.add', 0, 0, {}]]),
        k2('TFOpLambda', 'tf.math.multiply', { function: 'math.multiply' }, [['re_lu', 0, 0, { y: 0.16666666666666666, name: null }]]),
        k2('Multiply', 'multiply', {}, [
          ['input_1', 0, 0, {}],
          ['tf.math.multiply', 0, 0, {}],
        ]),
      ],
      'multiply',
    ),
  );
  const v = x();
  const expected = tf().tidy(() => tf().mul(v, tf().div(tf().clipByValue(tf().add(v, 3), 0, 6), 6)));
  assert.ok(maxDiff(m.predict(v) as tfTypes.Tensor, expected) < 1e-6);
  assert.deepEqual(
    m.layers.map((l) => l.getClassName()),
    ['InputLayer', 'Rescaling', 'ReLU', 'Rescaling', 'Multiply'],
    'only stock layers remain',
  );
});

test("SeparableConv2D with tf_keras's kernel_initializer/regularizer/constraint keys loads and runs", async () => {
  const depthwise = new Float32Array(3 * 3 * 2).map((_, i) => (i % 5) / 5 - 0.3);
  const pointwise = new Float32Array(2 * 3).map((_, i) => i / 6 - 0.4);
  const m = await build(
    model(
      [
        input,
        k2(
          'SeparableConv2D',
          'sep',
          {
            filters: 3,
            kernel_size: [3, 3],
            strides: [1, 1],
            padding: 'same',
            depth_multiplier: 1,
            use_bias: false,
            activation: 'linear',
            kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
            kernel_regularizer: null,
            kernel_constraint: null,
            depthwise_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
            pointwise_initializer: { class_name: 'GlorotUniform', config: { seed: null } },
          },
          [['input_1', 0, 0, {}]],
        ),
      ],
      'sep',
    ),
    {
      sep: [
        { name: 'sep/depthwise_kernel:0', shape: [3, 3, 2, 1], data: depthwise },
        { name: 'sep/pointwise_kernel:0', shape: [1, 1, 2, 3], data: pointwise },
      ],
    },
  );
  const v = x();
  const expected = tf().tidy(() =>
    tf().separableConv2d(v as tfTypes.Tensor4D, tf().tensor4d(depthwise, [3, 3, 2, 1]), tf().tensor4d(pointwise, [1, 1, 2, 3]), 1, 'same'),
  );
  assert.ok(maxDiff(m.predict(v) as tfTypes.Tensor, expected) < 1e-5);
});

test('hard_sigmoid means 0.2x + 0.5 in a Keras 2 file and relu6(x + 3) / 6 in a Keras 3 file', async () => {
  const topology = model([input, k2('Activation', 'hs', { activation: 'hard_sigmoid' }, [['input_1', 0, 0, {}]])], 'hs');
  const v = x();
  const keras2 = await build(topology, {}, '2.15.0');
  const keras3 = await build(topology, {}, '3.15.1');
  assert.ok(maxDiff(keras2.predict(v) as tfTypes.Tensor, tf().clipByValue(tf().add(tf().mul(v, 0.2), 0.5), 0, 1)) < 1e-6, 'Keras 2');
  assert.ok(maxDiff(keras3.predict(v) as tfTypes.Tensor, tf().div(tf().clipByValue(tf().add(v, 3), 0, 6), 6)) < 1e-6, 'Keras 3');
});

test('an operation Transfer Lab cannot express names the layer and says to cut before it', async () => {
  await assert.rejects(
    build(
      model(
        [input, k2('TFOpLambda', 'tf.math.reduce_logsumexp', { function: 'math.reduce_logsumexp' }, [['input_1', 0, 0, { axis: -1 }]])],
        'tf.math.reduce_logsumexp',
      ),
    ),
    (e: Error) =>
      /layer 'tf\.math\.reduce_logsumexp' \(TFOpLambda\) is the operation 'math\.reduce_logsumexp'/.test(e.message) &&
      /cut the model before it with backbone\.cutAt/i.test(e.message),
  );
});
