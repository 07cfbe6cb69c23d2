// TFLite float32 / int8 and SavedModel exports (issue 16 item 2), through `transfer-lab export`:
// a small real run (fmnist-mini, feature extraction, 2 epochs on the shipped fashion data) is
// converted by TensorFlow in the bench's Keras venv; float32 must match the run's own test
// accuracy within 1 point, int8 within a few (both printed). Without that venv those tests skip,
// saying so. Without any Python with TensorFlow the export refuses, naming the setting and the pip command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { ConvertedExportSchema, type ConvertedExport } from '../../src/core/convertedExport';
import { findTensorflowPython, PythonNotFoundError } from '../../src/engine/export/pythonFinder';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-tflite-'));
const cacheDir = path.join(work, 'cache');
const venv = process.env.TL_KERAS_PYTHON ?? path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python');
const hasTf = fs.existsSync(venv) && spawnSync(venv, ['-c', 'import tensorflow, keras'], { encoding: 'utf8', timeout: 180_000 }).status === 0;
const skipNoTf = hasTf ? false : `no Python with TensorFlow at ${venv} (set TL_KERAS_PYTHON, or node scripts/setup-keras-fixtures.mjs)`;
const rows: string[] = [];
let runDir = '';

function tl(env: NodeJS.ProcessEnv | undefined, ...args: string[]) {
  return spawnSync(process.execPath, [cli, ...args, '--cache-dir', cacheDir], { cwd: work, encoding: 'utf8', timeout: 600_000, env: env ?? process.env });
}

before(() => {
  copyShippedDataset(path.join(work, 'data'), { train: 20, val: 10, test: 50 }, root);
  writeTinyExperiment(path.join(work, 'exp.tlexp.json'), { train: { epochs: 2, batchSize: 16, learningRate: 0.01 } });
  const r = tl(undefined, 'run', 'exp.tlexp.json');
  assert.equal(r.status, 0, r.stderr);
  const runs = path.join(work, '.transferlab', 'runs');
  runDir = path.join(runs, fs.readdirSync(runs)[0]);
});

after(() => {
  fs.rmSync(work, { recursive: true, force: true });
  if (rows.length) console.log(['', 'format       test accuracy: original  converted  (images)', ...rows].join('\n'));
});

/** Exports the run in `format` with the venv's Python; returns export.json as the CLI wrote it. */
function exportAs(format: string, modelFile: string): ConvertedExport {
  const out = path.join(work, `export-${format}`);
  const r = tl(undefined, 'export', runDir, '--out', out, '--format', format, '--python', venv, '--json');
  assert.equal(r.status, 0, r.stderr.slice(-3000));
  const printed = JSON.parse(r.stdout.trim().split('\n').pop()!) as { files: string[]; accuracy: ConvertedExport['accuracy'] };
  assert.deepEqual(printed.files, [modelFile, 'labels.json', 'preprocessing.json', 'export.json']);
  const record = v.parse(ConvertedExportSchema, JSON.parse(fs.readFileSync(path.join(out, 'export.json'), 'utf8')));
  assert.deepEqual(printed.accuracy, record.accuracy);
  assert.equal(record.exportFormat, format);
  assert.equal(record.run, runDir);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'labels.json'), 'utf8')), ['ankle-boot', 'coat', 'sandal', 'shirt', 'sneaker']);
  const run = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { metrics: { accuracy: number } };
  const a = record.accuracy;
  assert.equal(a.original, run.metrics.accuracy);
  assert.equal(a.testCount, 250, "the run's test split: 50 images of each of 5 classes");
  rows.push(`${format.padEnd(12)} ${(a.original! * 100).toFixed(1).padStart(22)}%  ${(a.converted! * 100).toFixed(1).padStart(8)}%  (${a.testCount})`);
  // model.keras, as the converter read it, is the run's model: the same test accuracy within a rounding-level point.
  assert.ok(Math.abs(a.keras! - a.original!) <= 0.01, `Keras ${a.keras} vs run ${a.original}`);
  return record;
}

test("tflite: a float32 .tflite whose test accuracy is the run's within 1 point", { skip: skipNoTf }, () => {
  const record = exportAs('tflite', 'model.tflite');
  const file = path.join(work, 'export-tflite', 'model.tflite');
  assert.equal(fs.readFileSync(file).subarray(4, 8).toString('latin1'), 'TFL3', 'a FlatBuffer with the TFLite identifier');
  assert.ok(Math.abs(record.accuracy.converted! - record.accuracy.original!) <= 0.01, JSON.stringify(record.accuracy));
  assert.equal(record.flagged, false);
});

test('tflite-int8: full-integer quantization calibrated on training images, within a few points', { skip: skipNoTf }, () => {
  const record = exportAs('tflite-int8', 'model_int8.tflite');
  const int8 = path.join(work, 'export-tflite-int8', 'model_int8.tflite');
  assert.equal(fs.readFileSync(int8).subarray(4, 8).toString('latin1'), 'TFL3');
  assert.equal(record.calibrationImages, 100, 'every training image: the run has 100, fewer than the 200 drawn at most');
  const float = path.join(work, 'export-tflite', 'model.tflite');
  if (fs.existsSync(float)) assert.ok(fs.statSync(int8).size < fs.statSync(float).size / 2, 'int8 weights: well under half the float32 file');
  // The interpreter's own view: int8 in, int8 out.
  const io = spawnSync(
    venv,
    [
      '-c',
      `import tensorflow as tf; i = tf.lite.Interpreter(model_path=${JSON.stringify(int8)}); print(i.get_input_details()[0]["dtype"].__name__, i.get_output_details()[0]["dtype"].__name__)`,
    ],
    { encoding: 'utf8', timeout: 180_000 },
  );
  assert.equal(io.stdout.trim().split('\n').pop(), 'int8 int8', io.stderr.slice(-2000));
  assert.ok(Math.abs(record.accuracy.converted! - record.accuracy.original!) <= 0.05, JSON.stringify(record.accuracy));
});

test('savedmodel: a SavedModel folder that predicts as the run does', { skip: skipNoTf }, () => {
  const record = exportAs('savedmodel', 'saved_model');
  const dir = path.join(work, 'export-savedmodel', 'saved_model');
  assert.ok(fs.existsSync(path.join(dir, 'saved_model.pb')) && fs.existsSync(path.join(dir, 'variables')));
  assert.ok(Math.abs(record.accuracy.converted! - record.accuracy.original!) <= 0.01, JSON.stringify(record.accuracy));
  // Again into the same folder: refused without --force (export.json is there), replaced with it.
  const again = tl(undefined, 'export', runDir, '--out', path.join(work, 'export-savedmodel'), '--format', 'savedmodel', '--python', venv);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /already has saved_model, labels\.json, preprocessing\.json, export\.json: pass --force/);
});

test('no Python with TensorFlow: the export says what it tried, the setting and the pip command (exit 2)', () => {
  // An empty PATH: no python3, no python.
  const empty = path.join(work, 'empty-bin');
  fs.mkdirSync(empty, { recursive: true });
  const r = tl({ ...process.env, PATH: empty }, 'export', runDir, '--out', path.join(work, 'nopy'), '--format', 'tflite');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /No Python with TensorFlow to convert the model: tried python3 \(not found\), python \(not found\)/);
  assert.match(r.stderr, /pip install tensorflow-cpu==2\.21\.0/);
  assert.match(r.stderr, /transferLab\.pythonPath \(CLI: --python PATH\)/);
  assert.ok(!fs.existsSync(path.join(work, 'nopy', 'model.tflite')), 'nothing written');
  const named = tl(undefined, 'export', runDir, '--out', path.join(work, 'nopy'), '--format', 'tflite-int8', '--python', path.join(work, 'no-such-python'));
  assert.equal(named.status, 2);
  assert.match(
    named.stderr,
    new RegExp(`tried ${path.join(work, 'no-such-python').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(not found\\)\\. Install it with`),
  );
  const badFormat = tl(undefined, 'export', runDir, '--out', path.join(work, 'nopy'), '--format', 'onnx');
  assert.match(badFormat.stderr, /not one of keras, h5, tfjs, tflite, tflite-int8, savedmodel/);
});

test('findTensorflowPython: a Python without TensorFlow is named with why; one with it is found', async () => {
  const stub = path.join(work, 'fake-python');
  fs.writeFileSync(stub, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'tensorflow\'" >&2\nexit 1\n', { mode: 0o755 });
  await assert.rejects(findTensorflowPython(stub), (e: Error) => {
    assert.ok(e instanceof PythonNotFoundError);
    assert.match(e.message, /fake-python \(no tensorflow \(ModuleNotFoundError: No module named 'tensorflow'\)\)/);
    return true;
  });
  if (hasTf) assert.match((await findTensorflowPython(venv)).tensorflow, /^2\./);
});
