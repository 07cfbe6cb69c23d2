// Lean fine-tuning gives autodiff's gradients: for every trainable variable of a Keras-built
// MobileNet v2 (random weights and BatchNorm statistics) and of the shipped backbone's upper
// blocks, the custom-gradient blocks' gradients equal TensorFlow.js autodiff through the model
// in inference mode (the Keras rule), on real images; and they keep fewer tensors alive.
// Models with the zoo's other pieces (squeeze-excite, swish, gelu, SeparableConv2D,
// LayerNormalization, Dense on 4-D tensors, ...) and with normalisations TensorFlow.js's own
// layers cannot differentiate (InceptionV3's BatchNorm scale=False, center=False) give the
// gradients autodiff gives on a twin whose normalisations have gamma = 1 and beta = 0, whole
// and cut between a convolution and its BatchNorm; and such a base fine-tunes end to end.
// (Every Keras Applications family: trainingPlanFamilies.test.ts.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { decodeImageFile } from '../../src/engine/imageDecode';
import { buildMobileNetV2 } from '../../src/engine/referenceNets';
import { compileTrainingPlan, describeTrainingPlan } from '../../src/engine/trainingPlan';
import { splitModel } from '../../src/engine/modelSurgery';
import { runExperiment } from '../../src/engine/runExperiment';
import type { ExperimentFile } from '../../src/core/experiment';
import { saveLayersModel } from '../fixtures/layersModel';
import { compareGradients as checkGradients } from '../support/gradientCheck';
import * as os from 'node:os';

const installRoot = path.resolve(__dirname, '../../..');

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
});

async function realBatch(n: number, size: number): Promise<tfTypes.Tensor4D> {
  const dir = path.join(installRoot, 'media/datasets/fashion-target/train');
  const files = fs
    .readdirSync(dir)
    .flatMap((c) =>
      fs
        .readdirSync(path.join(dir, c))
        .slice(0, 1)
        .map((f) => path.join(dir, c, f)),
    )
    .slice(0, n);
  const px = new Float32Array(n * size * size * 3);
  // A little seeded noise on top: Fashion-MNIST's flat black backgrounds give whole regions
  // the same pre-activation, and where that value sits on a ReLU6 kink (exactly 0) float
  // rounding decides the derivative for all of them at once: the two sides then disagree by
  // percents (seen once: 1.7e-2 on block_13_expand_BN/beta), although both are right.
  let state = 12345;
  const noise = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.02;
  for (let i = 0; i < n; i++) {
    const d = await decodeImageFile(files[i], { height: size, width: size });
    for (let j = 0; j < d.rgb.length; j++) px[i * d.rgb.length + j] = d.rgb[j] / 127.5 - 1 + noise();
  }
  return tf().tensor4d(px, [n, size, size, 3]);
}

const compareGradients = (...args: Parameters<typeof checkGradients>) => checkGradients(...args).stats;

test('MobileNet v2: the lean blocks give autodiff gradients for every variable', async () => {
  const model = buildMobileNetV2({ inputSize: 64, seed: 9 });
  const x = await realBatch(3, 64);
  compareGradients(model, x, 'MobileNetV2 64');
  x.dispose();
  model.dispose();
});

test('the shipped backbone: the lean blocks give autodiff gradients', async () => {
  const model = await tf().loadLayersModel(`file://${path.join(installRoot, 'media/backbones/fmnist-mini/model.json')}`);
  const base = tf().model({ inputs: model.inputs, outputs: model.getLayer('out_relu').output as tfTypes.SymbolicTensor });
  const x = await realBatch(4, model.inputs[0].shape[1] as number);
  compareGradients(base, x, 'fmnist-mini');
  x.dispose();
  model.dispose();
});

test('a lean step holds fewer bytes than autodiff, after the forward pass and at its peak', async () => {
  const t = tf();
  const model = buildMobileNetV2({ inputSize: 64, seed: 2 });
  const plan = compileTrainingPlan(model);
  const x = await realBatch(2, 64);
  const vars = model.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const measure = async (f: () => tfTypes.Tensor) => {
    let afterForward = 0;
    const before = t.memory().numBytes;
    const info = await t.profile(() => {
      const g = t.variableGrads(() => {
        const y = t.sum(f()) as tfTypes.Scalar;
        afterForward = t.memory().numBytes - before;
        return y;
      }, vars);
      t.dispose([g.value, ...Object.values(g.grads)]);
    });
    return { afterForward, peak: info.peakBytes - before };
  };
  const auto = await measure(() => model.apply(x, { training: false }) as tfTypes.Tensor);
  const lean = await measure(() => plan.apply([x]));
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(
    `# bytes held after the forward pass: autodiff ${mb(auto.afterForward)} MB, lean ${mb(lean.afterForward)} MB; peak of the step: autodiff ${mb(auto.peak)} MB, lean ${mb(lean.peak)} MB (${(auto.peak / lean.peak).toFixed(1)}x less)`,
  );
  // Two activations per block instead of four (conv output, BN output, relu's and clip's inputs),
  // and each block's gradient temporaries and dy freed as the backward pass goes.
  assert.ok(lean.afterForward < auto.afterForward * 0.8, `${lean.afterForward} vs ${auto.afterForward}`);
  assert.ok(lean.peak < auto.peak * 0.5, `peak ${lean.peak} vs ${auto.peak}`);
  plan.dispose();
  x.dispose();
  model.dispose();
});

// ---------------------------------------------------------------------------------------
// What Keras Applications families bring after loading.

type ST = tfTypes.SymbolicTensor;

/**
 * InceptionV3's conv2d_bn (Conv2D use_bias=False -> BatchNormalization scale=False -> relu),
 * its mixed block (1x1, 5x5, double 3x3 and average-pool branches, concatenated), then a
 * convolution with bias -> BatchNorm center=False -> ReLU6, and a convolution with its own
 * relu -> BatchNorm with neither gamma nor beta. `complete`: the twin, every normalisation
 * with gamma and beta (which TensorFlow.js's autodiff can differentiate).
 */
function inceptionStyle(complete: boolean, size = 21): tfTypes.LayersModel {
  const t = tf();
  const L = t.layers;
  let n = 0;
  const convBn = (x: ST, filters: number, kernelSize: number, strides = 1, padding: 'same' | 'valid' = 'same') => {
    const i = ++n;
    let y = L.conv2d({ filters, kernelSize, strides, padding, useBias: false, name: `conv2d_${i}` }).apply(x) as ST;
    y = L.batchNormalization({ scale: complete, name: `batch_normalization_${i}` }).apply(y) as ST;
    return L.activation({ activation: 'relu', name: `activation_${i}` }).apply(y) as ST;
  };
  const input = t.input({ shape: [size, size, 3], name: 'input_1' });
  let x = convBn(input, 8, 3, 2, 'valid');
  x = convBn(x, 8, 3);
  const b1 = convBn(x, 6, 1);
  const b5 = convBn(convBn(x, 4, 1), 6, 5);
  const b3 = convBn(convBn(convBn(x, 6, 1), 8, 3), 8, 3);
  const bp = convBn(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'average_pooling2d' }).apply(x) as ST, 4, 1);
  x = L.concatenate({ name: 'mixed0' }).apply([b1, b5, b3, bp]) as ST;
  x = L.conv2d({ filters: 10, kernelSize: 3, padding: 'same', name: 'conv_bias' }).apply(x) as ST;
  x = L.batchNormalization({ center: complete, name: 'bn_no_beta' }).apply(x) as ST;
  x = L.reLU({ maxValue: 6, name: 'relu6' }).apply(x) as ST;
  x = L.conv2d({ filters: 10, kernelSize: 1, activation: 'relu', name: 'conv_relu' }).apply(x) as ST;
  x = L.batchNormalization({ scale: complete, center: complete, name: 'bn_bare' }).apply(x) as ST;
  return t.model({ inputs: input, outputs: x, name: 'inception_style' });
}

/**
 * EfficientNet / MobileNetV3 / ConvNeXt pieces: Rescaling, conv -> BN -> swish, squeeze-excite
 * (GlobalAveragePooling2D -> Reshape -> conv relu -> conv sigmoid -> Multiply), depthwise ->
 * BN -> gelu, SeparableConv2D -> hard_sigmoid, a residual Add, a ConvNeXt block (depthwise 7x7
 * with bias -> LayerNormalization -> Dense on the 4-D tensor -> gelu -> Dense -> Dropout -> Add),
 * and a LayerNormalization without beta (`complete`: with it).
 */
function familyMix(complete: boolean): tfTypes.LayersModel {
  const t = tf();
  const L = t.layers;
  const input = t.input({ shape: [16, 16, 3], name: 'input_1' });
  let x = L.rescaling({ scale: 1 / 127.5, offset: -1, name: 'rescaling' }).apply(input) as ST;
  x = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'stem_conv' }).apply(x) as ST;
  x = L.batchNormalization({ name: 'stem_bn' }).apply(x) as ST;
  x = L.activation({ activation: 'swish', name: 'stem_activation' }).apply(x) as ST;
  let se = L.globalAveragePooling2d({ name: 'se_squeeze' }).apply(x) as ST;
  se = L.reshape({ targetShape: [1, 1, 8], name: 'se_reshape' }).apply(se) as ST;
  se = L.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', name: 'se_reduce' }).apply(se) as ST;
  se = L.conv2d({ filters: 8, kernelSize: 1, activation: 'sigmoid', name: 'se_expand' }).apply(se) as ST;
  x = L.multiply({ name: 'se_excite' }).apply([x, se]) as ST;
  const shortcut = x;
  let y = L.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' }).apply(x) as ST;
  y = L.batchNormalization({ name: 'dw_bn' }).apply(y) as ST;
  y = L.activation({ activation: 'gelu', name: 'dw_gelu' }).apply(y) as ST;
  y = L.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'sep' }).apply(y) as ST;
  y = L.activation({ activation: 'hardSigmoid', name: 'sep_hard_sigmoid' }).apply(y) as ST;
  x = L.add({ name: 'block_add' }).apply([shortcut, y]) as ST;
  let c = L.depthwiseConv2d({ kernelSize: 7, padding: 'same', name: 'convnext_dw' }).apply(x) as ST;
  c = L.layerNormalization({ epsilon: 1e-6, name: 'convnext_ln' }).apply(c) as ST;
  c = L.dense({ units: 16, name: 'convnext_pw1' }).apply(c) as ST;
  c = L.activation({ activation: 'gelu', name: 'convnext_gelu' }).apply(c) as ST;
  c = L.dense({ units: 8, name: 'convnext_pw2' }).apply(c) as ST;
  c = L.dropout({ rate: 0.3, name: 'convnext_drop' }).apply(c) as ST;
  x = L.add({ name: 'convnext_add' }).apply([x, c]) as ST;
  x = L.layerNormalization({ center: complete, name: 'final_ln' }).apply(x) as ST;
  return t.model({ inputs: input, outputs: x, name: 'family_mix' });
}

/** Random weights and BatchNorm statistics; the twin gets the same, with gamma = 1 and beta = 0 where `model` has none. */
function randomizeWithTwin(model: tfTypes.LayersModel, twin: tfTypes.LayersModel, seed: number): void {
  const t = tf();
  let s = seed;
  for (const layer of model.layers) {
    for (const w of layer.weights) {
      const role = w.originalName.split('/').pop();
      const [lo, hi] =
        role === 'gamma' || role === 'moving_variance'
          ? [0.5, 1.5]
          : role === 'kernel' || role === 'depthwise_kernel' || role === 'pointwise_kernel'
            ? [-0.4, 0.4]
            : [-0.2, 0.2];
      const v = t.randomUniform(w.shape as number[], lo, hi, 'float32', s++);
      w.write(v);
      v.dispose();
    }
  }
  for (const layer of twin.layers) {
    for (const w of layer.weights) {
      const own = model.getLayer(layer.name).weights.find((m) => m.originalName === w.originalName);
      const role = w.originalName.split('/').pop();
      const v = own ? own.read().clone() : t.fill(w.shape as number[], role === 'gamma' ? 1 : 0);
      w.write(v);
      v.dispose();
    }
  }
}

function pair(build: (complete: boolean) => tfTypes.LayersModel, seed: number) {
  const model = build(false);
  const twin = build(true);
  randomizeWithTwin(model, twin, seed);
  return { model, twin };
}

const randomInputs = (model: tfTypes.LayersModel, n: number, seed: number) =>
  model.inputs.map((i, k) => tf().randomNormal([n, ...(i.shape.slice(1) as number[])], 0, 1, 'float32', seed + k));

test('InceptionV3-style blocks (no conv bias, BatchNorm scale=False / center=False, branches, average pooling): the plan gives the gradients of autodiff', () => {
  const { model, twin } = pair(inceptionStyle, 3);
  const x = randomInputs(model, 3, 11);
  const stats = compareGradients(model, x, 'InceptionV3-style', { reference: twin });
  // Every conv-BN-activation is one block; the BatchNorm with neither gamma nor beta too.
  assert.equal(stats.blocks, 12);
  t0dispose(x, model, twin);
});

test('a base cut anywhere (unfreezeLast 1 to all, 6 and 20 among them) is planned, a BatchNorm cut off its convolution a block of its own', async () => {
  const layerCount = inceptionStyle(false).layers.length - 1;
  let separated = 0;
  for (let unfreezeLast = 1; unfreezeLast <= layerCount; unfreezeLast++) {
    const { model, twin } = pair(inceptionStyle, 5);
    const strategy = { kind: 'fine-tune' as const, unfreezeLast, baseLearningRate: 1e-4, warmupEpochs: 0 };
    const head = { pooling: 'avg' as const, dense: [], dropout: 0 };
    const split = await splitModel(model, 'bn_bare', strategy, head, 3);
    const splitTwin = await splitModel(twin, 'bn_bare', strategy, head, 3);
    assert.ok(split.suffix && splitTwin.suffix, 'a trainable suffix');
    // A BatchNorm trains while the convolution it reads stays frozen: the crash of issue 10.
    const trainable = new Set(split.plan.trainable);
    const cutOff = split.plan.trainable.filter((n) => n.startsWith('batch_normalization_') && !trainable.has(n.replace('batch_normalization_', 'conv2d_')));
    if (cutOff.length > 0) separated++;
    const x = randomInputs(split.suffix, 2, 13);
    if (split.suffix.trainableWeights.length === 0) {
      // Only bn_bare (no gamma, no beta): nothing to differentiate, but it runs.
      const plan = compileTrainingPlan(split.suffix);
      tf().tidy(() => assert.deepEqual(plan.apply(x).shape, (split.suffix!.apply(x) as tfTypes.Tensor).shape));
      plan.dispose();
      t0dispose(x, model, twin);
      continue;
    }
    const stats = compareGradients(
      split.suffix,
      x,
      `InceptionV3-style, unfreezeLast ${unfreezeLast}${cutOff.length ? ` (${cutOff.join(', ')} without its convolution)` : ''}`,
      { reference: splitTwin.suffix },
    );
    // Planned, not refused: every BatchNorm is in a block (none is left to TensorFlow.js's layer).
    assert.ok(stats.blocks > 0 && stats.normOps === 0, JSON.stringify(stats));
    t0dispose(x, model, twin);
    split.head.dispose();
    splitTwin.head.dispose();
  }
  assert.ok(separated >= 3, `${separated} cuts separate a BatchNorm from its convolution`);
});

test('training from scratch: BatchNorm without gamma or beta learns its statistics as the layer does, with the gradients of autodiff', () => {
  const { model, twin } = pair(inceptionStyle, 7);
  const x = randomInputs(model, 4, 17);
  const stats = compareGradients(model, x, 'InceptionV3-style, BatchNorm in training mode', { reference: twin, training: true });
  assert.equal(stats.blocks, 0, 'nothing is fused when BatchNorm learns its batch statistics');
  for (const name of ['batch_normalization_1', 'bn_no_beta', 'bn_bare']) {
    const [own, ref] = [model, twin].map((m) =>
      m
        .getLayer(name)
        .weights.find((w) => w.originalName.endsWith('moving_mean'))!
        .read()
        .dataSync(),
    );
    assert.ok(
      own.every((v, i) => Math.abs(v - ref[i]) < 1e-5),
      `${name}: moving mean updated as the layer does`,
    );
  }
  t0dispose(x, model, twin);
});

test('EfficientNet, MobileNetV3 and ConvNeXt pieces: the lean blocks take them all, with the gradients of autodiff', () => {
  const { model, twin } = pair(familyMix, 9);
  const x = randomInputs(model, 2, 19);
  const stats = compareGradients(model, x, 'family mix', { reference: twin });
  // stem conv-BN-swish, the two squeeze-excite convolutions, depthwise-BN-gelu, SeparableConv2D's
  // pointwise half with its hard sigmoid; ConvNeXt's depthwise, LayerNormalization, pointwise
  // Dense + gelu, pointwise Dense; the final LayerNormalization (without beta) too.
  assert.equal(stats.blocks, 10, JSON.stringify(stats));
  assert.equal(stats.normOps, 0, 'no LayerNormalization left to plain ops');
  assert.equal(stats.generic, 0, `nothing falls back to autodiff: ${JSON.stringify(stats.plain)}`);
  t0dispose(x, model, twin);
});

function t0dispose(x: tfTypes.Tensor[], ...models: tfTypes.LayersModel[]) {
  tf().dispose(x);
  for (const m of models) m.dispose();
}

test('an InceptionV3-style backbone fine-tunes end to end with unfreezeLast 6 and 20, and trains from scratch', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-inception-'));
  const { model, twin } = pair(inceptionStyle, 21);
  const modelJson = await saveLayersModel(model, path.join(work, 'inception'));
  const saved = new Map(model.layers.map((l) => [l.name, l.getWeights().map((w) => w.dataSync().slice())]));
  model.dispose();
  twin.dispose();
  for (const strategy of [
    { kind: 'fine-tune' as const, unfreezeLast: 6, baseLearningRate: 1e-2, warmupEpochs: 0 },
    { kind: 'fine-tune' as const, unfreezeLast: 20, baseLearningRate: 1e-2, warmupEpochs: 0 },
    { kind: 'scratch' as const },
  ]) {
    const name = strategy.kind === 'scratch' ? 'inception-scratch' : `inception-ft-${strategy.unfreezeLast}`;
    const exp: ExperimentFile = {
      name,
      data: { dir: path.join(installRoot, 'media/datasets/fashion-target'), seed: 3 },
      backbone: { path: modelJson },
      strategy,
      head: { pooling: 'avg', dense: [], dropout: 0 },
      train: { epochs: 1, batchSize: 16, optimizer: 'adam', learningRate: 0.01 },
    };
    const file = path.join(work, `${name}.tlexp.json`);
    fs.writeFileSync(file, JSON.stringify(exp));
    const outcome = await runExperiment({
      experimentFile: file,
      runsDir: path.join(work, 'runs'),
      cacheDir: path.join(work, 'cache'),
      installRoot,
      backend: 'test',
      onEvent: () => {},
      shouldStop: () => false,
    });
    assert.equal(outcome.status, 'succeeded', `${name}: ${outcome.error?.message}`);
    const log = fs.readFileSync(path.join(outcome.runDir, 'log.txt'), 'utf8');
    assert.match(log, /lean fine-tuning \(training plan\): \d+ custom-gradient block/, `${name}: the trainable base ran as a training plan`);
    const record = JSON.parse(fs.readFileSync(path.join(outcome.runDir, 'run.json'), 'utf8')) as {
      freeze: { trainable: string[]; frozen: string[] };
      notes?: string[];
    };
    // A model.json with no preprocessing metadata: what the loader assumed is kept with the run.
    assert.ok((record.notes ?? []).length > 0, `${name}: the loader's notes are in run.json`);
    for (const note of record.notes!) assert.ok(log.includes(note), `${name}: '${note}' is in log.txt`);
    // The trained layers moved; the frozen ones did not.
    const exported = await tf().loadLayersModel(`file://${path.join(outcome.runDir, 'model', 'model.json')}`);
    const moved = (layer: string) =>
      exported
        .getLayer(layer)
        .getWeights()
        .some((w, i) => w.dataSync().some((v, j) => v !== saved.get(layer)![i][j]));
    const withWeights = (names: string[]) => names.filter((n) => (saved.get(n)?.length ?? 0) > 0 && exported.getLayer(n).trainableWeights.length > 0);
    assert.ok(withWeights(record.freeze.trainable).some(moved), `${name}: a trainable base layer changed`);
    if (strategy.kind !== 'scratch') assert.ok(!withWeights(record.freeze.frozen).some(moved), `${name}: frozen layers unchanged`);
    exported.dispose();
  }
});

test('a layer the training plan does not know runs under autodiff and the log line names it', () => {
  const t = tf();
  const L = t.layers;
  const input = t.input({ shape: [6, 6, 3] });
  let x = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false, name: 'conv' }).apply(input) as ST;
  x = L.batchNormalization({ name: 'bn' }).apply(x) as ST;
  x = L.activation({ activation: 'swish', name: 'act' }).apply(x) as ST;
  x = L.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as ST;
  x = L.conv2d({ filters: 2, kernelSize: 1, activation: 'gelu', name: 'head_conv' }).apply(x) as ST;
  const model = t.model({ inputs: input, outputs: x });
  const xs = randomInputs(model, 2, 5);
  const stats = compareGradients(model, xs, 'one unknown layer');
  assert.equal(stats.blocks, 2);
  assert.deepEqual(stats.plain, { UpSampling2D: ['up'] });
  assert.equal(
    describeTrainingPlan(stats),
    'lean fine-tuning (training plan): 2 custom-gradient block(s) for 4 of 5 layers, 0 layer(s) as plain ops, 0 normalisation(s) as plain ops; fell back to autodiff: UpSampling2D x 1 (up)',
  );
  t0dispose(xs, model);
});
