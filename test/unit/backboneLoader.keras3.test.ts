// Backbone loading of Keras 3 topology JSON written by hand (and Keras 2 forms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/engine/tf';
import { loadBackbone, normaliseLayersTopology } from '../../src/engine/backboneLoader';
import { mobileNetLike, tmpDir, saveModel, predictOn, assertClose, opts, layersOf, useBackboneTestEnv } from './backboneLoaderFixtures';
import { dtypePolicy, init, keras3Functional, keras3Twin } from './backboneLoaderKeras3Fixtures';

useBackboneTestEnv();

test('Keras 3 topology JSON (module, registered_name, batch_shape, Functional, {args} nodes) loads', async () => {
  const twin = keras3Twin();
  const expected = predictOn(twin, [8, 8, 3]);
  for (const variant of ['keras-names', 'keras3-var-paths'] as const) {
    const dir = tmpDir(`k3-${variant}`);
    await saveModel(twin, dir, (json) => {
      json.modelTopology = { keras_version: '3.6.0', backend: 'tensorflow', model_config: keras3Functional() };
      if (variant === 'keras3-var-paths') {
        // Keras 3 `.keras` archives (and the converter's output of them) name weights by the
        // layer's class in snake case and an index ("layers/dense/vars/0"); here the layers
        // are named like their classes, as Keras names them by default.
        const perLayer = new Map<string, number>();
        for (const w of json.weightsManifest[0].weights) {
          const layer = w.name.split('/')[0];
          const i = perLayer.get(layer) ?? 0;
          perLayer.set(layer, i + 1);
          w.name = `layers/${layer}/vars/${i}`;
        }
      }
    });
    const loaded = await loadBackbone({ path: dir }, opts());
    const model = layersOf(loaded);
    assertClose(predictOn(model, [8, 8, 3]), expected);
    assert.deepEqual(loaded.inputShape, [8, 8, 3]);
    assert.equal(loaded.cutAt, 'add', 'cut before the pooling + Dense head');
    assert.match(loaded.notes.join(' '), /Keras 3 model config/);
  }
});

test('Keras 3 Sequential (InputLayer inside layers) and Keras 2 model_config/Model load', async () => {
  const t = tf();
  const seq = t.sequential({ name: 'seq' });
  seq.add(t.layers.dense({ inputShape: [6], units: 4, activation: 'relu', name: 'hidden' }));
  seq.add(t.layers.dense({ units: 2, activation: 'softmax', name: 'out' }));
  const expected = predictOn(seq, [6]);
  const dir = tmpDir('k3-seq');
  await saveModel(seq, dir, (json) => {
    json.modelTopology = {
      module: 'keras',
      class_name: 'Sequential',
      config: {
        name: 'sequential',
        trainable: true,
        dtype: dtypePolicy,
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            config: { batch_shape: [null, 6], dtype: 'float32', sparse: false, name: 'input_layer' },
            registered_name: null,
          },
          {
            module: 'keras.layers',
            class_name: 'Dense',
            config: {
              name: 'hidden',
              trainable: true,
              dtype: dtypePolicy,
              units: 4,
              activation: 'relu',
              use_bias: true,
              kernel_initializer: init('GlorotUniform', { seed: null }),
              bias_initializer: init('Zeros'),
            },
            registered_name: null,
            build_config: { input_shape: [null, 6] },
          },
          {
            module: 'keras.layers',
            class_name: 'Dense',
            config: {
              name: 'out',
              trainable: true,
              dtype: dtypePolicy,
              units: 2,
              activation: 'softmax',
              use_bias: true,
              kernel_initializer: init('GlorotUniform', { seed: null }),
              bias_initializer: init('Zeros'),
            },
            registered_name: null,
            build_config: { input_shape: [null, 4] },
          },
        ],
        build_input_shape: [null, 6],
      },
      registered_name: null,
      keras_version: '3.6.0',
    };
  });
  const loaded = await loadBackbone({ path: dir }, opts());
  assertClose(predictOn(layersOf(loaded), [6]), expected);
  assert.equal(loaded.cutAt, 'hidden', 'an MLP is cut at the layer before its classifier');

  // Keras 2 / tf.keras: {"model_config": {"class_name": "Model", ...}} with [[name, 0, 0, {}]] nodes.
  const twin = mobileNetLike();
  const k2 = tmpDir('k2');
  await saveModel(twin, k2, (json) => {
    json.modelTopology = { keras_version: '2.15.0', backend: 'tensorflow', model_config: { ...json.modelTopology, class_name: 'Model' } };
  });
  const k2Loaded = await loadBackbone({ path: k2 }, opts());
  assertClose(predictOn(layersOf(k2Loaded), [16, 16, 3]), predictOn(twin, [16, 16, 3]));
});

test('normaliseLayersTopology rewrites Keras 3 forms to the Keras 2 ones tfjs reads', () => {
  const out = normaliseLayersTopology({ model_config: keras3Functional() }) as {
    class_name: string;
    config: { layers: Record<string, unknown>[]; input_layers: unknown; output_layers: unknown };
  };
  assert.equal(out.class_name, 'Functional');
  assert.deepEqual(out.config.input_layers, [['input_layer', 0, 0]]);
  assert.deepEqual(out.config.output_layers, [['dense', 0, 0]]);
  const [input, conv, bn, add] = out.config.layers as { config: Record<string, unknown>; inbound_nodes: unknown }[];
  assert.deepEqual(input.config.batch_input_shape, [null, 8, 8, 3]);
  assert.equal('batch_shape' in input.config, false);
  assert.equal(conv.config.dtype, 'float32');
  assert.deepEqual(conv.inbound_nodes, [[['input_layer', 0, 0, {}]]]);
  assert.equal('synchronized' in bn.config, false);
  assert.deepEqual(add.inbound_nodes, [
    [
      ['batch_normalization', 0, 0, {}],
      ['conv2d', 0, 0, {}],
    ],
  ]);
  assert.equal(JSON.stringify(out).includes('registered_name'), false);
  assert.equal(JSON.stringify(out).includes('"module"'), false);
});
