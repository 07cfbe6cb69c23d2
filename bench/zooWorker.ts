// The TensorFlow.js side of the zoo rows of `npm run bench` (bench/zoo.ts): one measurement
// per process (fresh memory, an honest peak RSS). Reads a JSON job from argv[2], prints one
// JSON line. The model is the .keras file Keras saved (bench/keras_bench.py zoo-save), read by
// the product's own loader and run through the product's own entry points:
//
//   zoo-forward   loadBackbone -> splitModel (feature extraction) -> compileInferencePlan of
//                 the frozen part, as runExperiment builds the featurizer's prefix (and, like
//                 it, model.predict where the plan refuses the model);
//   zoo-finetune  loadBackbone -> splitModel (fine-tune from the unfreeze point): the frozen
//                 prefix through its inference plan outside the tape (what featurize computes),
//                 then trainLoop's step: the trainable base through compileTrainingPlan (or as
//                 a model under autodiff where the plan refuses it, as trainLoop does), the
//                 new head with dropout active, categorical cross-entropy, variableGrads, one
//                 Adam for the head and one for the base, loss and accuracy read back.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../src/engine/backend';
import { loadBackbone } from '../src/engine/backboneLoader';
import { compileInferencePlan, InferencePlanError, type InferencePlan } from '../src/engine/inferencePlan';
import { splitModel } from '../src/engine/modelSurgery';
import { compileTrainingPlan, type TrainingPlan } from '../src/engine/trainingPlan';
import { EXPERIMENT_DEFAULTS } from '../src/core/experimentValidation';
import { tf } from '../src/engine/tf';
import { runWorker } from './workerMain';

/** Where training starts: at a layer, or right after one (InceptionV3: after mixed8). */
export type Unfreeze = { from: string } | { after: string };

type Job =
  | { kind: 'zoo-forward'; file: string; batch: number; warmup: number; iters: number }
  | { kind: 'zoo-finetune'; file: string; batch: number; warmup: number; iters: number; unfreeze: Unfreeze };

const installRoot = path.resolve(__dirname, '../..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const CLASSES = 5;
const head = { ...EXPERIMENT_DEFAULTS.head, dense: [] as number[] };
/** A plan's stats as "key value" pairs, whatever fields the plan reports. */
const describeStats = (stats: object) =>
  Object.entries(stats)
    .map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : v}`)
    .join(', ');

function peakRssBytes(): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : undefined;
}

async function load(file: string) {
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-zoo-'));
  try {
    const loaded = await loadBackbone({ path: file }, { installRoot, cacheDir });
    if (loaded.kind !== 'layers') throw new Error(`${file} loaded as a ${loaded.kind} model`);
    return loaded;
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** The frozen part as runExperiment runs it: the inference plan, else model.predict. */
function frozenRunner(prefix: tfTypes.LayersModel): { run: (x: tfTypes.Tensor4D) => tfTypes.Tensor; plan: InferencePlan | null; path: string } {
  try {
    const plan = compileInferencePlan(prefix);
    return { run: (x) => plan.run(x), plan, path: `inference plan (${describeStats(plan.stats)})` };
  } catch (e) {
    if (!(e instanceof InferencePlanError)) throw e;
    return { run: (x) => prefix.predict(x, { batchSize: x.shape[0] }) as tfTypes.Tensor, plan: null, path: `model.predict (the plan refused: ${e.message})` };
  }
}

async function timeIt(warmup: number, iters: number, once: () => void): Promise<number[]> {
  for (let i = 0; i < warmup; i++) once();
  const times: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    once();
    times.push(performance.now() - t0);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return times;
}

type Tf = ReturnType<typeof tf>;
type LayersBackbone = Awaited<ReturnType<typeof load>>;
type FinetuneJob = Extract<Job, { kind: 'zoo-finetune' }>;

async function zooForward(t: Tf, job: Job, loaded: LayersBackbone, x: tfTypes.Tensor4D): Promise<object> {
  const split = await splitModel(loaded.model, loaded.cutAt, { kind: 'feature-extraction' }, head, CLASSES);
  const frozen = frozenRunner(split.prefix!);
  const times = await timeIt(job.warmup, job.iters, () => {
    const y = t.tidy(() => frozen.run(x));
    y.dataSync();
    y.dispose();
  });
  return { imgPerSec: (job.batch * 1000) / median(times), times, frozenPath: frozen.path, planStats: frozen.plan?.stats, peakRssBytes: peakRssBytes() };
}

/** The fine-tune split at the job's unfreeze point, its frozen runner, and the trainable base as trainLoop runs it. */
async function fineTuneParts(loaded: LayersBackbone, unfreeze: Unfreeze) {
  const names = loaded.model.layers.map((l) => l.name);
  const unfreezeFrom = 'from' in unfreeze ? unfreeze.from : names[names.indexOf(unfreeze.after) + 1];
  if (!unfreezeFrom || !names.includes(unfreezeFrom)) throw new Error(`no layer ${JSON.stringify(unfreeze)} in the loaded model`);
  const strategy = { kind: 'fine-tune' as const, unfreezeFrom, baseLearningRate: 1e-5, warmupEpochs: 0 };
  const split = await splitModel(loaded.model, loaded.cutAt, strategy, head, CLASSES);
  if (!split.prefix || !split.suffix) throw new Error(`unfreezing from ${unfreezeFrom} leaves no frozen prefix or no trainable base`);
  // Every unfreeze point of bench/zoo.ts has one boundary tensor (the output of the stage before).
  if (split.prefix.outputs.length !== 1) throw new Error(`the boundary is ${split.plan.boundary.join(', ')}: the bench times one boundary tensor`);
  const frozen = frozenRunner(split.prefix);
  // trainLoop's basePlanOf: lean blocks where the training plan takes the suffix.
  let lean: TrainingPlan | null = null;
  let basePath: string;
  try {
    lean = compileTrainingPlan(split.suffix, { training: false });
    basePath = `training plan (${describeStats(lean.stats)})`;
  } catch (e) {
    basePath = `the trainable base runs as a model under autodiff: ${(e as Error).message}`;
  }
  return { unfreezeFrom, strategy, split, suffix: split.suffix, frozen, lean, basePath };
}

/** One step of trainLoop.ts on the boundary activations, and the variables it trains. */
function trainStepOf(t: Tf, parts: Awaited<ReturnType<typeof fineTuneParts>>, batch: number) {
  const { split, suffix, lean } = parts;
  const headVars = split.head.trainableWeights.map((v) => v.read() as tfTypes.Variable);
  const baseVars = suffix.trainableWeights.map((v) => v.read() as tfTypes.Variable);
  const allVars = [...headVars, ...baseVars];
  const headOptimizer: tfTypes.Optimizer = t.train.adam(EXPERIMENT_DEFAULTS.train.learningRate.adam);
  const baseOptimizer: tfTypes.Optimizer = t.train.adam(parts.strategy.baseLearningRate);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % CLASSES);
  const y = t.oneHot(t.tensor1d(labels, 'int32'), CLASSES);
  const trainStep = (features: tfTypes.Tensor) =>
    t.tidy(() => {
      let probs: tfTypes.Tensor | undefined;
      const { value, grads } = t.variableGrads(() => {
        const base = lean ? lean.apply([features]) : (suffix.apply(features, { training: false }) as tfTypes.Tensor);
        const p = split.head.apply(base, { training: true }) as tfTypes.Tensor;
        probs = t.keep(p);
        return t.metrics.categoricalCrossentropy(y, p).mean() as tfTypes.Scalar;
      }, allVars);
      const headGrads: Record<string, tfTypes.Tensor> = {};
      const baseGrads: Record<string, tfTypes.Tensor> = {};
      for (const v of headVars) headGrads[v.name] = grads[v.name];
      for (const v of baseVars) baseGrads[v.name] = grads[v.name];
      headOptimizer.applyGradients(headGrads as tfTypes.NamedTensorMap);
      baseOptimizer.applyGradients(baseGrads as tfTypes.NamedTensorMap);
      const correct = t.equal(t.argMax(probs!, 1), t.argMax(y, 1)).sum();
      const result = { loss: value.dataSync()[0], correct: correct.dataSync()[0] };
      probs!.dispose();
      return result;
    });
  return { trainStep, allVars };
}

async function zooFinetune(t: Tf, job: FinetuneJob, loaded: LayersBackbone, x: tfTypes.Tensor4D): Promise<object> {
  const parts = await fineTuneParts(loaded, job.unfreeze);
  const { frozen, split } = parts;
  const { trainStep, allVars } = trainStepOf(t, parts, job.batch);
  // The step Keras's train_on_batch does: the frozen part runs on every batch too.
  const times = await timeIt(job.warmup, job.iters, () => {
    const features = t.tidy(() => frozen.run(x));
    trainStep(features);
    features.dispose();
  });
  const peak = peakRssBytes();
  // What a Transfer Lab run does per batch: the frozen part's outputs come from the feature
  // cache, so only the trainable part runs (reported beside the table, not compared).
  const cached = t.tidy(() => frozen.run(x));
  const cachedTimes = await timeIt(1, job.iters, () => trainStep(cached));
  cached.dispose();
  const trainableParams = allVars.reduce((s, v) => s + v.size, 0);
  return {
    imgPerSec: (job.batch * 1000) / median(times),
    times,
    cachedPrefixImgPerSec: (job.batch * 1000) / median(cachedTimes),
    peakRssBytes: peak,
    firstTrainable: parts.unfreezeFrom,
    boundary: split.plan.boundary,
    trainableLayers: split.plan.trainable.length,
    trainableParams,
    frozenPath: frozen.path,
    basePath: parts.basePath,
  };
}

async function main(job: Job): Promise<object> {
  await loadBackend({ preference: 'tensorflow', installRoot });
  const t = tf();
  const loadStart = performance.now();
  const loaded = await load(job.file);
  const loadMs = performance.now() - loadStart;
  const [h, w, c] = loaded.inputShape;
  const x = t.randomUniform([job.batch, h, w, c], -1, 1) as tfTypes.Tensor4D;
  const common = { loadMs, cutAt: loaded.cutAt, inputShape: loaded.inputShape, notes: loaded.notes };
  return { ...common, ...(job.kind === 'zoo-forward' ? await zooForward(t, job, loaded, x) : await zooFinetune(t, job, loaded, x)) };
}

runWorker(main);
