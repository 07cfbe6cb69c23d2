// Keras 3 topology JSON written by hand for backboneLoader.keras3.test.ts, and the same
// network built with tfjs for its weights and reference outputs.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../../src/engine/tf';
import type { ST } from './backboneLoaderFixtures';

export const dtypePolicy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
export const init = (cls: string, config: Record<string, unknown> = {}) => ({ module: 'keras.initializers', class_name: cls, config, registered_name: null });
const kt = (layer: string, shape: (number | null)[]) => ({
  class_name: '__keras_tensor__',
  config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] },
});
const k3 = (cls: string, name: string, config: Record<string, unknown>, args?: unknown, inputShape?: unknown) => ({
  module: 'keras.layers',
  class_name: cls,
  config: { name, trainable: true, dtype: dtypePolicy, ...config },
  registered_name: null,
  ...(inputShape ? { build_config: { input_shape: inputShape } } : {}),
  name,
  inbound_nodes: args === undefined ? [] : [{ args: [args], kwargs: cls === 'BatchNormalization' ? { training: false, mask: null } : {} }],
});

/** The input layer: Keras 3 writes `batch_shape` where Keras 2 wrote `batch_input_shape`. */
const inputLayer = () => ({
  module: 'keras.layers',
  class_name: 'InputLayer',
  config: { batch_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, name: 'input_layer', optional: false },
  registered_name: null,
  name: 'input_layer',
  inbound_nodes: [],
});

const conv2dLayer = () =>
  k3(
    'Conv2D',
    'conv2d',
    {
      filters: 4,
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      data_format: 'channels_last',
      dilation_rate: [1, 1],
      groups: 1,
      activation: 'relu',
      use_bias: true,
      kernel_initializer: init('GlorotUniform', { seed: null }),
      bias_initializer: init('Zeros'),
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      quantization_config: null,
    },
    kt('input_layer', [null, 8, 8, 3]),
    [null, 8, 8, 3],
  );

const batchNormLayer = () =>
  k3(
    'BatchNormalization',
    'batch_normalization',
    {
      axis: -1,
      momentum: 0.99,
      epsilon: 0.001,
      center: true,
      scale: true,
      beta_initializer: init('Zeros'),
      gamma_initializer: init('Ones'),
      moving_mean_initializer: init('Zeros'),
      moving_variance_initializer: init('Ones'),
      beta_regularizer: null,
      gamma_regularizer: null,
      beta_constraint: null,
      gamma_constraint: null,
      synchronized: false,
    },
    kt('conv2d', [null, 8, 8, 4]),
    [null, 8, 8, 4],
  );

/** The residual Add: one node with two inputs. */
const addLayer = () =>
  k3(
    'Add',
    'add',
    {},
    [kt('batch_normalization', [null, 8, 8, 4]), kt('conv2d', [null, 8, 8, 4])],
    [
      [null, 8, 8, 4],
      [null, 8, 8, 4],
    ],
  );

const poolLayer = () =>
  k3('GlobalAveragePooling2D', 'global_average_pooling2d', { data_format: 'channels_last', keepdims: false }, kt('add', [null, 8, 8, 4]), [null, 8, 8, 4]);

const denseLayer = () =>
  k3(
    'Dense',
    'dense',
    {
      units: 3,
      activation: 'softmax',
      use_bias: true,
      kernel_initializer: init('GlorotUniform', { seed: null }),
      bias_initializer: init('Zeros'),
      kernel_regularizer: null,
      bias_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      lora_rank: null,
    },
    kt('global_average_pooling2d', [null, 4]),
    [null, 4],
  );

/** A Keras 3 `Functional` model config as Keras 3.x writes it, with a residual Add (two inputs). */
export function keras3Functional() {
  return {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [inputLayer(), conv2dLayer(), batchNormLayer(), addLayer(), poolLayer(), denseLayer()],
      input_layers: ['input_layer', 0, 0],
      output_layers: ['dense', 0, 0],
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
}

/** The same network built with tfjs (same names), for its weights and reference outputs. */
export function keras3Twin(): tfTypes.LayersModel {
  const t = tf();
  const input = t.input({ shape: [8, 8, 3], name: 'input_layer' });
  const conv = t.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv2d' }).apply(input) as ST;
  const bn = t.layers.batchNormalization({ name: 'batch_normalization' }).apply(conv) as ST;
  const add = t.layers.add({ name: 'add' }).apply([bn, conv]) as ST;
  const pool = t.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(add) as ST;
  const out = t.layers.dense({ units: 3, activation: 'softmax', name: 'dense' }).apply(pool) as ST;
  const model = t.model({ inputs: input, outputs: out });
  const bnLayer = model.getLayer('batch_normalization');
  bnLayer.setWeights(bnLayer.getWeights().map((w, i) => t.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5, 'float32', 3 + i)));
  return model;
}
