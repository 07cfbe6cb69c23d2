// Every Keras Applications family as Keras users have it, made by Keras itself
// (scripts/keras-fixtures/, `node scripts/setup-keras-fixtures.mjs`): each saved as
// `.keras`, `.h5`, and TF.js model.json converted from both, loaded by Transfer Lab and
// compared with Keras's own outputs on the same pixels. Also: the preprocessing each
// family needs is found without being told, a user's own classifier head is cut away by
// default, a nested model is inlined, and weights-only files apply to an architecture.
// Prints one table row per family and format (the issue's closing note quotes it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone, type LoadedBackbone } from '../../src/engine/backboneLoader';
import { tf } from '../../src/engine/tf';
import { preprocessPixels, pixelTransform } from '../../src/core/preprocessing';
import { runExperiment } from '../../src/engine/runExperiment';
import { loadPredictor, predictFiles } from '../../src/engine/predict';
import { decodeImageFile } from '../../src/engine/imageDecode';
import type { ExperimentFile } from '../../src/core/experiment';
// @ts-expect-error: plain ESM helper shared with the scripts (no types)
import { writePngClassFolders, TARGET_CLASSES } from '../../scripts/fashionMnist.mjs';
import {
  KERAS_PIXEL_TOLERANCE,
  KERAS_RESIZE_MODES,
  loadKerasFixtures,
  fixturePath,
  readFloat32,
  readUint8,
  maxRelativeDiff,
  type KerasFixtures,
  type KerasModelFixture,
  type KerasModelFiles,
} from '../support/kerasFixtures';

const installRoot = path.resolve(__dirname, '../../..');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-keras-'));
let fx: KerasFixtures;
const rows: string[] = [];

/** The printed table gives each figure against the bound. */
const PIXEL_TOLERANCE = KERAS_PIXEL_TOLERANCE;

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  fx = loadKerasFixtures();
});

after(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  if (rows.length) console.log(['', 'family                  format          layers  preprocessing       max |diff| / scale', ...rows].join('\n'));
});

const FORMATS: (keyof KerasModelFiles)[] = ['keras', 'h5', 'tfjsFromKeras', 'tfjsFromH5'];

function preprocessed(mode: string, pixels: Uint8Array, shape: number[]): tfTypes.Tensor4D {
  const data = preprocessPixels(pixels, pixelTransform(mode as never));
  return tf().tensor4d(data, shape as [number, number, number, number]);
}

function predict(model: tfTypes.LayersModel, x: tfTypes.Tensor): Float32Array {
  return tf().tidy(() => (model.predict(x) as tfTypes.Tensor).dataSync() as Float32Array);
}

async function load(m: KerasModelFixture, format: keyof KerasModelFiles, extra: object = {}): Promise<LoadedBackbone & { kind: 'layers' }> {
  const loaded = await loadBackbone({ path: fixturePath(fx, m.files[format]), ...extra }, { installRoot, cacheDir });
  assert.equal(loaded.kind, 'layers');
  return loaded as LoadedBackbone & { kind: 'layers' };
}

const expectedMode = (m: KerasModelFixture) => m.preprocess;

test('every family and format loads and predicts what Keras predicts on the same pixels', async (t) => {
  const pixels = readUint8(fx, fx.pixels);
  for (const m of fx.models) {
    const expected = readFloat32(fx, m.outputs.pixels);
    for (const format of FORMATS) {
      await t.test(`${m.id} from ${format}`, async () => {
        const before = tf().memory().numTensors;
        const loaded = await load(m, format);
        try {
          assert.equal(
            loaded.preprocessing.mode,
            expectedMode(m),
            `${m.id}: preprocessing ${loaded.preprocessing.mode} (${loaded.preprocessingFrom}); Keras uses ${m.preprocess}`,
          );
          const x = preprocessed(loaded.preprocessing.mode, pixels, fx.pixels.shape);
          const y = predict(loaded.model, x);
          x.dispose();
          const diff = maxRelativeDiff(y, expected);
          rows.push(
            `${m.id.padEnd(24)}${format.padEnd(16)}${String(loaded.model.layers.length).padEnd(8)}${`${loaded.preprocessing.mode} (${loaded.preprocessingFrom})`.padEnd(20)}${diff.toExponential(2)}`,
          );
          assert.ok(diff <= PIXEL_TOLERANCE, `${m.id} ${format}: max |diff| ${diff.toExponential(2)} of the output scale (target ${PIXEL_TOLERANCE})`);
        } finally {
          loaded.model.dispose();
        }
        assert.equal(tf().memory().numTensors, before, 'loading leaves no tensors behind');
      });
    }
  }
});

test("a user's model with its own Dense head: the default cut is the last feature layer (InceptionV3 -> mixed10)", async () => {
  for (const m of fx.models.filter((x) => x.variant !== 'application')) {
    const byDefault = await load(m, 'keras');
    // A nested model is inlined: cutting "at the nested model" means at its output layer.
    const loaded = m.variant === 'nested' ? await load(m, 'keras', { cutAt: m.expectedCut }) : byDefault;
    try {
      assert.equal(byDefault.cutFrom, 'classifier head removed');
      if (m.variant === 'head') assert.equal(byDefault.cutAt, m.expectedCut, `${m.id}: default cut ${byDefault.cutAt}`);
      if (m.variant === 'nested') {
        assert.equal(byDefault.cutAt, loaded.cutAt, `${m.id}: the default cut is the nested base's output`);
        assert.ok(
          loaded.notes.some((n) => n.includes('is a nested model')),
          loaded.notes.join('\n'),
        );
      }
      if (m.cutOutputs) {
        const cut = tf().model({ inputs: loaded.model.inputs, outputs: loaded.model.getLayer(loaded.cutAt).output as tfTypes.SymbolicTensor });
        const x = preprocessed(loaded.preprocessing.mode, readUint8(fx, fx.pixels), fx.pixels.shape);
        const diff = maxRelativeDiff(predict(cut, x), readFloat32(fx, m.cutOutputs.pixels));
        x.dispose();
        assert.ok(diff <= PIXEL_TOLERANCE, `${m.id}: output of ${m.cutOutputs.layer} differs by ${diff.toExponential(2)}`);
      }
    } finally {
      loaded.model.dispose();
      if (byDefault !== loaded) byDefault.model.dispose();
    }
  }
});

test('weights-only files (Keras 3 .weights.h5 and the Keras 2 layout of the ImageNet files) apply to an architecture', async () => {
  const pixels = readUint8(fx, fx.pixels);
  for (const id of ['mobilenet_v2', 'resnet50', 'convnext_tiny']) {
    const m = fx.models.find((x) => x.id === id);
    if (!m) continue;
    for (const weights of [m.files.weightsH5, m.files.keras2WeightsH5]) {
      const loaded = await load(m, 'tfjsFromKeras', { weights: fixturePath(fx, weights) });
      try {
        const x = preprocessed(m.preprocess, pixels, fx.pixels.shape);
        const diff = maxRelativeDiff(predict(loaded.model, x), readFloat32(fx, m.outputs.pixels));
        x.dispose();
        assert.ok(diff <= PIXEL_TOLERANCE, `${id} + ${weights}: ${diff.toExponential(2)}`);
        assert.ok(
          loaded.notes.some((n) => n.includes('Weights read from')),
          loaded.notes.join('\n'),
        );
      } finally {
        loaded.model.dispose();
      }
    }
  }
});

test('a weights-only file given as the model says what it is and what to do', async () => {
  const m = fx.models.find((x) => x.id === 'mobilenet_v2')!;
  await assert.rejects(
    loadBackbone({ path: fixturePath(fx, m.files.weightsH5) }, { installRoot, cacheDir }),
    (e: Error) => /holds only weights \(no model architecture\)/.test(e.message) && e.message.includes(m.files.weightsH5.split('/').pop()!),
  );
});

// Runs: every family trains a head on its frozen features and fine-tunes its last layers,
// from its .keras file, and the exported model loads with plain tf.loadLayersModel (no
// Transfer Lab code, no custom classes: the rewrites leave only stock layers) and predicts
// what Transfer Lab's predictor predicts.
test('every family: feature extraction and fine-tuning run, and the export reloads with plain tf.loadLayersModel', async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-keras-runs-'));
  const dataset = path.join(work, 'data');
  await writePngClassFolders(dataset, { classes: TARGET_CLASSES.slice(0, 2), perClass: 8, split: 'train', root: installRoot });
  const runsDir = path.join(work, 'runs');
  try {
    for (const m of fx.models.filter((x) => x.variant === 'application')) {
      for (const strategy of [{ kind: 'feature-extraction' }, { kind: 'fine-tune', unfreezeLast: 6, warmupEpochs: 0 }] as const) {
        await t.test(`${m.id}: ${strategy.kind}`, async () => {
          const file = path.join(work, `${m.id}-${strategy.kind}.tlexp.json`);
          const exp: ExperimentFile = {
            name: `${m.id}-${strategy.kind}`,
            data: { dir: 'data', split: { val: 0.25, test: 0.25 }, seed: 3 },
            backbone: { path: fixturePath(fx, m.files.keras) },
            strategy,
            head: { pooling: 'avg', dense: [], dropout: 0 },
            train: { epochs: 2, batchSize: 4, optimizer: 'adam', learningRate: 0.001 },
          };
          fs.writeFileSync(file, JSON.stringify(exp));
          const outcome = await runExperiment({
            experimentFile: file,
            runsDir,
            cacheDir,
            installRoot,
            backend: 'test',
            onEvent: () => {},
            shouldStop: () => false,
          });
          assert.equal(outcome.status, 'succeeded', `${m.id} ${strategy.kind}: ${JSON.stringify(outcome.error)}`);
          const modelDir = path.join(outcome.runDir, 'model');
          const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
          const weightData = new Uint8Array(fs.readFileSync(path.join(modelDir, json.weightsManifest[0].paths[0]))).buffer;
          const plain = await tf().loadLayersModel(
            tf().io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData }),
          );
          const predictor = await loadPredictor(outcome.runDir, installRoot, cacheDir);
          const images = fs
            .readdirSync(path.join(dataset, fs.readdirSync(dataset)[0]))
            .slice(0, 2)
            .map((f) => path.join(dataset, fs.readdirSync(dataset)[0], f));
          const ours = await predictFiles(predictor, images, 2);
          for (const [i, file] of images.entries()) {
            const decoded = await decodeImageFile(file, { height: m.inputShape[0], width: m.inputShape[1], resize: predictor.preprocessing.resize as never });
            const x = tf().tensor4d(preprocessPixels(decoded.pixels, predictor.transform), [1, m.inputShape[0], m.inputShape[1], 3]);
            const probs = predict(plain, x);
            x.dispose();
            assert.ok(!ours[i].error, JSON.stringify(ours[i]));
            const best = ours[i].top[0];
            const index = predictor.labels.indexOf(best.label);
            assert.ok(Math.abs(probs[index] - best.probability) < 1e-4, `${m.id}: plain load gives ${probs[index]}, Transfer Lab ${best.probability}`);
          }
          plain.dispose();
          predictor.model.dispose();
        });
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

// Raw image files through Transfer Lab's decode + resize in Keras's modes, then the model:
// the same as Keras's image_dataset_from_directory -> preprocess_input -> predict.
test("raw image files through data.resize in Keras's modes predict what the Keras pipeline predicts", async () => {
  const rowsRaw: string[] = [];
  for (const m of fx.models) {
    const loaded = await load(m, 'keras');
    try {
      for (const mode of KERAS_RESIZE_MODES) {
        const files = fx.resizeModes[mode].files.map((f) => path.join(fixturePath(fx, fx.images.dir), f));
        const [h, w] = m.inputShape;
        const input = new Float32Array(files.length * h * w * 3);
        for (const [i, file] of files.entries()) {
          const decoded = await decodeImageFile(file, { height: h, width: w, resize: mode });
          preprocessPixels(decoded.pixels, loaded.preprocessing, input.subarray(i * h * w * 3, (i + 1) * h * w * 3));
        }
        const x = tf().tensor4d(input, [files.length, h, w, 3]);
        const y = predict(loaded.model, x);
        x.dispose();
        const expected = readFloat32(fx, m.outputs[mode]);
        const diff = maxRelativeDiff(y, expected);
        // Top class per image where the model classifies (a user's head); else the strongest feature.
        const per = y.length / files.length;
        const argmax = (a: ArrayLike<number>, i: number) => {
          let best = 0;
          for (let k = 1; k < per; k++) if (a[i * per + k] > a[i * per + best]) best = k;
          return best;
        };
        const sameTop = files.filter((_, i) => argmax(y, i) === argmax(expected, i)).length;
        rowsRaw.push(`${m.id.padEnd(24)}${mode.padEnd(22)}${diff.toExponential(2).padEnd(12)}${sameTop}/${files.length} same top`);
        assert.ok(diff <= 1e-2, `${m.id} ${mode}: max |diff| ${diff.toExponential(2)} of the output scale on raw files (target 1e-2)`);
        if (m.variant !== 'application') assert.equal(sameTop, files.length, `${m.id} ${mode}: top class differs on ${files.length - sameTop} image(s)`);
      }
    } finally {
      loaded.model.dispose();
    }
  }
  console.log(['', 'family                  resize                max |diff|  top class', ...rowsRaw].join('\n'));
});
