// Backbone loading on real models built in code: a MobileNet-like layers model saved as
// model.json + weights.bin, loaded from a path and from a URL on 127.0.0.1 (then offline
// from the cache); broken and hostile model folders; Keras 3 topology JSON written by hand;
// a hand-written graph model; the default cut; and the layer table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeGraphModel } from '../fixtures/graphModel';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import {
  loadBackbone,
  assertFineTunable,
  findClassifierCut,
  detectModelFormat,
  modelJsonUrlFor,
  normaliseLayersTopology,
  BackboneError,
  type LoadedBackbone,
} from '../../src/engine/backboneLoader';
import { summarizeLayers, formatLayerTable } from '../../src/engine/modelSummary';
import { LayerError } from '../../src/engine/modelSurgery';
import { ModelDownloadError, cachedModelInfo, cachedBlobFile } from '../../src/engine/modelCache';
import { BACKBONE_CATALOG, findCatalogEntry, findCatalogEntryByUrl } from '../../src/core/backboneCatalog';
import { PREPROCESSING_MODES } from '../../src/core/preprocessing';

const installRoot = path.resolve(__dirname, '../../..');

before(async () => {
  await loadBackend({ preference: (process.env.TL_TEST_BACKEND as 'cpu') ?? 'auto', installRoot });
});

type ST = tfTypes.SymbolicTensor;

/** MobileNet-like: conv/BN/ReLU6 stem, a depthwise-separable block, then GAP + Dropout + Dense softmax. */
function mobileNetLike(filters = 8): tfTypes.LayersModel {
  const t = tf();
  const input = t.input({ shape: [16, 16, 3], name: 'input_1' });
  let x = t.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'conv1' }).apply(input) as ST;
  x = t.layers.batchNormalization({ name: 'conv1_bn' }).apply(x) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'conv1_relu' }).apply(x) as ST;
  x = t.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'conv_dw_1' }).apply(x) as ST;
  x = t.layers.batchNormalization({ name: 'conv_dw_1_bn' }).apply(x) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'conv_dw_1_relu' }).apply(x) as ST;
  x = t.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false, name: 'conv_pw_1' }).apply(x) as ST;
  x = t.layers.batchNormalization({ name: 'conv_pw_1_bn' }).apply(x) as ST;
  x = t.layers.reLU({ maxValue: 6, name: 'features' }).apply(x) as ST;
  x = t.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as ST;
  x = t.layers.dropout({ rate: 0.2, name: 'dropout' }).apply(x) as ST;
  x = t.layers.dense({ units: 5, activation: 'softmax', name: 'predictions' }).apply(x) as ST;
  const model = t.model({ inputs: input, outputs: x, name: 'mobilenet_like' });
  // Non-trivial BatchNorm statistics, so a model that skipped loading them would differ.
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    layer.setWeights(layer.getWeights().map((w, i) => t.randomUniform(w.shape, i === 3 ? 0.5 : -0.5, i === 3 ? 2 : 0.5, 'float32', 7 + i)));
  }
  return model;
}

interface Saved {
  dir: string;
  modelJson: Record<string, unknown> & {
    modelTopology: Record<string, unknown>;
    weightsManifest: { paths: string[]; weights: tfTypes.io.WeightsManifestEntry[] }[];
  };
  weights: Buffer;
}

const tmpDirs: string[] = [];
function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tl-bb-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Saves a layers model as model.json + weights.bin; `edit` may change model.json before it is written. */
async function saveModel(model: tfTypes.LayersModel, dir: string, edit?: (json: Saved['modelJson']) => void): Promise<Saved> {
  const t = tf();
  let saved: Saved | undefined;
  await model.save(
    t.io.withSaveHandler(async (artifacts) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: 'test',
        convertedBy: null,
        modelTopology: artifacts.modelTopology as Record<string, unknown>,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      edit?.(modelJson);
      const weights = Buffer.from(artifacts.weightData as ArrayBuffer);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      fs.writeFileSync(path.join(dir, 'weights.bin'), weights);
      saved = { dir, modelJson, weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

function predictOn(model: tfTypes.LayersModel | tfTypes.GraphModel, shape: number[]): Float32Array {
  const t = tf();
  return t.tidy(() => {
    const x = t.randomUniform([2, ...shape], -1, 1, 'float32', 42);
    const y = model.predict(x) as tfTypes.Tensor;
    return y.dataSync() as Float32Array;
  });
}

function assertClose(a: Float32Array, b: Float32Array, tol = 1e-5): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
}

const opts = (cacheDir = tmpDir('cache')) => ({ installRoot, cacheDir });

interface Server {
  base: string;
  requests: string[];
  close(): Promise<void>;
}

/** Serves a folder over HTTP on 127.0.0.1 (optionally requiring a query on every request). */
async function serveDir(dir: string, requireQuery?: string): Promise<Server> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const [p, q] = (req.url ?? '').split('?');
    const file = path.join(dir, decodeURIComponent(p).replace(/^\/+/, ''));
    if ((requireQuery && q !== requireQuery) || !file.startsWith(dir) || !fs.existsSync(file)) return void res.writeHead(404).end();
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length });
    // In pieces, so progress has something to report.
    let i = 0;
    const next = () => {
      if (i >= body.length) return void res.end();
      res.write(body.subarray(i, (i += 8192)));
      setImmediate(next);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const layersOf = (b: LoadedBackbone) => {
  assert.equal(b.kind, 'layers');
  return b.model as tfTypes.LayersModel;
};

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

// --- Keras 3 ---------------------------------------------------------------------------------

const dtypePolicy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };
const init = (cls: string, config: Record<string, unknown> = {}) => ({ module: 'keras.initializers', class_name: cls, config, registered_name: null });
const kt = (layer: string, shape: (number | null)[]) => ({ class_name: '__keras_tensor__', config: { shape, dtype: 'float32', keras_history: [layer, 0, 0] } });
const k3 = (cls: string, name: string, config: Record<string, unknown>, args?: unknown, inputShape?: unknown) => ({
  module: 'keras.layers',
  class_name: cls,
  config: { name, trainable: true, dtype: dtypePolicy, ...config },
  registered_name: null,
  ...(inputShape ? { build_config: { input_shape: inputShape } } : {}),
  name,
  inbound_nodes: args === undefined ? [] : [{ args: [args], kwargs: cls === 'BatchNormalization' ? { training: false, mask: null } : {} }],
});

/** A Keras 3 `Functional` model config as Keras 3.x writes it, with a residual Add (two inputs). */
function keras3Functional() {
  return {
    module: 'keras',
    class_name: 'Functional',
    config: {
      name: 'functional',
      trainable: true,
      layers: [
        {
          module: 'keras.layers',
          class_name: 'InputLayer',
          config: { batch_shape: [null, 8, 8, 3], dtype: 'float32', sparse: false, name: 'input_layer', optional: false },
          registered_name: null,
          name: 'input_layer',
          inbound_nodes: [],
        },
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
        ),
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
        ),
        k3(
          'Add',
          'add',
          {},
          [kt('batch_normalization', [null, 8, 8, 4]), kt('conv2d', [null, 8, 8, 4])],
          [
            [null, 8, 8, 4],
            [null, 8, 8, 4],
          ],
        ),
        k3('GlobalAveragePooling2D', 'global_average_pooling2d', { data_format: 'channels_last', keepdims: false }, kt('add', [null, 8, 8, 4]), [
          null,
          8,
          8,
          4,
        ]),
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
        ),
      ],
      input_layers: ['input_layer', 0, 0],
      output_layers: ['dense', 0, 0],
    },
    registered_name: 'Functional',
    build_config: { input_shape: null },
  };
}

/** The same network built with tfjs (same names), for its weights and reference outputs. */
function keras3Twin(): tfTypes.LayersModel {
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

// --- Catalog -----------------------------------------------------------------------------

test('catalog: ids, URL forms and fields; unknown ids get suggestions; fmnist-mini is read from the install root', async () => {
  const ids = BACKBONE_CATALOG.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'unique ids');
  assert.equal(ids.filter((id) => id.startsWith('mobilenet_v1_')).length, 16);
  const urlOf = (id: string) => (findCatalogEntry(id)!.source as { modelJsonUrl: string }).modelJsonUrl;
  assert.equal(urlOf('mobilenet_v1_0.50_160'), 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.50_160/model.json');
  assert.equal(urlOf('mobilenet_v1_1.0_224'), 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_1.0_224/model.json');
  const v2 = findCatalogEntry('mobilenet_v2_1.00_224')!;
  assert.equal(
    urlOf('mobilenet_v2_1.00_224'),
    'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.00_224_no_top/model.json',
  );
  assert.equal(v2.defaultCut, 'out_relu');
  for (const e of BACKBONE_CATALOG) {
    assert.equal(e.fineTunable, e.format === 'layers', e.id);
    assert.equal(e.inputSize.length, 3, e.id);
    assert.ok(PREPROCESSING_MODES.includes(e.preprocessing), e.id);
    if (e.source.kind === 'url') assert.match(e.source.modelJsonUrl, /^https:\/\//, e.id);
  }
  await assert.rejects(
    loadBackbone({ catalog: 'mobilenet_v2_1.0_224' }, opts()),
    (e: unknown) => e instanceof BackboneError && /no backbone 'mobilenet_v2_1\.0_224'.*Did you mean 'mobilenet_v2_1\.00_224'/.test(e.message),
  );

  // The bundled backbone: loads when the other engineer's files are there, else a clear error.
  const bundled = path.join(installRoot, 'media/backbones/fmnist-mini/model.json');
  if (fs.existsSync(bundled)) {
    const mini = await loadBackbone({ catalog: 'fmnist-mini' }, opts());
    assert.deepEqual(mini.inputShape, [32, 32, 3]);
    assert.equal(mini.kind, 'layers');
    assert.ok(layersOf(mini).layers.some((l) => l.name === mini.cutAt));
  } else {
    await assert.rejects(loadBackbone({ catalog: 'fmnist-mini' }, opts()), /should ship with Transfer Lab at .*fmnist-mini\/model\.json/);
  }
});

// --- Layer table -------------------------------------------------------------------------------

test('summarizeLayers and the layer table: shapes, params, trainable, cut and totals', async () => {
  const model = mobileNetLike();
  const rows = summarizeLayers(model, { cutAt: 'features', trainableFrom: 'conv_pw_1' });
  assert.equal(rows.length, model.layers.length);
  const byName = new Map(rows.map((r) => [r.name, r]));
  assert.deepEqual(byName.get('conv1')!.outputShape, [null, 8, 8, 8]);
  assert.equal(byName.get('conv1')!.params, 3 * 3 * 3 * 8);
  assert.equal(byName.get('conv1')!.trainable, false, 'before trainableFrom');
  assert.equal(byName.get('conv_pw_1')!.trainable, true);
  assert.deepEqual(byName.get('conv1_bn')!.inbound, ['conv1']);
  assert.equal(byName.get('features')!.isCut, true);
  assert.deepEqual(
    rows.filter((r) => r.afterCut).map((r) => r.name),
    ['pool', 'dropout', 'predictions'],
  );
  assert.equal(
    rows.reduce((s, r) => s + r.params, 0),
    model.countParams(),
  );
  const table = formatLayerTable(rows);
  assert.match(table, /^Layer\s+Type\s+Output shape\s+Params\s+Trainable/);
  assert.match(table, /features {2}<- cut\s+ReLU\s+\[null, 8, 8, 16\]/);
  assert.match(table, new RegExp(`Total params: ${model.countParams().toLocaleString('en-US')}`));
  assert.match(table, /Cut at 'features' \[null, 8, 8, 16\]: .* params up to the cut, 3 layer\(s\) after it dropped/);
});

test('broken Keras files name the file, say what is wrong and what to do (no internal message)', async () => {
  const dir = tmpDir('bad-keras');
  const garbage = path.join(dir, 'garbage.keras');
  fs.writeFileSync(garbage, 'garbage\n');
  await assert.rejects(
    loadBackbone({ path: garbage }, opts()),
    (e: unknown) =>
      e instanceof BackboneError && e.field === 'backbone.path' && /garbage\.keras is not a zip archive .*not a Keras 3 \.keras file/.test(e.message),
  );
  const notH5 = path.join(dir, 'model.h5');
  fs.writeFileSync(notH5, 'not hdf5 at all, just text');
  await assert.rejects(
    loadBackbone({ path: notH5 }, opts()),
    (e: unknown) => e instanceof BackboneError && e.field === 'backbone.path' && e.message.includes('model.h5') && /not an HDF5 file/.test(e.message),
  );
  await assert.rejects(
    loadBackbone({ path: path.join(dir, 'missing.keras') }, opts()),
    (e: unknown) => e instanceof BackboneError && /missing\.keras: no such file\. Check backbone\.path/.test(e.message),
  );
});
