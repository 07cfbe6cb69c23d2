// Model surgery and the training loop on a small MobileNet-like network built in code:
// each strategy trains exactly the weights it should, BatchNorm statistics stay put while
// fine-tuning, and tensors do not leak across epochs.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { splitModel, planFreeze, cutModel, assembleFullModel, LayerError } from '../../src/engine/modelSurgery';
import { trainSplitModel, scheduleFactor, DivergedError } from '../../src/engine/trainLoop';
import { allocateTable, type FeatureTable } from '../../src/engine/featureTable';
import type { ResolvedExperiment } from '../../src/core/experiment';

before(async () => {
  await loadBackend({ preference: (process.env.TL_TEST_BACKEND as 'cpu') ?? 'auto', installRoot: path.resolve(__dirname, '../../..') });
});

function backbone(): tfTypes.LayersModel {
  const t = tf();
  const input = t.input({ shape: [16, 16, 3], name: 'input_1' });
  let x = t.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_conv' }).apply(input) as tfTypes.SymbolicTensor;
  x = t.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(x) as tfTypes.SymbolicTensor;
  const shortcut = x;
  x = t.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'block_1_depthwise' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.batchNormalization({ name: 'block_1_depthwise_bn' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, name: 'block_1_project' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.batchNormalization({ name: 'block_1_project_bn' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.add({ name: 'block_1_add' }).apply([shortcut, x]) as tfTypes.SymbolicTensor; // residual: two boundary inputs
  x = t.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same', name: 'block_2_conv' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.reLU({ maxValue: 6, name: 'out_relu' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.dense({ units: 4, activation: 'softmax', name: 'predictions' }).apply(x) as tfTypes.SymbolicTensor;
  return t.model({ inputs: input, outputs: x });
}

const head = { pooling: 'avg' as const, dense: [], dropout: 0.1 };
const train: ResolvedExperiment['train'] = {
  epochs: 2,
  batchSize: 8,
  optimizer: 'adam',
  learningRate: 0.01,
  momentum: 0,
  schedule: { kind: 'constant' },
  earlyStopping: null,
  checkpointMetric: 'val_loss',
  seed: 42,
};

/** Random inputs for the trainable part, with learnable labels (sign of the mean). */
function tables(shapes: number[][], n = 32): { train: FeatureTable; val: FeatureTable } {
  const make = (count: number, seed: number) => {
    const labels = new Int32Array(count);
    const table = allocateTable(
      count,
      1,
      shapes,
      labels,
      Array.from({ length: count }, (_, i) => `img${i}.png`),
    );
    let s = seed;
    for (const arr of table.data[0]) for (let i = 0; i < arr.length; i++) arr[i] = ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (let i = 0; i < count; i++) labels[i] = i % 2;
    return table;
  };
  return { train: make(n, 1), val: make(8, 2) };
}

function snapshot(model: tfTypes.LayersModel): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const layer of model.layers) layer.getWeights().forEach((w, i) => m.set(`${layer.name}/${i}`, w.dataSync() as Float32Array));
  return m;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('the cut keeps the layers up to cutAt, and an unknown cut names the layer', () => {
  const base = backbone();
  const cut = cutModel(base, 'out_relu');
  assert.equal(cut.layers.at(-1)!.name, 'out_relu');
  assert.deepEqual(cut.outputs[0].shape, [null, 8, 8, 16]);
  assert.throws(
    () => cutModel(base, 'out_relu6'),
    (e: unknown) => e instanceof LayerError && /no layer 'out_relu6'.*Did you mean 'out_relu'/.test(e.message),
  );
});

test('freeze plan: the boundary of a residual block has two tensors', () => {
  const cut = cutModel(backbone(), 'out_relu');
  const plan = planFreeze(cut, 'out_relu', { kind: 'fine-tune', unfreezeFrom: 'block_1_depthwise', baseLearningRate: 1e-3, warmupEpochs: 0 });
  assert.deepEqual(plan.boundary, ['stem_relu']);
  const late = planFreeze(cut, 'out_relu', { kind: 'fine-tune', unfreezeFrom: 'block_1_project', baseLearningRate: 1e-3, warmupEpochs: 0 });
  assert.deepEqual(late.boundary.sort(), ['block_1_depthwise_bn', 'stem_relu']);
  assert.deepEqual(late.trainable, ['block_1_project', 'block_1_project_bn', 'block_1_add', 'block_2_conv', 'out_relu']);
  const last2 = planFreeze(cut, 'out_relu', { kind: 'fine-tune', unfreezeLast: 2, baseLearningRate: 1e-3, warmupEpochs: 0 });
  assert.deepEqual(last2.trainable, ['block_2_conv', 'out_relu']);
  assert.throws(
    () => planFreeze(cut, 'out_relu', { kind: 'fine-tune', unfreezeFrom: 'predictions', baseLearningRate: 1e-3, warmupEpochs: 0 }),
    /strategy.unfreezeFrom: no layer 'predictions' in the base \(the base is cut at 'out_relu'/,
  );
});

test('feature extraction trains only the head; the base is bitwise unchanged', async () => {
  const base = backbone();
  const split = await splitModel(base, 'out_relu', { kind: 'feature-extraction' }, head, 2);
  assert.equal(split.suffix, null);
  const before = snapshot(split.cut!);
  const headBefore = snapshot(split.head);
  await trainSplitModel(split, tables(split.boundaryShapes), train, { kind: 'feature-extraction' }, 1);
  for (const [k, v] of snapshot(split.cut!)) assert.ok(same(v, before.get(k)!), `${k} changed`);
  const changed = [...snapshot(split.head)].filter(([k, v]) => !same(v, headBefore.get(k)!));
  assert.ok(changed.length >= 2, 'head kernel and bias changed');
});

test('fine-tune trains the unfrozen layers only and keeps BatchNorm statistics (inference mode)', async () => {
  const base = backbone();
  const strategy = { kind: 'fine-tune' as const, unfreezeFrom: 'block_1_project', baseLearningRate: 1e-2, warmupEpochs: 0 };
  const split = await splitModel(base, 'out_relu', strategy, head, 2);
  assert.ok(split.prefix && split.suffix);
  assert.equal(split.boundaryShapes.length, 2);
  const before = snapshot(split.cut!);
  await trainSplitModel(split, tables(split.boundaryShapes), train, strategy, 1);
  const after = snapshot(split.cut!);
  for (const name of ['stem_conv', 'stem_bn', 'block_1_depthwise', 'block_1_depthwise_bn']) {
    for (const [k, v] of after) if (k.startsWith(`${name}/`)) assert.ok(same(v, before.get(k)!), `frozen ${k} changed`);
  }
  assert.ok(!same(after.get('block_1_project/0')!, before.get('block_1_project/0')!), 'unfrozen conv kernel changed');
  assert.ok(!same(after.get('block_2_conv/0')!, before.get('block_2_conv/0')!), 'unfrozen conv kernel changed');
  // BatchNorm weights: [gamma, beta, movingMean, movingVariance]; statistics stay (inference mode).
  assert.ok(same(after.get('block_1_project_bn/2')!, before.get('block_1_project_bn/2')!), 'moving mean unchanged');
  assert.ok(same(after.get('block_1_project_bn/3')!, before.get('block_1_project_bn/3')!), 'moving variance unchanged');
  assert.ok(!same(after.get('block_1_project_bn/0')!, before.get('block_1_project_bn/0')!), 'gamma trains');
});

test('warm-up epochs train the head alone before the base unfreezes', async () => {
  const strategy = { kind: 'fine-tune' as const, unfreezeLast: 2, baseLearningRate: 1e-2, warmupEpochs: 2 };
  const split = await splitModel(backbone(), 'out_relu', strategy, head, 2);
  const before = snapshot(split.cut!);
  const result = await trainSplitModel(split, tables(split.boundaryShapes), { ...train, epochs: 2 }, strategy, 1);
  assert.deepEqual(
    result.history.map((h) => h.baseTrainable),
    [false, false],
  );
  for (const [k, v] of snapshot(split.cut!)) assert.ok(same(v, before.get(k)!), `${k} changed during warm-up`);
});

test('scratch re-initialises the same architecture and trains everything', async () => {
  const base = backbone();
  const pretrained = snapshot(cutModel(base, 'out_relu'));
  const split = await splitModel(base, 'out_relu', { kind: 'scratch' }, head, 2);
  assert.equal(split.prefix, null);
  const fresh = snapshot(split.cut!);
  assert.deepEqual([...fresh.keys()], [...pretrained.keys()], 'same layers and weights');
  assert.ok(!same(fresh.get('stem_conv/0')!, pretrained.get('stem_conv/0')!), 'weights re-initialised');
  await trainSplitModel(split, tables(split.boundaryShapes), train, { kind: 'scratch' }, 1);
  const after = snapshot(split.cut!);
  assert.ok(!same(after.get('stem_conv/0')!, fresh.get('stem_conv/0')!), 'first layer trains');
});

test("scratch: the best checkpoint brings back that epoch's BatchNorm statistics with its weights", async () => {
  const split = await splitModel(backbone(), 'out_relu', { kind: 'scratch' }, head, 2);
  const stats = split.suffix!.nonTrainableWeights.map((w) => w.read());
  assert.ok(stats.length > 0, 'the backbone has BatchNorm moving statistics');
  const perEpoch: Float32Array[] = [];
  const result = await trainSplitModel(split, tables(split.boundaryShapes), { ...train, epochs: 6, learningRate: 0.05 }, { kind: 'scratch' }, 1, {
    onEpoch: () => void perEpoch.push(stats[0].dataSync().slice() as Float32Array),
  });
  assert.ok(result.bestEpoch >= 1);
  const final = stats[0].dataSync();
  assert.deepEqual(Array.from(final), Array.from(perEpoch[result.bestEpoch - 1]), `moving mean of epoch ${result.bestEpoch} (the best), not of the last`);
  if (result.bestEpoch < perEpoch.length) assert.notDeepEqual(Array.from(final), Array.from(perEpoch.at(-1)!));
});

test('tensor count stays flat across epochs', async () => {
  const split = await splitModel(backbone(), 'out_relu', { kind: 'fine-tune', unfreezeLast: 3, baseLearningRate: 1e-3, warmupEpochs: 1 }, head, 2);
  const data = tables(split.boundaryShapes);
  const counts: number[] = [];
  await trainSplitModel(split, data, { ...train, epochs: 5 }, { kind: 'fine-tune', unfreezeLast: 3, baseLearningRate: 1e-3, warmupEpochs: 1 }, 1, {
    onEpoch: () => void counts.push(tf().memory().numTensors),
  });
  // Epoch 1 is warm-up; from epoch 2 on (optimizer state allocated) the count is constant.
  assert.equal(new Set(counts.slice(2)).size, 1, `tensor counts per epoch: ${counts.join(', ')}`);
});

test('the assembled model equals prefix + suffix + head', async () => {
  const strategy = { kind: 'fine-tune' as const, unfreezeFrom: 'block_1_project', baseLearningRate: 1e-3, warmupEpochs: 0 };
  const split = await splitModel(backbone(), 'out_relu', strategy, head, 2);
  const full = assembleFullModel(split, 'exported');
  const t = tf();
  const x = t.randomUniform([3, 16, 16, 3]);
  const direct = full.predict(x) as tfTypes.Tensor;
  const parts = split.head.predict(split.suffix!.predict(split.prefix!.predict(x) as tfTypes.Tensor[]) as tfTypes.Tensor) as tfTypes.Tensor;
  assert.ok(t.max(t.abs(t.sub(direct, parts))).dataSync()[0] < 1e-5);
});

test('learning-rate schedules: step and cosine (down to minLearningRate)', () => {
  assert.equal(scheduleFactor({ kind: 'constant' }, 5, 10, 0.01), 1);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((e) => scheduleFactor({ kind: 'step', every: 2, factor: 0.5 }, e, 10, 0.01)),
    [1, 1, 0.5, 0.5, 0.25],
  );
  assert.equal(scheduleFactor({ kind: 'cosine' }, 0, 10, 0.01), 1);
  assert.ok(Math.abs(scheduleFactor({ kind: 'cosine' }, 5, 10, 0.01) - 0.5) < 1e-12);
  assert.ok(Math.abs(scheduleFactor({ kind: 'cosine', minLearningRate: 0.001 }, 10, 10, 0.01) - 0.1) < 1e-12);
});

test('SGD with momentum and RMSprop train; the epoch history carries the scheduled rate', async () => {
  for (const optimizer of ['sgd', 'rmsprop'] as const) {
    const split = await splitModel(backbone(), 'out_relu', { kind: 'feature-extraction' }, head, 2);
    const result = await trainSplitModel(
      split,
      tables(split.boundaryShapes),
      { ...train, optimizer, momentum: 0.9, epochs: 3, schedule: { kind: 'step', every: 1, factor: 0.5 } },
      { kind: 'feature-extraction' },
      1,
    );
    assert.deepEqual(
      result.history.map((h) => h.learningRate),
      [0.01, 0.005, 0.0025],
      optimizer,
    );
    assert.ok(
      result.history.every((h) => Number.isFinite(h.loss)),
      optimizer,
    );
  }
});

test('a loss that becomes NaN stops training and says at which step', async () => {
  const split = await splitModel(backbone(), 'out_relu', { kind: 'feature-extraction' }, head, 2);
  const data = tables(split.boundaryShapes);
  data.train.data[0][0].fill(Number.NaN);
  await assert.rejects(
    trainSplitModel(split, data, train, { kind: 'feature-extraction' }, 1),
    (e: unknown) => e instanceof DivergedError && /epoch 1, step 1/.test(e.message),
  );
});

test('unfreezeFrom names the Keras layer: a layer the Keras rewrite split (X__linear + X) trains whole, its weights included', () => {
  const t = tf();
  const input = t.input({ shape: [8, 8, 3], name: 'input_1' });
  let x = t.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'stem' }).apply(input) as tfTypes.SymbolicTensor;
  // What kerasRewrites makes of Conv2D(activation="hard_silu"): the weights in conv__linear, the activation keeps the name.
  x = t.layers.conv2d({ filters: 4, kernelSize: 1, name: 'conv__linear' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.activation({ activation: 'swish', name: 'conv' }).apply(x) as tfTypes.SymbolicTensor;
  const cut = t.model({ inputs: input, outputs: x });
  const plan = planFreeze(cut, 'conv', { kind: 'fine-tune', unfreezeFrom: 'conv', baseLearningRate: 1e-3, warmupEpochs: 0 });
  assert.deepEqual(plan.trainable, ['conv__linear', 'conv']);
  assert.deepEqual(plan.frozen, ['stem']);
  cut.dispose();
});
