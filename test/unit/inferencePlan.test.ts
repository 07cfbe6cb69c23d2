// The fast frozen path gives the model's own outputs: on real images (the shipped dataset's
// Fashion-MNIST PNGs, resized as the engine does), for Keras-built MobileNet v1 and v2 with
// random weights and random BatchNorm statistics, and for the shipped backbone; with the
// plan stopping at an inner layer; and without leaking tensors between batches. A BatchNorm
// before a convolution folds only where that is exact; a layer the plan does not know runs
// as itself and the run log names it. (Every Keras Applications family against Keras's own
// outputs: inferencePlanFamilies.test.ts.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { decodeImageFile } from '../../src/engine/imageDecode';
import { buildMobileNetV1, buildMobileNetV2 } from '../../src/engine/referenceNets';
import * as os from 'node:os';
import { compileInferencePlan, describeInferencePlan } from '../../src/engine/inferencePlan';
import { runExperiment } from '../../src/engine/runExperiment';
import type { ExperimentFile } from '../../src/core/experiment';

const installRoot = path.resolve(__dirname, '../../..');
const images = path.join(installRoot, 'media/datasets/fashion-target/train');

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
});

/** n real images from different classes, as a float batch in [-1, 1] (MobileNet's range). */
async function realBatch(n: number, size: number): Promise<tfTypes.Tensor4D> {
  const files = fs
    .readdirSync(images)
    .flatMap((c) =>
      fs
        .readdirSync(path.join(images, c))
        .slice(0, 2)
        .map((f) => path.join(images, c, f)),
    )
    .slice(0, n);
  const pixels = new Float32Array(n * size * size * 3);
  for (let i = 0; i < files.length; i++) {
    const d = await decodeImageFile(files[i], { height: size, width: size });
    for (let j = 0; j < d.rgb.length; j++) pixels[i * d.rgb.length + j] = d.rgb[j] / 127.5 - 1;
  }
  return tf().tensor4d(pixels, [n, size, size, 3]);
}

/** Largest difference, absolute and relative to the output's scale. */
function compare(a: tfTypes.Tensor, b: tfTypes.Tensor): { abs: number; rel: number } {
  return tf().tidy(() => {
    const abs = tf()
      .max(tf().abs(tf().sub(a, b)))
      .dataSync()[0];
    const scale = Math.max(1e-6, tf().max(tf().abs(b)).dataSync()[0]);
    return { abs, rel: abs / scale };
  });
}

async function checkEquivalent(name: string, model: tfTypes.LayersModel, x: tfTypes.Tensor4D, upTo?: string) {
  const plan = compileInferencePlan(model, { upTo });
  const expected = upTo
    ? (tf()
        .model({ inputs: model.inputs, outputs: model.getLayer(upTo).output as tfTypes.SymbolicTensor })
        .predict(x) as tfTypes.Tensor)
    : (model.predict(x) as tfTypes.Tensor);
  const actual = plan.run(x);
  assert.deepEqual(actual.shape, expected.shape);
  const d = compare(actual, expected);
  console.log(
    `# ${name}${upTo ? ` up to ${upTo}` : ''}: max |diff| ${d.abs.toExponential(2)} (${d.rel.toExponential(2)} of the output's scale); ${JSON.stringify(plan.stats)}`,
  );
  assert.ok(d.rel < 1e-4 && d.abs < 1e-4 * Math.max(1, tf().max(tf().abs(expected)).dataSync()[0]), `${name}: outputs differ by ${d.abs}`);
  tf().dispose([actual, expected]);
  plan.dispose();
  return plan.stats;
}

test('MobileNet v2 (Keras architecture, random weights): the plan equals the model on real images', async () => {
  const model = buildMobileNetV2({ inputSize: 96, seed: 3 });
  const x = await realBatch(6, 96);
  const stats = await checkEquivalent('MobileNetV2 96', model, x);
  // Every BatchNorm after a convolution folded, every stride-2 padding merged, nothing generic.
  assert.equal(stats.folded, 52);
  assert.equal(stats.paddingsMerged, 4);
  assert.equal(stats.generic, 0);
  await checkEquivalent('MobileNetV2 96', model, x, 'block_6_expand_relu');
  x.dispose();
  model.dispose();
});

test('MobileNet v2 at 224 (the size the benchmarks use)', async () => {
  const model = buildMobileNetV2({ inputSize: 224, seed: 5 });
  const x = await realBatch(2, 224);
  await checkEquivalent('MobileNetV2 224', model, x);
  x.dispose();
  model.dispose();
});

test('MobileNet v1 (Keras architecture, random weights): the plan equals the model on real images', async () => {
  const model = buildMobileNetV1({ inputSize: 128, seed: 4 });
  const x = await realBatch(6, 128);
  const stats = await checkEquivalent('MobileNetV1 128', model, x);
  assert.equal(stats.folded, 27);
  assert.equal(stats.paddingsMerged, 4);
  x.dispose();
  model.dispose();
});

test('the shipped backbone (fmnist-mini): the plan equals the model, whole and up to its usual cut', async () => {
  const model = await tf().loadLayersModel(`file://${path.join(installRoot, 'media/backbones/fmnist-mini/model.json')}`);
  const size = model.inputs[0].shape[1] as number;
  const x = await realBatch(8, size);
  await checkEquivalent('fmnist-mini', model, x, 'out_relu');
  await checkEquivalent('fmnist-mini', model, x, 'block_3_pw_relu');
  x.dispose();
  model.dispose();
});

test('no tensor outlives a batch: repeated runs leave the tensor count flat', async () => {
  const model = buildMobileNetV2({ inputSize: 96, seed: 6 });
  const plan = compileInferencePlan(model);
  const x = await realBatch(2, 96);
  plan.run(x).dispose();
  const before = tf().memory().numTensors;
  for (let i = 0; i < 5; i++) plan.run(x).dispose();
  assert.equal(tf().memory().numTensors, before);
  plan.dispose();
  x.dispose();
  model.dispose();
});

// ---------------------------------------------------------------------------------------
// A BatchNormalization before a convolution (pre-activation nets, a cut between the two).

type ST = tfTypes.SymbolicTensor;

/** Random BatchNorm statistics far from the identity: a wrong fold shows at once. */
function randomize(model: tfTypes.LayersModel, seed: number) {
  const t = tf();
  let s = seed;
  for (const w of model.weights) {
    const role = w.originalName.split('/').pop();
    const [lo, hi] = role === 'gamma' || role === 'moving_variance' ? [0.5, 2] : role === 'beta' || role === 'moving_mean' ? [-3, 3] : [-0.5, 0.5];
    const v = t.randomUniform(w.shape as number[], lo, hi, 'float32', s++);
    w.write(v);
    v.dispose();
  }
}

/** A case of the BatchNorm folding test: what follows a ReLU, and how many BatchNorms should fold. */
interface FoldCase {
  name: string;
  folded: number;
  steps?: number;
  build: (x: ST) => ST;
}

function foldCases(L: ReturnType<typeof tf>['layers']): FoldCase[] {
  return [
    // conv(x * s + t) = conv(x, W * s) + sum(W * t) holds when no padded zero enters a window.
    {
      name: "BN -> conv 3x3 'valid'",
      folded: 1,
      build: (x) => L.conv2d({ filters: 5, kernelSize: 3, padding: 'valid' }).apply(L.batchNormalization().apply(x)) as ST,
    },
    {
      name: "BN -> conv 1x1 'same', stride 2",
      folded: 1,
      build: (x) => L.conv2d({ filters: 5, kernelSize: 1, strides: 2, padding: 'same' }).apply(L.batchNormalization().apply(x)) as ST,
    },
    {
      name: "BN -> depthwise 3x3 'valid' with bias",
      folded: 1,
      build: (x) => L.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid' }).apply(L.batchNormalization().apply(x)) as ST,
    },
    {
      name: 'BN (scale=False) -> Dense on the 4-D tensor',
      folded: 1,
      build: (x) => L.dense({ units: 6 }).apply(L.batchNormalization({ scale: false }).apply(x)) as ST,
    },
    // 'same' pads the normalised input with zeros: the border windows would see t where they saw 0.
    {
      name: "BN -> conv 3x3 'same' (not folded)",
      folded: 0,
      build: (x) => L.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }).apply(L.batchNormalization().apply(x)) as ST,
    },
    {
      name: "BN -> depthwise 3x3 'same' (not folded)",
      folded: 0,
      build: (x) => L.depthwiseConv2d({ kernelSize: 3, padding: 'same' }).apply(L.batchNormalization().apply(x)) as ST,
    },
    {
      name: "BN -> ZeroPadding2D -> conv 'valid' (not folded)",
      folded: 0,
      build: (x) =>
        L.conv2d({ filters: 5, kernelSize: 3, padding: 'valid' }).apply(L.zeroPadding2d({ padding: 1 }).apply(L.batchNormalization().apply(x))) as ST,
    },
    // A scale alone commutes with zero padding.
    {
      name: "Rescaling(2) -> conv 3x3 'same'",
      folded: 0,
      steps: 2,
      build: (x) => L.conv2d({ filters: 5, kernelSize: 3, padding: 'same' }).apply(L.rescaling({ scale: 2 }).apply(x)) as ST,
    },
    // BN -> ReLU -> conv (DenseNet) cannot fold; BN read twice neither.
    {
      name: 'BN -> ReLU -> conv (not folded)',
      folded: 0,
      build: (x) => L.conv2d({ filters: 5, kernelSize: 1 }).apply(L.reLU().apply(L.batchNormalization().apply(x))) as ST,
    },
    {
      name: 'BN read by two convolutions (not folded)',
      folded: 0,
      build: (x) => {
        const bn = L.batchNormalization().apply(x) as ST;
        return L.add().apply([L.conv2d({ filters: 4, kernelSize: 1 }).apply(bn) as ST, L.conv2d({ filters: 4, kernelSize: 1 }).apply(bn) as ST]) as ST;
      },
    },
  ];
}

test('a BatchNorm before a convolution folds into it only where the convolution adds no zero padding', async () => {
  const t = tf();
  const L = t.layers;
  const cases = foldCases(L);
  const x = t.randomNormal([3, 9, 9, 4], 0, 2, 'float32', 5) as tfTypes.Tensor4D;
  for (const [i, c] of cases.entries()) {
    const input = t.input({ shape: [9, 9, 4] });
    // A convolution first, so the BatchNorm is not folded backwards into anything: it is a
    // ReLU's output (the pre-activation shape), which the BatchNorm cannot go into.
    const pre = L.reLU().apply(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same' }).apply(input)) as ST;
    const model = t.model({ inputs: input, outputs: c.build(pre) });
    randomize(model, 100 + i * 10);
    const stats = await checkEquivalent(c.name, model, x);
    assert.equal(stats.folded, c.folded, `${c.name}: ${JSON.stringify(stats)}`);
    // Folded: the first convolution (+ ReLU) and the second; not folded: the BatchNorm between.
    if (c.name.includes('(not folded)') && !c.name.includes('two')) assert.equal(stats.steps, 3, `${c.name}: ${JSON.stringify(stats)}`);
    if (c.folded === 1 || c.steps) assert.equal(stats.steps, c.steps ?? 2, `${c.name}: ${JSON.stringify(stats)}`);
    assert.equal(stats.generic, 0);
    model.dispose();
  }
  x.dispose();
});

// ---------------------------------------------------------------------------------------
// What the run log says.

test('a layer the plan does not know runs as itself and is named, by class, in the plan line', async () => {
  const t = tf();
  const L = t.layers;
  const input = t.input({ shape: [6, 6, 3] });
  let x = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'conv' }).apply(input) as ST;
  x = L.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as ST;
  x = L.permute({ dims: [2, 1, 3], name: 'swap_hw' }).apply(x) as ST;
  x = L.conv2d({ filters: 2, kernelSize: 1, activation: 'relu', name: 'head_conv' }).apply(x) as ST;
  const model = t.model({ inputs: input, outputs: x });
  const x0 = t.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 3) as tfTypes.Tensor4D;
  const stats = await checkEquivalent('unknown layers', model, x0);
  assert.equal(stats.generic, 2);
  assert.deepEqual(stats.plain, { UpSampling2D: ['up'], Permute: ['swap_hw'] });
  const line = describeInferencePlan(stats);
  assert.match(line, /^fast path: 2 of 4 layers planned/);
  assert.match(line, /these ran as plain tfjs layers: Permute x 1 \(swap_hw\); UpSampling2D x 1 \(up\)$/);
  x0.dispose();
  model.dispose();
});

test("a run's log.txt says what the fast path planned", async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-plan-log-'));
  try {
    const exp: ExperimentFile = {
      name: 'plan-log',
      data: { dir: path.join(installRoot, 'media/datasets/fashion-target'), seed: 3 },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'feature-extraction' },
      head: { pooling: 'avg', dense: [], dropout: 0 },
      train: { epochs: 1, batchSize: 16, optimizer: 'adam', learningRate: 0.01 },
    };
    const file = path.join(work, 'plan-log.tlexp.json');
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
    assert.equal(outcome.status, 'succeeded', outcome.error?.message);
    const log = fs.readFileSync(path.join(outcome.runDir, 'log.txt'), 'utf8');
    assert.match(
      log,
      /frozen layers: inference plan; fast path: (\d+) of \1 layers planned \(\d+ BatchNorm folded, \d+ fused convolutions, \d+ paddings merged\); none ran as plain tfjs layers/,
    );
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
