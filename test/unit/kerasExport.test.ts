// Keras 3 export (issue 16 item 1): a Transfer Lab run (feature extraction on a Keras
// fixture backbone, MobileNetV2 / ResNet50 / EfficientNetB0, one epoch on the shipped
// fashion data) exported as model.keras and as model.h5 is loaded by Keras 3 itself and predicts the
// probabilities TensorFlow.js predicts on the same preprocessed pixels within 1e-5; our own
// reader reads the file back to the same model. Without the Keras venv the Keras half skips
// (saying so); without the fixtures the whole file skips. The export goes through the CLI
// (`transfer-lab export`), whose refusals are tested at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone } from '../../src/engine/backboneLoader';
import { tf } from '../../src/engine/tf';
import { ZipArchive } from '../../src/engine/keras/zipArchive';
import { openHdf5 } from '../../src/engine/keras/hdf5';
import { fixturePath, kerasModelFixture, loadKerasFixtures, readFloat32, type KerasFixtures } from '../support/kerasFixtures';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-kexport-'));
const cacheDir = path.join(work, 'cache');
const checker = path.join(root, 'test', 'fixtures', 'keras_predict_check.py');
const TOLERANCE = 1e-5;

let fx: KerasFixtures | undefined;
try {
  fx = loadKerasFixtures();
} catch {
  fx = undefined;
}

/** A Python with Keras 3: TL_KERAS_PYTHON, else the bench's venv (scripts/setup-keras-fixtures.mjs makes it). */
function findKerasPython(): string | undefined {
  const candidates = [process.env.TL_KERAS_PYTHON, path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python')];
  for (const c of candidates) {
    if (c && fs.existsSync(c) && spawnSync(c, ['-c', 'import keras; assert keras.__version__.startswith("3")'], { encoding: 'utf8' }).status === 0) return c;
  }
  return undefined;
}
const python = findKerasPython();
const rows: string[] = [];

before(async () => {
  await loadBackend({ preference: 'auto', installRoot: root });
  copyShippedDataset(path.join(work, 'data'), { train: 4, val: 2 }, root);
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
  if (rows.length) console.log(['', 'backbone         format max |Keras - TF.js| probability', ...rows].join('\n'));
});

/** Trains the tiny experiment on a fixture backbone with the CLI; returns the run folder. */
function trainRun(id: string): string {
  const backbone = fixturePath(fx!, kerasModelFixture(fx!, id).files.keras);
  const dir = path.join(work, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(work, 'data'), path.join(dir, 'data'));
  writeTinyExperiment(path.join(dir, 'exp.tlexp.json'), { name: id, backbone: { path: backbone } });
  const r = tl(dir, 'run', 'exp.tlexp.json');
  assert.equal(r.status, 0, r.stderr);
  const runs = path.join(dir, '.transferlab', 'runs');
  const [run] = fs.readdirSync(runs);
  return path.join(runs, run);
}

function tl(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args, '--cache-dir', cacheDir], { cwd, encoding: 'utf8', timeout: 300_000 });
}

function predict(model: tfTypes.LayersModel, pixels: Float32Array, shape: number[]): number[][] {
  return tf().tidy(() => (model.predict(tf().tensor4d(pixels, shape as [number, number, number, number])) as tfTypes.Tensor).arraySync() as number[][]);
}

function maxAbsDiff(a: number[][], b: number[][]): number {
  assert.equal(a.length, b.length);
  let d = 0;
  a.forEach((row, i) => {
    assert.equal(row.length, b[i].length);
    row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j]))));
  });
  return d;
}

/** `transfer-lab export` of a run in one format; returns the model file. */
function exportAs(runDir: string, target: string, format: 'keras' | 'h5'): string {
  const r = tl(work, 'export', runDir, '--out', target, '--format', format, '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { files: string[]; modelDir: string };
  const modelFile = format === 'keras' ? 'model.keras' : 'model.h5';
  assert.deepEqual(out.files, [modelFile, 'labels.json', 'preprocessing.json', 'preprocess.py']);
  assert.equal(out.modelDir, path.join(runDir, 'model'));
  return path.join(target, modelFile);
}

/** Keras 3's own predictions (test/fixtures/keras_predict_check.py), oneDNN off: Keras's run-to-run spread is the smaller then. */
function kerasPredict(file: string, raw: string, shape: number[]): { keras: string; layers: number; probabilities: number[][] } {
  const r = spawnSync(python!, [checker, file, raw, ...shape.map(String)], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, TF_ENABLE_ONEDNN_OPTS: '0' },
  });
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { keras: string; layers: number; probabilities: number[][] };
}

for (const id of ['mobilenet_v2', 'resnet50', 'efficientnet_b0']) {
  test(
    `${id} run: model.keras and model.h5 load in Keras 3 and predict what TF.js predicts`,
    { skip: fx ? false : 'no Keras fixtures (node scripts/setup-keras-fixtures.mjs)' },
    async (t) => {
      const runDir = trainRun(id);
      const target = path.join(work, `${id}-export`);
      const files = { keras: exportAs(runDir, target, 'keras'), h5: exportAs(runDir, path.join(work, `${id}-h5`), 'h5') };
      const zip = ZipArchive.open(files.keras);
      assert.deepEqual(
        zip.listEntries().map((e) => e.name),
        ['metadata.json', 'config.json', 'model.weights.h5'],
      );
      const config = JSON.parse(Buffer.from(zip.read('config.json')).toString('utf8')) as { class_name: string; config: { layers: unknown[] } };
      zip.close();
      assert.equal(config.class_name, 'Functional');

      const m = kerasModelFixture(fx!, id);
      const ref = fx!.preprocessedPixels[m.preprocess]!;
      const pixels = readFloat32(fx!, ref);
      const ours = await loadBackbone({ path: path.join(runDir, 'model', 'model.json') }, { installRoot: root, cacheDir });
      assert.equal(ours.kind, 'layers');
      if (ours.kind !== 'layers') return;
      const want = predict(ours.model, pixels, ref.shape);
      assert.equal(want[0].length, 5, 'five fashion classes');

      // Our own Keras reader takes each file back to the same numbers (the weights went in exactly).
      for (const file of Object.values(files)) {
        const back = await loadBackbone({ path: file }, { installRoot: root, cacheDir });
        assert.equal(back.kind, 'layers');
        if (back.kind === 'layers') assert.ok(maxAbsDiff(predict(back.model, pixels, ref.shape), want) < 1e-6, file);
      }

      await t.test(
        'Keras 3 load_model',
        { skip: python ? false : 'no Python with Keras 3 (set TL_KERAS_PYTHON, or node scripts/setup-keras-fixtures.mjs)' },
        () => {
          const raw = path.join(work, `${id}.f32`);
          fs.writeFileSync(raw, Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength));
          for (const [format, file] of Object.entries(files)) {
            const keras = kerasPredict(file, raw, ref.shape);
            assert.equal(keras.layers, config.config.layers.length);
            const diff = maxAbsDiff(keras.probabilities, want);
            rows.push(`${id.padEnd(16)} ${format.padEnd(6)} ${diff.toExponential(2)} (Keras ${keras.keras}, ${keras.layers} layers, ${want.length} images)`);
            assert.ok(diff < TOLERANCE, `${id} ${format}: Keras and TF.js differ by ${diff}`);
          }
        },
      );
    },
  );
}

test(
  'model.weights.h5 and model.h5 are laid out as Keras 3 writes them: a group per layer, numbered per class, vars named; weight_names in order',
  { skip: fx ? false : 'no Keras fixtures' },
  async () => {
    const target = path.join(work, 'mobilenet_v2-export');
    if (!fs.existsSync(target)) return; // made by the first test
    const zip = ZipArchive.open(path.join(target, 'model.keras'));
    const weights = path.join(work, 'weights.h5');
    await zip.extractTo('model.weights.h5', weights);
    zip.close();
    const h5 = await openHdf5({ file: weights });
    try {
      const layers = h5.get('layers');
      assert.ok(layers && layers.kind === 'group');
      const names = layers.keys();
      for (const n of [
        'input_layer',
        'conv2d',
        'conv2d_1',
        'batch_normalization',
        'depthwise_conv2d',
        're_lu',
        'add',
        'dense',
        'dropout',
        'global_average_pooling2d',
      ])
        assert.ok(names.includes(n), `${n} in ${names.slice(0, 8).join(', ')}…`);
      const bn = h5.get('layers/batch_normalization/vars');
      assert.ok(bn && bn.kind === 'group');
      assert.equal(bn.attrs.name, 'bn_Conv1');
      assert.deepEqual(bn.keys(), ['0', '1', '2', '3']);
      const dense = h5.get('layers/dense/vars/0');
      assert.ok(dense && dense.kind === 'dataset');
      assert.deepEqual(dense.shape.at(-1), 5);
    } finally {
      h5.close();
    }
    // The legacy .h5: layer_names lists every layer; each group's weight_names its variables in Keras's order.
    const legacy = await openHdf5({ file: path.join(work, 'mobilenet_v2-h5', 'model.h5') });
    try {
      assert.equal(typeof legacy.attrs.model_config, 'string');
      const mw = legacy.get('model_weights');
      assert.ok(mw && mw.kind === 'group');
      assert.deepEqual((mw.attrs.layer_names as string[]).slice(0, 3), ['input_layer', 'Conv1', 'bn_Conv1']);
      const bn = mw.get('bn_Conv1');
      assert.ok(bn && bn.kind === 'group');
      assert.deepEqual(bn.attrs.weight_names, ['bn_Conv1/gamma', 'bn_Conv1/beta', 'bn_Conv1/moving_mean', 'bn_Conv1/moving_variance']);
      const dw = mw.get('expanded_conv_depthwise');
      assert.ok(dw && dw.kind === 'group');
      assert.deepEqual(dw.attrs.weight_names, ['expanded_conv_depthwise/kernel']);
    } finally {
      legacy.close();
    }
  },
);

test(
  'transfer-lab export: files already there need --force; a bad format or a folder with no model is bad input (exit 2)',
  { skip: fx ? false : 'no Keras fixtures' },
  () => {
    const target = path.join(work, 'mobilenet_v2-export');
    if (!fs.existsSync(target)) return; // made by the first test
    const runs = path.join(work, 'mobilenet_v2', '.transferlab', 'runs');
    const runDir = path.join(runs, fs.readdirSync(runs)[0]);
    const again = tl(work, 'export', runDir, '--out', target);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already has model\.keras, labels\.json, preprocessing\.json, preprocess\.py: pass --force/);
    const forced = tl(work, 'export', runDir, '--out', target, '--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /exported .* as keras to /);
    const badFormat = tl(work, 'export', runDir, '--out', target, '--format', 'onnx');
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /--format: 'onnx' is not one of keras, h5, tfjs/);
    const noModel = tl(work, 'export', work, '--out', path.join(work, 'nowhere'));
    assert.equal(noModel.status, 2);
    assert.match(noModel.stderr, /not a run folder or an exported model/);
    const tfjs = tl(work, 'export', runDir, '--out', path.join(work, 'tfjs-export'), '--format', 'tfjs');
    assert.equal(tfjs.status, 0, tfjs.stderr);
    for (const f of ['model.json', 'weights.bin', 'labels.json', 'preprocessing.json', 'README.md'])
      assert.ok(fs.existsSync(path.join(work, 'tfjs-export', f)), f);
    const py = fs.readFileSync(path.join(target, 'preprocess.py'), 'utf8');
    assert.match(py, /def preprocess\(path\):/);
    assert.match(py, /tf\.image\.resize\(img, \(96, 96\)\)/);
    assert.match(py, /preprocess_input mode "tf"/);
    if (!python) return;
    // preprocess.py classifies a real image with the export as `transfer-lab predict` does with the run.
    const image = path.join(work, 'data', 'val', 'coat', fs.readdirSync(path.join(work, 'data', 'val', 'coat'))[0]);
    const ours = tl(work, 'predict', runDir, image, '--top', '1', '--json');
    assert.equal(ours.status, 0, ours.stderr);
    const top = (JSON.parse(ours.stdout) as { top: { label: string; probability: number }[] }).top[0];
    const script = spawnSync(python, [path.join(target, 'preprocess.py'), image], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(script.status, 0, script.stderr.slice(-3000));
    assert.equal(script.stdout.trim(), `${image}: ${top.label} ${(top.probability * 100).toFixed(1)}%`);
  },
);
