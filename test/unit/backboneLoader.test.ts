// Backbone loading on a MobileNet-like layers model built in code, saved as model.json +
// weights.bin, loaded from a path and from a URL on 127.0.0.1 (then offline from the cache);
// broken and hostile model folders. Keras 3 topology, graph models, the default cut, the
// catalog and the layer table are in the other backboneLoader.*.test.ts files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBackbone, modelJsonUrlFor, BackboneError, type LoadedBackbone } from '../../src/engine/backboneLoader';
import { LayerError } from '../../src/engine/modelSurgery';
import { ModelDownloadError, cachedModelInfo, cachedBlobFile } from '../../src/engine/modelCache';
import { findCatalogEntryByUrl } from '../../src/core/backboneCatalog';
import { mobileNetLike, tmpDir, saveModel, predictOn, assertClose, opts, serveDir, layersOf, useBackboneTestEnv, type Saved } from './backboneLoaderFixtures';

useBackboneTestEnv();

test('a local model.json loads with its weights; the default cut is before the classifier head', async () => {
  const original = mobileNetLike();
  const saved = await saveModel(original, tmpDir('path'));
  const loaded = await loadBackbone({ path: path.join(saved.dir, 'model.json') }, opts());
  const model = layersOf(loaded);
  assertClose(predictOn(model, [16, 16, 3]), predictOn(original, [16, 16, 3]));
  assert.deepEqual(loaded.inputShape, [16, 16, 3]);
  assert.equal(loaded.cutAt, 'features');
  assert.equal(loaded.cutFrom, 'classifier head removed');
  assert.equal(loaded.fromCache, false);
  // Named like Keras's MobileNet v1, so its preprocessing is guessed (and said).
  assert.equal(loaded.preprocessingFrom, 'architecture (guessed)');
  assert.equal(loaded.preprocessing.mode, 'tf');
  assert.ok(
    loaded.notes.some((n) => /Preprocessing guessed from the model: "tf" \(MobileNet \(v1\) layer names/.test(n)),
    loaded.notes.join('\n'),
  );
  // A folder works too, and relative paths resolve against baseDir.
  const byFolder = await loadBackbone({ path: path.basename(saved.dir), cutAt: 'conv_dw_1_relu' }, { ...opts(), baseDir: path.dirname(saved.dir) });
  assert.equal(byFolder.cutAt, 'conv_dw_1_relu');
  assert.equal(byFolder.cutFrom, 'spec');
  // An exported Transfer Lab model carries its value range in preprocessing.json.
  fs.writeFileSync(path.join(saved.dir, 'preprocessing.json'), JSON.stringify({ valueRange: [-1, 1] }));
  const withPre = await loadBackbone({ path: saved.dir }, opts());
  assert.equal(withPre.preprocessing.mode, 'tf', '[-1, 1] is Keras\'s "tf" mode');
  assert.deepEqual(withPre.preprocessing.offset, [-1, -1, -1]);
  assert.equal(withPre.preprocessingFrom, 'preprocessing.json');
  // Version 2 (what exports write now) names the mode, which a range cannot say for caffe.
  fs.writeFileSync(
    path.join(saved.dir, 'preprocessing.json'),
    JSON.stringify({ format: 'transfer-lab-preprocessing', version: 2, mode: 'caffe', channelOrder: 'bgr' }),
  );
  const v2 = await loadBackbone({ path: saved.dir }, opts());
  assert.equal(v2.preprocessing.mode, 'caffe');
  assert.equal(v2.preprocessingFrom, 'preprocessing.json');
  v2.model.dispose();
});

test('a URL on 127.0.0.1 loads with progress, then offline from the cache', async () => {
  const original = mobileNetLike();
  const saved = await saveModel(original, tmpDir('url'));
  const server = await serveDir(saved.dir);
  const cacheDir = tmpDir('url-cache');
  const url = `${server.base}/model.json`;
  const progress: [number, number | undefined][] = [];
  let online: LoadedBackbone;
  try {
    online = await loadBackbone({ url }, { ...opts(cacheDir), onProgress: (l, t) => progress.push([l, t]) });
  } finally {
    await server.close();
  }
  assert.ok(progress.length >= 1, 'progress reported');
  assert.equal(progress.at(-1)![0], fs.statSync(path.join(saved.dir, 'model.json')).size + saved.weights.length);
  assert.equal(online.offline, false);
  assert.equal(online.source, url);
  const expected = predictOn(original, [16, 16, 3]);
  assertClose(predictOn(layersOf(online), [16, 16, 3]), expected);
  assert.ok(cachedModelInfo(cacheDir, url), 'indexed');

  const offline = await loadBackbone({ url }, { ...opts(cacheDir), download: { stallTimeoutMs: 2_000 } });
  assert.equal(offline.offline, true);
  assert.match(offline.notes.join(' '), /using the copy cached/);
  assertClose(predictOn(layersOf(offline), [16, 16, 3]), expected);

  // A corrupt blob is detected (offline: reported with the file to delete).
  const info = cachedModelInfo(cacheDir, url)!;
  const blob = cachedBlobFile(cacheDir, info.weights[0].sha256);
  fs.appendFileSync(blob, 'x');
  await assert.rejects(
    loadBackbone({ url }, { ...opts(cacheDir), download: { stallTimeoutMs: 2_000 } }),
    (e: unknown) => e instanceof ModelDownloadError && e.kind === 'corrupt-cache' && e.message.includes(blob),
  );
});

test('TF Hub semantics: model.json?tfjs-format=file, and the same query on every weight file', async () => {
  assert.equal(
    modelJsonUrlFor('https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v3_small_100_224/feature_vector/5/default/1'),
    'https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v3_small_100_224/feature_vector/5/default/1/model.json?tfjs-format=file',
  );
  assert.equal(
    modelJsonUrlFor('https://www.kaggle.com/models/google/mobilenet-v3/TfJs/small-100-224-feature-vector/1/'),
    'https://www.kaggle.com/models/google/mobilenet-v3/TfJs/small-100-224-feature-vector/1/model.json?tfjs-format=file',
  );
  assert.equal(modelJsonUrlFor('https://example.com/m/model.json'), 'https://example.com/m/model.json');
  assert.equal(
    findCatalogEntryByUrl('https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v3_small_100_224/feature_vector/5/default/1')?.id,
    'mobilenet_v3_small_100_224_feature_vector',
  );
  const saved = await saveModel(mobileNetLike(), tmpDir('hub'));
  const server = await serveDir(saved.dir, 'tfjs-format=file'); // 404 without the query
  try {
    const loaded = await loadBackbone({ url: `${server.base}/model.json?tfjs-format=file` }, opts());
    assert.equal(loaded.kind, 'layers');
    assert.deepEqual(server.requests, ['/model.json?tfjs-format=file', '/weights.bin?tfjs-format=file']);
  } finally {
    await server.close();
  }
});

test('weight paths that leave the model folder are refused, naming the path (local and URL)', async () => {
  const dir = tmpDir('escape');
  await saveModel(mobileNetLike(), dir, (json) => {
    json.weightsManifest[0].paths = ['../../etc/passwd'];
  });
  await assert.rejects(
    loadBackbone({ path: dir }, opts()),
    (e: unknown) => e instanceof ModelDownloadError && e.kind === 'weight-path' && e.message.includes("weight path '../../etc/passwd' is not allowed"),
  );
  for (const bad of ['/etc/passwd', 'https://evil.example/w.bin']) {
    const d = tmpDir('escape2');
    await saveModel(mobileNetLike(), d, (json) => {
      json.weightsManifest[0].paths = [bad];
    });
    await assert.rejects(loadBackbone({ path: d }, opts()), (e: unknown) => e instanceof Error && e.message.includes(`'${bad}'`));
  }
  // A symlink inside the folder that points outside it is refused as well.
  const linked = tmpDir('symlink');
  await saveModel(mobileNetLike(), linked);
  const outside = path.join(tmpDir('outside'), 'secret.bin');
  fs.copyFileSync(path.join(linked, 'weights.bin'), outside);
  fs.rmSync(path.join(linked, 'weights.bin'));
  fs.symlinkSync(outside, path.join(linked, 'weights.bin'));
  await assert.rejects(loadBackbone({ path: linked }, opts()), /weight path 'weights\.bin' is not allowed \(it is a link to/);

  const server = await serveDir(dir);
  try {
    await assert.rejects(loadBackbone({ url: `${server.base}/model.json` }, opts()), /weight path '\.\.\/\.\.\/etc\/passwd' is not allowed/);
  } finally {
    await server.close();
  }
});

test('missing and truncated weight files, and weights from another model, give errors naming the file', async () => {
  const missing = await saveModel(mobileNetLike(), tmpDir('missing'));
  fs.rmSync(path.join(missing.dir, 'weights.bin'));
  await assert.rejects(
    loadBackbone({ path: missing.dir }, opts()),
    (e: unknown) => e instanceof BackboneError && /weight file 'weights\.bin' is missing .*Copy every file of the model folder/.test(e.message),
  );

  const truncated = await saveModel(mobileNetLike(), tmpDir('truncated'));
  fs.writeFileSync(path.join(truncated.dir, 'weights.bin'), truncated.weights.subarray(0, truncated.weights.length - 100));
  await assert.rejects(
    loadBackbone({ path: truncated.dir }, opts()),
    (e: unknown) =>
      e instanceof BackboneError &&
      new RegExp(
        `weight file 'weights\\.bin' is truncated: ${truncated.weights.length - 100} bytes, but model\\.json describes ${truncated.weights.length}`,
      ).test(e.message),
  );

  // Topology of an 8-filter stem with the weights (and manifest) of a 4-filter one.
  const small = await saveModel(mobileNetLike(4), tmpDir('small'));
  const big = await saveModel(mobileNetLike(8), tmpDir('big'));
  const mixed = tmpDir('mixed');
  fs.writeFileSync(path.join(mixed, 'model.json'), JSON.stringify({ ...big.modelJson, weightsManifest: small.modelJson.weightsManifest }));
  fs.writeFileSync(path.join(mixed, 'weights.bin'), small.weights);
  await assert.rejects(
    loadBackbone({ path: mixed }, opts()),
    (e: unknown) =>
      e instanceof BackboneError &&
      /weights do not match the model's layers: layer 'conv1' weight 'conv1\/kernel' has shape \[3, 3, 3, 4\] in the weight files but \[3, 3, 3, 8\] in the topology/.test(
        e.message,
      ),
  );

  // A manifest entry no layer owns.
  const extra = await saveModel(mobileNetLike(), tmpDir('extra'), (json) => {
    json.weightsManifest[0].weights[0].name = 'someone_else/kernel';
  });
  await assert.rejects(
    loadBackbone({ path: extra.dir }, opts()),
    /weights do not match the model's layers: 1 weight\(s\) in the weight files belong to no layer \('someone_else\/kernel'\)/,
  );
});

test('an unsupported layer class names the layer and class; cutting before it loads the rest', async () => {
  const edit = (json: Saved['modelJson']) => {
    const layers = (json.modelTopology.config as { layers: { class_name: string; name: string }[] }).layers;
    const dropout = layers.find((l) => l.name === 'dropout')!;
    dropout.class_name = 'MyCustomLayer';
  };
  const saved = await saveModel(mobileNetLike(), tmpDir('custom'), edit);
  await assert.rejects(
    loadBackbone({ path: saved.dir }, opts()),
    (e: unknown) =>
      e instanceof BackboneError &&
      e.message.includes(
        "Layer 'dropout' has class 'MyCustomLayer', which TensorFlow.js does not support. Replace it or cut the model before it with backbone.cutAt.",
      ),
  );
  const cut = await loadBackbone({ path: saved.dir, cutAt: 'features' }, opts());
  const model = layersOf(cut);
  assert.equal(model.layers.at(-1)!.name, 'features');
  assert.match(cut.notes.join(' '), /dropout: MyCustomLayer/);
  // A cut after the unsupported layer cannot help: still the clear error.
  await assert.rejects(loadBackbone({ path: saved.dir, cutAt: 'predictions' }, opts()), /Layer 'dropout' has class 'MyCustomLayer'/);
});

test('an unknown cutAt names the layer and suggests near names', async () => {
  const saved = await saveModel(mobileNetLike(), tmpDir('cutat'));
  await assert.rejects(
    loadBackbone({ path: saved.dir, cutAt: 'feature' }, opts()),
    (e: unknown) => e instanceof LayerError && e.field === 'backbone.cutAt' && /no layer 'feature'.*Did you mean 'features'/.test(e.message),
  );
});
