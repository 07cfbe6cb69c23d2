// Prediction with an exported model feeds it as training did: preprocessing.json version 2
// (a Keras mode + resize) and version 1 of runs exported before (a value range, libvips
// center-crop), each against the same decode + preprocessing done by hand; and batches
// (several images per forward pass) agree with one image at a time.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { saveLayersModel } from '../../src/engine/exportModel';
import { decodeImageFile } from '../../src/engine/imageDecode';
import { loadPredictor, predictFiles, predictInBatches } from '../../src/engine/predict';
import { pixelTransform, preprocessPixels } from '../../src/core/preprocessing';
import { preprocessingFile } from '../../src/core/preprocessingFile';

const installRoot = path.resolve(__dirname, '../../..');
const sharp = createRequire(path.join(installRoot, 'package.json'))('sharp') as typeof import('sharp');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-predict-'));
const SIZE = 8;
let model: tfTypes.LayersModel;
let image: string;

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  const t = tf();
  // A tiny classifier whose outputs depend on every input value and on their sign.
  const input = t.input({ shape: [SIZE, SIZE, 3] });
  const flat = t.layers.flatten().apply(input) as tfTypes.SymbolicTensor;
  const out = t.layers
    .dense({ units: 3, activation: 'softmax', kernelInitializer: t.initializers.randomNormal({ seed: 3, stddev: 0.2 }) })
    .apply(flat) as tfTypes.SymbolicTensor;
  model = t.model({ inputs: input, outputs: out });
  // A 20x11 photo-like PNG: not square, so every resize mode gives different pixels.
  const w = 20,
    h = 11;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 53 + (i >> 3) * 7) & 255;
  image = path.join(dir, 'photo.png');
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(image);
});

async function exportWith(name: string, preprocessing: object): Promise<string> {
  const modelDir = path.join(dir, name);
  await saveLayersModel(model, modelDir);
  fs.writeFileSync(path.join(modelDir, 'labels.json'), JSON.stringify(['a', 'b', 'c']));
  fs.writeFileSync(path.join(modelDir, 'preprocessing.json'), JSON.stringify(preprocessing));
  return modelDir;
}

function expected(input: Float32Array): number[] {
  return tf().tidy(() => Array.from((model.predict(tf().tensor4d(input, [1, SIZE, SIZE, 3])) as tfTypes.Tensor).dataSync()));
}

function assertSame(got: { label: string; probability: number }[], want: number[]): void {
  const labels = ['a', 'b', 'c'];
  for (const p of got)
    assert.ok(Math.abs(p.probability - want[labels.indexOf(p.label)]) < 1e-6, `${p.label}: ${p.probability} vs ${want[labels.indexOf(p.label)]}`);
}

test('preprocessing.json version 1 (older exports): value range and libvips center-crop', async () => {
  const modelDir = await exportWith('v1', {
    format: 'transfer-lab-preprocessing',
    version: 1,
    inputSize: [SIZE, SIZE],
    channels: 3,
    valueRange: [-1, 1],
    resize: 'center-crop',
    colorSpace: 'srgb',
  });
  const predictor = await loadPredictor(modelDir, installRoot, path.join(dir, 'cache'));
  assert.equal(predictor.preprocessing.version, 2, 'read as version 2');
  assert.equal(predictor.preprocessing.mode, 'tf');
  assert.equal(predictor.preprocessing.resize, 'center-crop');
  const [result] = await predictFiles(predictor, [image], 3);
  assert.equal(result.error, undefined);
  // By hand: libvips cover, then lo + x * (hi - lo) / 255.
  const decoded = await decodeImageFile(image, { height: SIZE, width: SIZE, resize: 'center-crop' });
  assertSame(result.top, expected(Float32Array.from(decoded.rgb, (v) => -1 + (v * 2) / 255)));
});

test('preprocessing.json version 2: the Keras resize in float32 and the mode (caffe: BGR, means)', async () => {
  for (const resize of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio'] as const) {
    const modelDir = await exportWith(`v2-${resize}`, preprocessingFile(pixelTransform('caffe'), resize, [SIZE, SIZE], { preprocessingFrom: 'catalog' }));
    const predictor = await loadPredictor(modelDir, installRoot, path.join(dir, 'cache'));
    const [result] = await predictFiles(predictor, [image], 3);
    assert.equal(result.error, undefined);
    const decoded = await decodeImageFile(image, { height: SIZE, width: SIZE, resize });
    assert.ok(decoded.pixels instanceof Float32Array);
    assertSame(result.top, expected(preprocessPixels(decoded.pixels, pixelTransform('caffe'))));
  }
});

test('a broken preprocessing.json says what is wrong and what to do', async () => {
  const modelDir = await exportWith('broken', { format: 'transfer-lab-preprocessing', version: 2, inputSize: [SIZE, SIZE], mode: 'inception' });
  await assert.rejects(
    loadPredictor(modelDir, installRoot, path.join(dir, 'cache')),
    /preprocessing\.json: mode must be one of tf, torch, caffe, none, zero-one\. Re-export the model\./,
  );
});

test('predicting in batches: the same probabilities as one by one, an unreadable file in a batch gets its error, a stop ends at a batch boundary', async () => {
  const modelDir = await exportWith('batches', preprocessingFile(pixelTransform('tf'), 'squash', [SIZE, SIZE], { preprocessingFrom: 'catalog' }));
  const predictor = await loadPredictor(modelDir, installRoot, path.join(dir, 'cache'));
  const broken = path.join(dir, 'broken.png');
  fs.writeFileSync(broken, 'not a png');
  const flipped = path.join(dir, 'flipped.png');
  await sharp(image).flop().png().toFile(flipped);
  const files = [image, broken, flipped, image, flipped];
  const batches: number[][] = [];
  const all = await predictInBatches(predictor, files, { topK: 3, batchSize: 2, onBatch: (b, done) => void batches.push([b.length, done]) });
  assert.deepEqual(batches, [
    [2, 2],
    [2, 4],
    [1, 5],
  ]);
  assert.deepEqual(
    all.map((p) => p.file),
    files,
    'in the order given',
  );
  assert.match(all[1].error ?? '', /./, 'the broken file says why');
  assert.deepEqual(all[1].top, []);
  for (const i of [0, 2, 3, 4]) {
    const [alone] = await predictFiles(predictor, [files[i]], 3);
    assert.equal(all[i].error, undefined);
    assert.deepEqual(
      all[i].top.map((t) => t.label),
      alone.top.map((t) => t.label),
    );
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(all[i].top[k].probability - alone.top[k].probability) < 1e-5);
  }
  assert.notDeepEqual(all[0].top, all[2].top, 'different images, different outputs');
  let calls = 0;
  const stopped = await predictInBatches(predictor, files, { batchSize: 2, onBatch: () => void calls++, shouldStop: () => calls >= 1 });
  assert.equal(stopped.length, 2, 'stopped after the first batch');
});
