// Pretrains the small backbone that ships with Transfer Lab (media/backbones/fmnist-mini):
// a MobileNet-style network (depthwise-separable blocks, BatchNorm, ReLU6, Keras-like layer
// names) trained on FIVE Fashion-MNIST classes. The other five are never seen, so the demo
// and the tests can show transfer to new classes offline. Reproducible: fixed seeds, fixed
// data order, and everything recorded in the model card.
//
//   node scripts/pretrain-backbone.mjs [--out DIR] [--epochs N] [--per-class N]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { option, REPO_ROOT as root } from './scriptOptions.mjs';
import { readFashionMnist, pickIndices, SOURCE_CLASSES, TARGET_CLASSES, CLASS_NAMES } from './fashionMnist.mjs';

const outDir = path.resolve(option('out', path.join(root, 'media/backbones/fmnist-mini')));
const epochs = Number(option('epochs', 5));
const perClass = Number(option('per-class', 4000));
const SIZE = 32;
const SEED = 1234;

process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const req = createRequire(path.join(root, 'noop.js'));
const tf = req('@tensorflow/tfjs-node');
const sharp = req('sharp');

/** 28x28 gray -> 32x32 RGB in [0,1], exactly as the engine preprocesses PNG files. */
async function preprocess(split, indices) {
  const { images } = readFashionMnist(split);
  const out = new Float32Array(indices.length * SIZE * SIZE * 3);
  await Promise.all(
    indices.map(async (idx, k) => {
      const rgb = await sharp(Buffer.from(images.subarray(idx * 784, (idx + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
        .toColourspace('srgb')
        .resize(SIZE, SIZE, { fit: 'cover', kernel: 'linear' })
        .raw()
        .toBuffer();
      for (let i = 0; i < rgb.length; i++) out[k * SIZE * SIZE * 3 + i] = rgb[i] / 255;
    }),
  );
  return out;
}

function dataset(split, count) {
  const picked = pickIndices(split, SOURCE_CLASSES, count);
  const items = [];
  for (const [c, list] of picked) for (const i of list) items.push({ i, label: SOURCE_CLASSES.indexOf(c) });
  // Deterministic interleaving (no Math.random): sort by index, as in the file.
  items.sort((a, b) => a.i - b.i);
  return items;
}

function block(x, id, filters, stride) {
  const l = tf.layers;
  x = l
    .depthwiseConv2d({
      kernelSize: 3,
      strides: stride,
      padding: 'same',
      useBias: false,
      name: `block_${id}_dw`,
      depthwiseInitializer: tf.initializers.heNormal({ seed: SEED + id }),
    })
    .apply(x);
  x = l.batchNormalization({ name: `block_${id}_dw_bn` }).apply(x);
  x = l.reLU({ maxValue: 6, name: `block_${id}_dw_relu` }).apply(x);
  x = l
    .conv2d({ filters, kernelSize: 1, useBias: false, name: `block_${id}_pw`, kernelInitializer: tf.initializers.heNormal({ seed: SEED + 100 + id }) })
    .apply(x);
  x = l.batchNormalization({ name: `block_${id}_pw_bn` }).apply(x);
  return l.reLU({ maxValue: 6, name: `block_${id}_pw_relu` }).apply(x);
}

function buildModel(classes) {
  const l = tf.layers;
  const input = tf.input({ shape: [SIZE, SIZE, 3], name: 'input_image' });
  let x = l
    .conv2d({ filters: 16, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_conv', kernelInitializer: tf.initializers.heNormal({ seed: SEED }) })
    .apply(input);
  x = l.batchNormalization({ name: 'stem_bn' }).apply(x);
  x = l.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x);
  x = block(x, 1, 32, 1);
  x = block(x, 2, 48, 2); // 16x16
  x = block(x, 3, 48, 1);
  x = block(x, 4, 64, 2); // 8x8
  x = block(x, 5, 96, 1);
  x = l.conv2d({ filters: 128, kernelSize: 1, useBias: false, name: 'top_conv', kernelInitializer: tf.initializers.heNormal({ seed: SEED + 7 }) }).apply(x);
  x = l.batchNormalization({ name: 'top_bn' }).apply(x);
  x = l.reLU({ maxValue: 6, name: 'out_relu' }).apply(x);
  x = l.globalAveragePooling2d({ name: 'global_pool' }).apply(x);
  x = l.dropout({ rate: 0.2, name: 'dropout', seed: SEED }).apply(x);
  x = l.dense({ units: classes, activation: 'softmax', name: 'predictions', kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 9 }) }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: 'fmnist_mini' });
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
console.log(`[pretrain] backend ${tf.getBackend()}, source classes ${SOURCE_CLASSES.map((c) => CLASS_NAMES[c]).join(', ')}`);
const train = dataset('train', perClass);
const test = dataset('test', 1000);
/** Images and one-hot labels of one split's picked items, as tensors. */
const tensorsOf = async (split, items) => ({
  x: tf.tensor4d(
    await preprocess(
      split,
      items.map((t) => t.i),
    ),
    [items.length, SIZE, SIZE, 3],
  ),
  y: tf.oneHot(
    tf.tensor1d(
      items.map((t) => t.label),
      'int32',
    ),
    SOURCE_CLASSES.length,
  ),
});
const { x: xTrain, y: yTrain } = await tensorsOf('train', train);
const { x: xTest, y: yTest } = await tensorsOf('test', test);
console.log(`[pretrain] ${train.length} training images, ${test.length} test images, preprocessed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const model = buildModel(SOURCE_CLASSES.length);
model.compile({ optimizer: tf.train.adam(0.002), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
const trainStarted = Date.now();
await model.fit(xTrain, yTrain, {
  epochs,
  batchSize: 64,
  verbose: 0,
  shuffle: false, // reproducible order; the data is already interleaved by class
  validationData: [xTest, yTest],
  callbacks: {
    onEpochEnd: (epoch, logs) =>
      console.log(`[pretrain] epoch ${epoch + 1}/${epochs} loss ${logs.loss.toFixed(4)} acc ${logs.acc.toFixed(4)} test_acc ${logs.val_acc.toFixed(4)}`),
  },
});
const trainSeconds = (Date.now() - trainStarted) / 1000;
const [testLoss, testAcc] = model.evaluate(xTest, yTest, { batchSize: 256 }).map((t) => t.dataSync()[0]);
await save(model, outDir);
const params = model.countParams();
const card = {
  id: 'fmnist-mini',
  title: 'Fashion-MNIST mini MobileNet (5 source classes)',
  trainedOn: `Fashion-MNIST train split, classes ${SOURCE_CLASSES.map((c) => CLASS_NAMES[c]).join(', ')} (${perClass} images each)`,
  unseenClasses: TARGET_CLASSES.map((c) => CLASS_NAMES[c]),
  inputSize: [SIZE, SIZE, 3],
  valueRange: [0, 1],
  preprocessing: '28x28 grayscale PNG -> 32x32 RGB (bilinear, center crop, channels replicated), pixels / 255',
  cutAt: 'out_relu',
  featureShape: [8, 8, 128],
  params,
  epochs,
  batchSize: 64,
  optimizer: 'adam, learning rate 0.002',
  seed: SEED,
  testAccuracy: Number(testAcc.toFixed(4)),
  testLoss: Number(testLoss.toFixed(4)),
  testSet: `Fashion-MNIST test split, the same 5 classes, ${test.length} images`,
  trainSeconds: Number(trainSeconds.toFixed(1)),
  backend: `${tf.getBackend()} (TensorFlow.js ${tf.version.tfjs})`,
  reproduce: 'node scripts/pretrain-backbone.mjs',
  license: 'Weights: MIT (this repository). Data: Fashion-MNIST, MIT licence, Zalando Research.',
};
fs.writeFileSync(path.join(outDir, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
fs.writeFileSync(
  path.join(outDir, 'README.md'),
  `# fmnist-mini: the backbone that ships with Transfer Lab

A small MobileNet-style network (${params.toLocaleString('en-US')} parameters: depthwise-separable blocks
\`block_1\`..\`block_5\` with BatchNorm and ReLU6, a 1x1 \`top_conv\`, then \`out_relu\`, the usual cut)
pretrained on five Fashion-MNIST classes: ${SOURCE_CLASSES.map((c) => CLASS_NAMES[c]).join(', ')}.
It never saw ${TARGET_CLASSES.map((c) => CLASS_NAMES[c]).join(', ')}: those are the demo's target task.

- Input: ${SIZE}x${SIZE} RGB, values in [0, 1] (grayscale replicated to three channels).
- Test accuracy on the source task: **${(testAcc * 100).toFixed(1)}%** (${test.length} Fashion-MNIST test images of the five classes).
- Trained ${epochs} epochs, batch 64, Adam 0.002, seed ${SEED}, in ${trainSeconds.toFixed(0)} s on ${tf.getBackend()}.
- Reproduce: \`node scripts/pretrain-backbone.mjs\` (needs Debian's dataset-fashion-mnist).

Details in card.json.
`,
);
console.log(`[pretrain] test accuracy ${(testAcc * 100).toFixed(2)}%, ${params} params, saved to ${outDir} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
