// Backbone loading of a hand-written graph model, format detection, tensor leaks, fine-tunability
// and the default cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeGraphModel } from '../fixtures/graphModel';
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../../src/engine/tf';
import { loadBackbone, assertFineTunable, findClassifierCut, detectModelFormat, BackboneError } from '../../src/engine/backboneLoader';
import { LayerError } from '../../src/engine/modelSurgery';
import { mobileNetLike, tmpDir, saveModel, opts, serveDir, layersOf, useBackboneTestEnv, type ST } from './backboneLoaderFixtures';

useBackboneTestEnv();

// --- Graph models ---------------------------------------------------------------------------

test('a graph model loads (path and URL), runs, and refuses fine-tuning', async () => {
  const dir = tmpDir('graph');
  writeGraphModel(dir);
  const local = await loadBackbone({ path: dir }, opts());
  assert.equal(local.kind, 'graph');
  assert.deepEqual(local.inputShape, [8, 8, 3]);
  assert.equal(local.cutAt, 'features');
  const t = tf();
  const out = t.tidy(() => (local.model.predict(t.ones([1, 8, 8, 3])) as tfTypes.Tensor).dataSync());
  assert.deepEqual([...out], [2, 0.5]);
  assert.throws(
    () => assertFineTunable(local, 'fine-tune'),
    (e: unknown) => e instanceof BackboneError && e.field === 'strategy.kind' && /graph model cannot be fine-tuned.*Use "feature-extraction"/.test(e.message),
  );
  assert.throws(() => assertFineTunable(local, 'scratch'), /graph model/);
  assert.doesNotThrow(() => assertFineTunable(local, 'feature-extraction'));
  await assert.rejects(
    loadBackbone({ path: dir, cutAt: 'nope' }, opts()),
    (e: unknown) => e instanceof LayerError && /graph model has no node 'nope'/.test(e.message),
  );
  const inner = await loadBackbone({ path: dir, cutAt: 'mm' }, opts());
  assert.equal(inner.cutAt, 'mm');

  const server = await serveDir(dir);
  try {
    const remote = await loadBackbone({ url: `${server.base}/model.json` }, opts());
    assert.equal(remote.kind, 'graph');
    const y = t.tidy(() => (remote.model.predict(t.ones([1, 8, 8, 3])) as tfTypes.Tensor).dataSync());
    assert.deepEqual([...y], [2, 0.5]);
  } finally {
    await server.close();
  }
});

test('format detection: layers vs graph from format or topology shape', () => {
  assert.equal(detectModelFormat({ format: 'graph-model', modelTopology: {} }), 'graph');
  assert.equal(detectModelFormat({ modelTopology: { node: [] } }), 'graph');
  assert.equal(detectModelFormat({ format: 'layers-model', modelTopology: {} }), 'layers');
  assert.equal(detectModelFormat({ modelTopology: { class_name: 'Sequential', config: {} } }), 'layers');
  assert.equal(detectModelFormat({ modelTopology: { model_config: { class_name: 'Model' } } }), 'layers');
  assert.throws(
    () => detectModelFormat({ modelTopology: { foo: 1 } }, 'x/model.json'),
    /x\/model\.json: cannot tell whether this is a layers or a graph model/,
  );
});

test('loading leaves no tensors behind but the model weights, also when it fails', async () => {
  const t = tf();
  const saved = await saveModel(mobileNetLike(), tmpDir('leak'));
  const before = t.memory().numTensors;
  const loaded = await loadBackbone({ path: saved.dir }, opts());
  assert.equal(t.memory().numTensors - before, layersOf(loaded).weights.length);
  loaded.model.dispose();
  assert.equal(t.memory().numTensors, before);
  await assert.rejects(loadBackbone({ path: saved.dir, cutAt: 'no_such_layer' }, opts()));
  assert.equal(t.memory().numTensors, before, 'a failed load disposes what it built');
});

test('a layers backbone is fine-tunable with any strategy', async () => {
  const saved = await saveModel(mobileNetLike(), tmpDir('ft'));
  const loaded = await loadBackbone({ path: saved.dir }, opts());
  for (const kind of ['feature-extraction', 'fine-tune', 'scratch'] as const) assert.doesNotThrow(() => assertFineTunable(loaded, kind));
});

// --- The default cut ---------------------------------------------------------------------------

test('the default cut skips the classifier head: MobileNet v1 style, MLP, and no-top models', () => {
  const t = tf();
  // MobileNet v1's TF.js head: GAP -> Reshape -> Dropout -> 1x1 Conv2D "conv_preds" -> Reshape -> softmax.
  const input = t.input({ shape: [32, 32, 3] });
  let x = t.layers.conv2d({ filters: 8, kernelSize: 3, strides: 4, padding: 'same', name: 'conv_pw_13' }).apply(input) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'conv_pw_13_relu' }).apply(x) as ST;
  x = t.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }).apply(x) as ST;
  x = t.layers.reshape({ targetShape: [1, 1, 8], name: 'reshape_1' }).apply(x) as ST;
  x = t.layers.dropout({ rate: 0.001, name: 'dropout' }).apply(x) as ST;
  x = t.layers.conv2d({ filters: 10, kernelSize: 1, name: 'conv_preds' }).apply(x) as ST;
  x = t.layers.reshape({ targetShape: [10], name: 'reshape_2' }).apply(x) as ST;
  x = t.layers.activation({ activation: 'softmax', name: 'act_softmax' }).apply(x) as ST;
  assert.deepEqual(findClassifierCut(t.model({ inputs: input, outputs: x })), { cutAt: 'conv_pw_13_relu', removedHead: true });

  // No classifier ("no top", like Teachable Machine's MobileNet v2): cut at the output.
  const noTopIn = t.input({ shape: [8, 8, 3] });
  const noTop = t.layers
    .reLU({ maxValue: 6, name: 'out_relu' })
    .apply(t.layers.conv2d({ filters: 4, kernelSize: 1, name: 'Conv_1' }).apply(noTopIn) as ST) as ST;
  assert.deepEqual(findClassifierCut(t.model({ inputs: noTopIn, outputs: noTop })), { cutAt: 'out_relu', removedHead: false });

  // A model that is only a classifier on its input: nothing sensible to cut, so the output.
  const tiny = t.sequential();
  tiny.add(t.layers.dense({ inputShape: [4], units: 2, name: 'only' }));
  assert.deepEqual(findClassifierCut(tiny), { cutAt: 'only', removedHead: false });
});
