// Pretrains the small backbone that ships with Transfer Lab (media/backbones/fmnist-mini):
// a MobileNet-style network (depthwise-separable blocks, BatchNorm, ReLU6, Keras-like layer
// names) trained on FIVE Fashion-MNIST classes. The other five are never seen, so the demo
// and the tests can show transfer to new classes offline. Reproducible: fixed seeds, fixed
// data order, and everything recorded in the model card.
//
// Steps: sharp resizes the images exactly as the engine resizes PNG files; Keras trains
// (scripts/pretrain-backbone/train.py, in the venv --python names); TF.js builds the same
// network (scripts/pretrain-backbone/architecture.mjs), takes the weights, checks the source
// test accuracy itself, and saves model.json + weights.bin and the model card.
//
//   node scripts/pretrain-backbone.mjs [--out DIR] [--work DIR] [--epochs N] [--python PATH] [--rotation-labels 4|1] [--reuse-training 1]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { option, REPO_ROOT as root } from './scriptOptions.mjs';
import { readFashionMnist, pickIndices, SOURCE_CLASSES, CLASS_NAMES } from './fashionMnist.mjs';
import { SPEC, buildModel } from './pretrain-backbone/architecture.mjs';
import { writeModelCard } from './pretrain-backbone/modelCard.mjs';

const outDir = path.resolve(option('out', path.join(root, 'media/backbones/fmnist-mini')));
const spec = { ...SPEC, epochs: Number(option('epochs', SPEC.epochs)) };
spec.augment = { ...spec.augment, rotationLabels: Number(option('rotation-labels', spec.augment.rotationLabels)) };
const python = option('python', process.env.TRANSFER_LAB_PYTHON ?? path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python'));
const work = path.resolve(option('work', path.join(os.tmpdir(), 'transfer-lab-pretrain')));
const SIZE = spec.inputSize;

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const req = createRequire(path.join(root, 'noop.js'));
const tf = req('@tensorflow/tfjs-node');
const sharp = req('sharp');

/** Every image of the source classes in a split, in file order, as 32x32 gray bytes resized as the engine resizes. */
async function writeSplit(split) {
  const { images, labels } = readFashionMnist(split);
  const picked = pickIndices(split, SOURCE_CLASSES, Infinity);
  const indices = [...picked.values()].flat().sort((a, b) => a - b);
  const pixels = new Uint8Array(indices.length * SIZE * SIZE);
  await Promise.all(
    indices.map(async (idx, k) => {
      const rgb = await sharp(Buffer.from(images.subarray(idx * 784, (idx + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
        .toColourspace('srgb')
        .resize(SIZE, SIZE, { fit: 'cover', kernel: 'linear' })
        .raw()
        .toBuffer();
      // The three channels are equal (gray replicated); keep one.
      for (let i = 0; i < SIZE * SIZE; i++) pixels[k * SIZE * SIZE + i] = rgb[i * 3];
    }),
  );
  fs.writeFileSync(path.join(work, `${split}-images.u8`), pixels);
  fs.writeFileSync(
    path.join(work, `${split}-labels.u8`),
    Uint8Array.from(indices, (i) => SOURCE_CLASSES.indexOf(labels[i])),
  );
  return { count: indices.length, pixels, labels: Array.from(indices, (i) => SOURCE_CLASSES.indexOf(labels[i])) };
}

/** The TF.js model with the weights train.py wrote (by layer name, in each layer's weight order). */
function loadTrained(dir) {
  const result = JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8'));
  const bytes = fs.readFileSync(path.join(dir, 'weights.f32'));
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const model = buildModel(tf, spec, spec.classes);
  const byLayer = new Map();
  let offset = 0;
  for (const w of result.weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    byLayer.set(w.layer, [...(byLayer.get(w.layer) ?? []), tf.tensor(floats.slice(offset, offset + size), w.shape)]);
    offset += size;
  }
  if (offset !== floats.length) throw new Error(`weights.f32 holds ${floats.length} floats, the manifest ${offset}`);
  for (const layer of model.layers) if (layer.getWeights().length > 0) layer.setWeights(byLayer.get(layer.name));
  return { model, result };
}

async function save(model, dir) {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(artifacts.weightData));
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs} (Transfer Lab scripts/pretrain-backbone.mjs)`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

const started = Date.now();
fs.mkdirSync(work, { recursive: true });
console.log(`[pretrain] source classes ${SOURCE_CLASSES.map((c) => CLASS_NAMES[c]).join(', ')}; work dir ${work}`);
const train = await writeSplit('train');
const test = await writeSplit('test');
console.log(`[pretrain] ${train.count} training images, ${test.count} test images, preprocessed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
const specFile = path.join(work, 'spec.json');
const reuse = option('reuse-training', '') !== '';
if (reuse && (!fs.existsSync(specFile) || fs.readFileSync(specFile, 'utf8') !== JSON.stringify(spec)))
  throw new Error(`--reuse-training: ${specFile} is missing or was trained with another spec than this one; run without --reuse-training`);
fs.writeFileSync(specFile, JSON.stringify(spec));
const trainDir = path.join(work, 'trained');
// --reuse-training: keep train.py's output in the work dir (same spec) and redo only the TF.js
// half, e.g. to check that the shipped files come out byte-identical or to rewrite the card.
if (!reuse) {
  const py = spawnSync(python, [path.join(root, 'scripts/pretrain-backbone/train.py'), '--data', work, '--spec', specFile, '--out', trainDir], {
    stdio: 'inherit',
  });
  if (py.error) throw new Error(`could not start ${python} (${py.error.message}): pass --python with a Python that has keras and tensorflow`);
  if (py.status !== 0) throw new Error(`train.py failed (exit ${py.status})`);
}

const { model, result } = loadTrained(trainDir);
const xTest = tf.tidy(() =>
  tf
    .tensor4d(
      Float32Array.from(test.pixels, (v) => v / 255),
      [test.count, SIZE, SIZE, 1],
    )
    .tile([1, 1, 1, 3]),
);
const predicted = model.predict(xTest, { batchSize: 256 }).argMax(-1).dataSync();
const tfjsAccuracy = predicted.reduce((n, p, i) => n + (p === test.labels[i] ? 1 : 0), 0) / test.count;
console.log(`[pretrain] source test accuracy: Keras ${(result.testAccuracy * 100).toFixed(2)}%, TF.js ${(tfjsAccuracy * 100).toFixed(2)}%`);
if (Math.abs(tfjsAccuracy - result.testAccuracy) > 0.002) throw new Error('TF.js and Keras disagree on the test set: the two builds of the network differ');
await save(model, outDir);
writeModelCard(outDir, { spec, params: model.countParams(), result, tfjsAccuracy, trainCount: train.count, testCount: test.count, tfVersion: tf.version.tfjs });
console.log(`[pretrain] ${model.countParams()} params, saved to ${outDir} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
