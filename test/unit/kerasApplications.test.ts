// The Keras Applications catalog (issue 11 item 1): what scripts/keras-applications/
// make_catalog.py generated from Keras is complete and consistent (at least 35 entries, URLs,
// hashes, input sizes, preprocessing per family), every shipped topology builds offline into a
// tfjs model with the output shape the catalog says at its default cut, `transfer-lab inspect`
// shows one without weights, and Keras's weight files are paired with the layers by position
// (as Keras does), checked on the Keras fixtures whose weights fit a catalog entry.
// Prints one row per entry: layers, params and build time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone, BackboneError, type LoadedBackbone } from '../../src/engine/backboneLoader';
import { openHdf5 } from '../../src/engine/keras/hdf5';
import { tf } from '../../src/engine/tf';
import { BACKBONE_CATALOG, findCatalogEntry } from '../../src/core/backboneCatalog';
import { KERAS_APPLICATIONS } from '../../src/core/kerasApplications';
import { loadKerasFixtures, fixturePath, type KerasFixtures } from '../support/kerasFixtures';

const installRoot = path.resolve(__dirname, '../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-keras-apps-'));
const cacheDir = path.join(work, 'cache');
const rows: string[] = [];
/** Never the network, never Keras's cache: what the tests below load is the shipped files alone. */
const offline = { installRoot, cacheDir, kerasWeights: { env: {}, kerasHome: false as const } };

before(async () => {
  await loadBackend({ preference: (process.env.TL_TEST_BACKEND as 'cpu') ?? 'auto', installRoot });
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
  if (rows.length) console.log(['', 'entry                 input  tfjs layers      params  build ms', ...rows].join('\n'));
});

const records = KERAS_APPLICATIONS.entries;
const layersOf = (b: LoadedBackbone) => {
  assert.equal(b.kind, 'layers');
  return b.model as tfTypes.LayersModel;
};

// Independent of the generator: what Keras's documentation and source say per family.
const PREPROCESSING: Record<string, string> = {
  mobilenet_v1: 'tf',
  mobilenet_v2: 'tf',
  inception_v3: 'tf',
  inception_resnet_v2: 'tf',
  xception: 'tf',
  nasnet: 'tf',
  resnet_v2: 'tf',
  resnet: 'caffe',
  vgg: 'caffe',
  densenet: 'torch',
  efficientnet: 'none',
  efficientnet_v2: 'none',
  convnext: 'none',
  mobilenet_v3: 'none',
};
const NATIVE_SIZE: Record<string, number> = {
  InceptionV3: 299,
  InceptionResNetV2: 299,
  Xception: 299,
  NASNetLarge: 331,
  EfficientNetB1: 240,
  EfficientNetB2: 260,
  EfficientNetB3: 300,
  EfficientNetB4: 380,
  EfficientNetB5: 456,
  EfficientNetB6: 528,
  EfficientNetB7: 600,
  EfficientNetV2B1: 240,
  EfficientNetV2B2: 260,
  EfficientNetV2B3: 300,
  EfficientNetV2S: 384,
  EfficientNetV2M: 480,
  EfficientNetV2L: 480,
};
const CONSTRUCTORS = [
  'MobileNet',
  'MobileNetV2',
  'MobileNetV3Small',
  'MobileNetV3Large',
  'ResNet50',
  'ResNet101',
  'ResNet152',
  'ResNet50V2',
  'ResNet101V2',
  'ResNet152V2',
  'VGG16',
  'VGG19',
  'InceptionV3',
  'InceptionResNetV2',
  'Xception',
  'DenseNet121',
  'DenseNet169',
  'DenseNet201',
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `EfficientNetB${i}`),
  ...['B0', 'B1', 'B2', 'B3', 'S', 'M', 'L'].map((v) => `EfficientNetV2${v}`),
  'NASNetMobile',
  'NASNetLarge',
  'ConvNeXtTiny',
  'ConvNeXtSmall',
  'ConvNeXtBase',
  'ConvNeXtLarge',
  'ConvNeXtXLarge',
];

test("the catalog lists every Keras Application (include_top=False) with Keras's URL, hash, input size and preprocessing; the TF.js entries stay", () => {
  const keras = BACKBONE_CATALOG.filter((e) => e.source.kind === 'keras-application');
  assert.ok(keras.length >= 35, `${keras.length} Keras Applications entries`);
  assert.deepEqual(
    records.map((r) => r.constructorName),
    CONSTRUCTORS,
  );
  const ids = BACKBONE_CATALOG.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique across the whole catalog');
  for (const id of [
    'fmnist-mini',
    'mobilenet_v1_1.0_224',
    'mobilenet_v2_1.00_224',
    'mobilenet_v3_small_100_224_feature_vector',
    'mobilenet_v3_large_100_224_feature_vector',
  ]) {
    assert.ok(findCatalogEntry(id), `${id} is still in the catalog`);
  }
  let shipped = 0;
  for (const r of records) {
    const e = findCatalogEntry(r.id)!;
    assert.equal(e.source.kind, 'keras-application', r.id);
    if (e.source.kind !== 'keras-application') continue;
    assert.equal(e.format, 'layers', r.id);
    assert.equal(e.fineTunable, true, r.id);
    assert.equal(e.source.constructorName, r.constructorName);
    // Keras's own URL and cache name; hashes as Keras's get_file reads them.
    const w = e.source.weights;
    assert.match(w.url, /^https:\/\/storage\.googleapis\.com\/(tensorflow\/)?keras-applications\//, r.id);
    // Keras's cache name is get_file's fname, which NASNet spells other than its URL does (NASNet-mobile-no-top.h5).
    const norm = (n: string) => n.toLowerCase().replace(/-/g, '_');
    assert.equal(norm(path.posix.basename(new URL(w.url).pathname)), norm(w.fileName), r.id);
    assert.match(w.fileName, /no_?top/, `${r.id}: the file without the classifier`);
    if (['MobileNet', 'MobileNetV2'].includes(r.constructorName)) {
      assert.equal(w.hash, null, `${r.id}: Keras lists no hash`);
      assert.equal(w.hashAlgorithm, null);
      assert.match(e.notes ?? '', /trust on first use/);
    } else {
      assert.match(w.hash ?? '', /^[0-9a-f]{32}$|^[0-9a-f]{64}$/, r.id);
      assert.equal(w.hashAlgorithm, w.hash!.length === 64 ? 'sha256' : 'md5', r.id);
      assert.match(r.weightsFrom.hash, /WEIGHTS_HASHES\[|file_hash literal/, r.id);
    }
    assert.match(r.weightsFrom.url, /^keras\.src\.applications\.\w+\.[A-Z_0-9]+/, r.id);
    // Sizes, preprocessing, what the wizard shows.
    const size = NATIVE_SIZE[r.constructorName] ?? 224;
    assert.deepEqual(e.inputSize, [size, size, 3], r.id);
    assert.equal(e.preprocessing, PREPROCESSING[e.family], `${r.id} (${e.family})`);
    assert.equal(e.defaultCut, r.defaultCut);
    assert.equal(e.featureShape.length, 3, r.id);
    assert.ok(e.imagenetTop1 !== null && e.imagenetTop1 > 60 && e.imagenetTop1 < 90, r.id);
    assert.ok(r.imagenetTop1From.length > 10, `${r.id}: where the top-1 comes from`);
    assert.ok(Math.abs(e.downloadMB - (e.params! * 4) / 1e6) < 0.1, r.id);
    // The shipped topology is the one the record names.
    const file = path.join(installRoot, e.source.topology);
    const bytes = fs.readFileSync(file);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), e.source.topologySha256, r.id);
    shipped += bytes.length;
  }
  const dir = path.join(installRoot, 'media', 'keras-applications');
  assert.deepEqual(fs.readdirSync(dir).sort(), records.map((r) => `${r.id}.json.gz`).sort(), 'no topology ships without a catalog entry');
  assert.ok(shipped < 2e6, `the shipped topologies stay small: ${(shipped / 1e6).toFixed(2)} MB`);
  assert.match(KERAS_APPLICATIONS.versions.keras, /^3\./);
});

test("every shipped topology builds offline, without weights, with the catalog's input, cut, output shape and preprocessing", async (t) => {
  const tensorsBefore = tf().memory().numTensors;
  for (const r of records) {
    await t.test(r.id, async () => {
      const t0 = Date.now();
      const b = await loadBackbone({ catalog: r.id }, { ...offline, topologyOnly: true });
      const ms = Date.now() - t0;
      const model = layersOf(b);
      try {
        assert.deepEqual(b.inputShape, r.inputSize);
        assert.equal(b.cutAt, r.defaultCut);
        assert.equal(b.cutFrom, 'catalog');
        assert.deepEqual(model.getLayer(b.cutAt).outputShape, [null, ...r.featureShape]);
        assert.equal(b.preprocessing.mode, r.preprocessing);
        assert.equal(b.preprocessingFrom, 'catalog');
        assert.ok(
          b.notes.some((n) => n.startsWith('Weights not downloaded')),
          b.notes.join('\n'),
        );
        // Keras's count, less what the rewrites fold away: EfficientNet's Normalization keeps
        // mean, variance and count (3 + 3 + 1) as weights in Keras and becomes a Rescaling here.
        const folded = r.family === 'efficientnet' ? 7 : 0;
        assert.equal(model.countParams(), r.params - folded, `${r.id}: params`);
        rows.push(
          `${r.id.padEnd(20)}  ${String(r.inputSize[0]).padStart(5)}  ${String(model.layers.length).padStart(11)}  ${r.params.toLocaleString('en-US').padStart(11)}  ${String(ms).padStart(8)}`,
        );
      } finally {
        model.dispose();
      }
    });
  }
  assert.equal(tf().memory().numTensors, tensorsBefore, 'every model was disposed');
});

test('transfer-lab inspect <keras id> works offline from the shipped topology and says the weights are not downloaded', () => {
  const cli = path.join(installRoot, 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'inspect', 'resnet50', '--json', '--cache-dir', cacheDir], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, KERAS_HOME: path.join(work, 'no-keras'), TRANSFER_LAB_KERAS_MIRROR: 'http://127.0.0.1:9/unreachable/' },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    cutAt: string;
    inputShape: number[];
    weights: string;
    preprocessing: { mode: string };
    layers: { name: string; params: number }[];
  };
  assert.equal(out.cutAt, 'conv5_block3_out');
  assert.deepEqual(out.inputShape, [224, 224, 3]);
  assert.equal(out.preprocessing.mode, 'caffe');
  assert.match(out.weights, /topology only/);
  assert.equal(
    out.layers.reduce((s, l) => s + l.params, 0),
    23_587_712,
  );
  assert.match(r.stderr, /note: Weights not downloaded \(Keras's resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5, 94\.4 MB/);
  const table = spawnSync(process.execPath, [cli, 'inspect', 'convnext_tiny', '--cache-dir', cacheDir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^convnext_tiny_stage_3_block_2_depthwise_conv +\S+ +\[null, 7, 7, 768\]/m);
  assert.match(table.stdout, /Cut at 'layer_normalization' \[null, 7, 7, 768\]/);
});

// --- Keras's weight files, paired by position -------------------------------------------

/** Keras fixtures (made by Keras) whose weights have the shapes of a catalog entry: the same constructor at its default width. */
const FIXTURE_FOR: Record<string, string> = {
  resnet50: 'resnet50',
  resnet50_v2: 'resnet50_v2',
  vgg16: 'vgg16',
  inception_v3: 'inception_v3',
  inception_resnet_v2: 'inception_resnet_v2',
  xception: 'xception',
  densenet121: 'densenet121',
  efficientnet_b0: 'efficientnet_b0',
  efficientnet_v2_b0: 'efficientnet_v2_b0',
  nasnet_mobile: 'nasnet_mobile',
  convnext_tiny: 'convnext_tiny',
};

function sameWeights(a: tfTypes.LayersModel, b: tfTypes.LayersModel, what: string): number {
  const wa = a.weights;
  const wb = b.weights;
  assert.equal(wa.length, wb.length, `${what}: weight count`);
  wa.forEach((w, i) => {
    assert.deepEqual(w.shape, wb[i].shape, `${what}: ${w.originalName} vs ${wb[i].originalName}`);
    const x = w.read().dataSync();
    const y = wb[i].read().dataSync();
    assert.ok(
      x.every((v, j) => v === y[j]),
      `${what}: ${w.originalName} holds other values than ${wb[i].originalName}`,
    );
  });
  return wa.length;
}

let fx: KerasFixtures | undefined;
function fixtures(): KerasFixtures {
  fx ??= loadKerasFixtures();
  return fx;
}

test("Keras's weights files load into the catalog topologies by position, array for array what the fixture's own .keras holds", async (t) => {
  for (const [id, fixtureId] of Object.entries(FIXTURE_FOR)) {
    await t.test(id, async () => {
      const m = fixtures().models.find((x) => x.id === fixtureId)!;
      assert.ok(m, `fixture ${fixtureId}`);
      const own = await loadBackbone({ path: fixturePath(fixtures(), m.files.keras) }, offline);
      const catalog = await loadBackbone({ catalog: id, weights: fixturePath(fixtures(), m.files.keras2WeightsH5) }, offline);
      try {
        assert.ok(
          catalog.notes.some((n) => /Weights read from .*backbone\.weights.*by position, as Keras does/.test(n)),
          catalog.notes.join('\n'),
        );
        const n = sameWeights(layersOf(catalog), layersOf(own), id);
        assert.ok(n > 10, `${id}: ${n} arrays compared`);
        // Fully convolutional: the catalog network runs at its native size on these weights.
        const [h, w] = catalog.inputShape;
        const y = tf().tidy(() => (layersOf(catalog).predict(tf().randomUniform([1, h, w, 3], 0, 255, 'float32', 3)) as tfTypes.Tensor).dataSync());
        assert.ok(y.every(Number.isFinite), `${id}: finite features`);
      } finally {
        layersOf(own).dispose();
        layersOf(catalog).dispose();
      }
    });
  }
});

/** A copy of a Keras-2-layout weights file with every layer group renamed (`k2_<n>`), as older Keras named layers. */
async function renamedCopy(src: string, dest: string): Promise<void> {
  const h5 = await openHdf5({ file: src });
  const lib = (await import('h5wasm/node')) as unknown as { default: { ready: Promise<unknown>; File: new (f: string, mode: string) => H5Writable } };
  await lib.default.ready;
  const out = new lib.default.File(dest, 'w');
  try {
    const names = (h5.attrs.layer_names as string[]).map((_, i) => `k2_${i + 1}`);
    out.create_attribute('layer_names', names);
    (h5.attrs.layer_names as string[]).forEach((layer, i) => {
      const g = h5.get(layer);
      if (!g || g.kind !== 'group') throw new Error(layer);
      const weightNames = Array.isArray(g.attrs.weight_names) ? (g.attrs.weight_names as string[]) : [];
      const target = out.create_group(names[i]);
      const renamed = weightNames.map((_, j) => `w${j}`);
      target.create_attribute('weight_names', renamed.length ? renamed : new Float64Array(0), renamed.length ? null : [0]);
      weightNames.forEach((w, j) => {
        let d = g as unknown as { get(n: string): unknown; kind: string };
        for (const part of w.split('/')) d = d.get(part) as typeof d;
        const ds = d as unknown as { shape: number[]; readFloat32(): Float32Array };
        target.create_dataset({ name: renamed[j], data: ds.readFloat32(), shape: ds.shape, dtype: '<f' });
      });
    });
  } finally {
    out.close();
    h5.close();
  }
}

interface H5Writable {
  create_attribute(name: string, data: unknown, shape?: number[] | null): void;
  create_group(name: string): H5Writable;
  create_dataset(args: { name: string; data: Float32Array; shape: number[]; dtype: string }): void;
  close(): void;
}

test('the pairing is by position, not by name (older Keras named the same layers differently); a file of another model is refused naming the layer', async () => {
  const m = fixtures().models.find((x) => x.id === 'efficientnet_b0')!;
  const original = fixturePath(fixtures(), m.files.keras2WeightsH5);
  const renamed = path.join(work, 'efficientnetb0_renamed.h5');
  await renamedCopy(original, renamed);
  const byName = await loadBackbone({ catalog: 'efficientnet_b0', weights: original }, offline);
  const byPosition = await loadBackbone({ catalog: 'efficientnet_b0', weights: renamed }, offline);
  try {
    assert.ok(sameWeights(layersOf(byPosition), layersOf(byName), 'renamed groups') > 100);
  } finally {
    layersOf(byName).dispose();
    layersOf(byPosition).dispose();
  }
  // ConvNeXt's weights into EfficientNet: refused before anything is built.
  const other = fixtures().models.find((x) => x.id === 'convnext_tiny')!;
  await assert.rejects(
    loadBackbone({ catalog: 'efficientnet_b0', weights: fixturePath(fixtures(), other.files.keras2WeightsH5) }, offline),
    (e: unknown) =>
      e instanceof BackboneError &&
      /it has weights for \d+ layers, but EfficientNetB0 without its top has 131 layers with weights: it is not the no-top weight file of 'efficientnet_b0'/.test(
        e.message,
      ),
  );
  const v2 = fixtures().models.find((x) => x.id === 'efficientnet_v2_b0')!;
  await assert.rejects(
    loadBackbone({ catalog: 'efficientnet_b0', weights: fixturePath(fixtures(), v2.files.keras2WeightsH5) }, offline),
    (e: unknown) =>
      e instanceof BackboneError &&
      /(layer \d+ of 131 with weights \('\w+' in EfficientNetB0, group '\w+' in the file\) has weights \[.*\] in the file but needs \[.*\])|(has weights for \d+ layers)/.test(
        e.message,
      ),
  );
});
