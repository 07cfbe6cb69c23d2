// The training loop for the trainable part of a split model, on precomputed inputs.
// The frozen prefix never runs here, so it never reaches the gradient tape. The trainable
// base runs with training=false (BatchNorm in inference mode, the Keras fine-tuning rule)
// except when training from scratch; the head runs with training=true (dropout active).
import type * as tfTypes from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../core/experiment';
import type { RunEvent } from '../core/runEvents';
import { seededRandom } from '../core/random';
import { dropoutSeeder } from './seededLayers';
import type { SplitModel } from './modelSurgery';
import { gatherBatch, type FeatureTable } from './featureTable';
import { tf } from './tf';
import { compileTrainingPlan, describeTrainingPlan, type TrainingPlan } from './trainingPlan';

type Tensor = tfTypes.Tensor;
type Variable = tfTypes.Variable;

/** Metrics of one batch and one epoch: the run events' shapes, without their `type`. */
export type BatchMetrics = Omit<Extract<RunEvent, { type: 'batch' }>, 'type'>;
export type EpochMetrics = Omit<Extract<RunEvent, { type: 'epoch' }>, 'type' | 'etaSeconds'>;

export interface TrainCallbacks {
  onBatch?(m: BatchMetrics): void;
  onEpoch?(m: EpochMetrics): void | Promise<void>;
  /** Checked between batches: true stops training within one batch. */
  shouldStop?(): boolean;
  /** A line for the run log (how the trainable base runs). */
  onNote?(line: string): void;
}

export interface TrainResult {
  epochsRun: number;
  bestEpoch: number;
  best: { valLoss: number; valAccuracy: number };
  history: EpochMetrics[];
  stoppedEarly: boolean;
  cancelled: boolean;
}

/** Loss became NaN or infinite: the run stops and says where. */
export class DivergedError extends Error {
  constructor(
    readonly epoch: number,
    readonly step: number,
  ) {
    super(`training diverged: the loss became NaN or infinite at epoch ${epoch}, step ${step}`);
  }
}

type Train = ResolvedExperiment['train'];

function makeOptimizer(t: ReturnType<typeof tf>, train: Train, learningRate: number): tfTypes.Optimizer {
  switch (train.optimizer) {
    case 'sgd':
      return train.momentum > 0 ? t.train.momentum(learningRate, train.momentum) : t.train.sgd(learningRate);
    case 'rmsprop':
      return t.train.rmsprop(learningRate);
    default:
      return t.train.adam(learningRate);
  }
}

function setLearningRate(optimizer: tfTypes.Optimizer, lr: number): void {
  const o = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Learning-rate multiplier for an epoch (0-based) under the schedule. */
export function scheduleFactor(schedule: Train['schedule'], epoch: number, epochs: number, baseRate: number): number {
  switch (schedule.kind) {
    case 'step':
      return Math.pow(schedule.factor, Math.floor(epoch / Math.max(1, schedule.every)));
    case 'cosine': {
      // Decays from the configured rate to minLearningRate (as a fraction of train.learningRate).
      const floor = Math.min(1, (schedule.minLearningRate ?? 0) / baseRate);
      return floor + (1 - floor) * 0.5 * (1 + Math.cos((Math.PI * epoch) / Math.max(1, epochs)));
    }
    default:
      return 1;
  }
}

const variablesOf = (model: tfTypes.LayersModel | null): Variable[] => (model ? model.trainableWeights.map((w) => w.read() as Variable) : []);

/** Forward pass of the trainable part; returns class probabilities. */
function forward(split: SplitModel, inputs: Tensor[], headTraining: boolean, baseTraining: boolean, lean?: TrainingPlan | null): Tensor {
  const features = lean
    ? lean.apply(inputs)
    : split.suffix
      ? (split.suffix.apply(inputs.length === 1 ? inputs[0] : inputs, { training: baseTraining }) as Tensor)
      : inputs[0];
  return split.head.apply(features, { training: headTraining }) as Tensor;
}

/** The trainable base as a training plan: lean custom-gradient blocks when fine-tuning
 *  (BatchNorm in inference mode, the Keras rule); for scratch (BatchNorm learns its
 *  statistics) the layers themselves, except normalisations TensorFlow.js cannot
 *  differentiate. Null when there is no trainable base, or when the plan refuses the suffix
 *  (then the model runs as itself under autodiff, and `how` says why). */
function basePlanOf(split: SplitModel, fromScratch: boolean): { plan: TrainingPlan | null; how: string } {
  if (!split.suffix) return { plan: null, how: 'no trainable base layers' };
  try {
    const plan = compileTrainingPlan(split.suffix, { training: fromScratch });
    return { plan, how: describeTrainingPlan(plan.stats, fromScratch) };
  } catch (e) {
    return { plan: null, how: `the trainable base runs as a model under autodiff: ${(e as Error).message}` };
  }
}

export function evaluateTable(split: SplitModel, table: FeatureTable, batchSize: number): { loss: number; accuracy: number; probs: Float32Array } {
  const t = tf();
  const classes = (split.head.outputs[0].shape[1] as number) ?? 0;
  const probs = new Float32Array(table.count * classes);
  for (let start = 0; start < table.count; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, table.count - start) }, (_, i) => start + i);
    const arrays = gatherBatch(table, 0, idx);
    const p = t.tidy(() => {
      const inputs = arrays.map((a, b) => t.tensor(a, [idx.length, ...table.shapes[b]]));
      return forward(split, inputs, false, false);
    });
    probs.set(p.dataSync() as Float32Array, start * classes);
    p.dispose();
  }
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < table.count; i++) {
    const row = probs.subarray(i * classes, (i + 1) * classes);
    let arg = 0;
    for (let j = 1; j < classes; j++) if (row[j] > row[arg]) arg = j;
    if (arg === table.labels[i]) correct++;
    loss += -Math.log(Math.max(row[table.labels[i]], 1e-7));
  }
  return { loss: table.count ? loss / table.count : 0, accuracy: table.count ? correct / table.count : 0, probs };
}

/** What a training run fixes at its start: the variables, optimizers, shuffled order and plan of the trainable base. */
interface TrainSetup {
  t: ReturnType<typeof tf>;
  split: SplitModel;
  data: { train: FeatureTable; val: FeatureTable };
  train: Train;
  fromScratch: boolean;
  classes: number;
  headVars: Variable[];
  baseVars: Variable[];
  allVars: Variable[];
  /** What the best checkpoint saves and brings back. */
  checkpointVars: Variable[];
  baseLr: number;
  warmup: number;
  headOptimizer: tfTypes.Optimizer;
  baseOptimizer: tfTypes.Optimizer | null;
  random: () => number;
  /** Moves the dropout layers' seeds to the step's (seededLayers.ts). */
  seedDropout: (step: number) => void;
  order: number[];
  batches: number;
  leanBase: TrainingPlan | null;
  callbacks: TrainCallbacks;
}

/** What changes as training goes: the step count, history, best checkpoint, and why it stopped. */
interface TrainProgress {
  step: number;
  history: EpochMetrics[];
  best: { epoch: number; valLoss: number; valAccuracy: number };
  bestWeights: Tensor[] | null;
  sinceImprovement: number;
  stoppedEarly: boolean;
  cancelled: boolean;
}

export async function trainSplitModel(
  split: SplitModel,
  data: { train: FeatureTable; val: FeatureTable },
  train: Train,
  strategy: ResolvedExperiment['strategy'],
  seed: number,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
  const s = setUpTraining(split, data, train, strategy, seed, callbacks);
  const p: TrainProgress = {
    step: 0,
    history: [],
    best: { epoch: -1, valLoss: Infinity, valAccuracy: -Infinity },
    bestWeights: null,
    sinceImprovement: 0,
    stoppedEarly: false,
    cancelled: false,
  };
  try {
    for (let epoch = 0; epoch < train.epochs; epoch++) {
      if (!(await runEpoch(s, p, epoch))) break;
    }
    // Keep the best checkpoint (by the configured validation metric) as the run's model.
    if (p.bestWeights) s.checkpointVars.forEach((v, i) => v.assign(p.bestWeights![i]));
  } finally {
    p.bestWeights?.forEach((w) => w.dispose());
    s.leanBase?.dispose();
    s.headOptimizer.dispose();
    s.baseOptimizer?.dispose();
  }
  return {
    epochsRun: p.history.length,
    bestEpoch: p.best.epoch,
    best: { valLoss: p.best.valLoss, valAccuracy: p.best.valAccuracy },
    history: p.history,
    stoppedEarly: p.stoppedEarly,
    cancelled: p.cancelled,
  };
}

function setUpTraining(
  split: SplitModel,
  data: { train: FeatureTable; val: FeatureTable },
  train: Train,
  strategy: ResolvedExperiment['strategy'],
  seed: number,
  callbacks: TrainCallbacks,
): TrainSetup {
  const t = tf();
  const fromScratch = strategy.kind === 'scratch';
  const classes = split.head.outputs[0].shape[1] as number;
  const headVars = variablesOf(split.head);
  const baseVars = variablesOf(split.suffix);
  const baseLr = strategy.kind === 'fine-tune' ? strategy.baseLearningRate : train.learningRate;
  const warmup = strategy.kind === 'fine-tune' ? strategy.warmupEpochs : 0;
  // Separate optimizers: the base gets its own (small) learning rate and its own state.
  const headOptimizer = makeOptimizer(t, train, train.learningRate);
  const baseOptimizer = baseVars.length > 0 ? makeOptimizer(t, train, baseLr) : null;
  const random = seededRandom(seed);
  const n = data.train.count;
  const order = Array.from({ length: n }, (_, i) => i);
  const batches = Math.ceil(n / train.batchSize);
  const allVars = [...headVars, ...baseVars];
  // The best checkpoint must also bring back the BatchNorm statistics of that epoch when they
  // learn (scratch): best weights with the last epoch's moving means do not fit together.
  const movingStats = fromScratch && split.suffix ? split.suffix.nonTrainableWeights.map((w) => w.read() as Variable) : [];
  const checkpointVars = [...allVars, ...movingStats];
  const { plan: leanBase, how: basePlan } = basePlanOf(split, fromScratch);
  callbacks.onNote?.(basePlan);
  return {
    t,
    split,
    data,
    train,
    fromScratch,
    classes,
    headVars,
    baseVars,
    allVars,
    checkpointVars,
    baseLr,
    warmup,
    headOptimizer,
    baseOptimizer,
    random,
    seedDropout: dropoutSeeder([split.head, split.suffix], seed),
    order,
    batches,
    leanBase,
    callbacks,
  };
}

/** One epoch: the batches in a fresh seeded order, then validation and the checkpoint. False: training stops (cancelled or stopped early). */
async function runEpoch(s: TrainSetup, p: TrainProgress, epoch: number): Promise<boolean> {
  const { train, data, order, random } = s;
  const n = data.train.count;
  const factor = scheduleFactor(train.schedule, epoch, train.epochs, train.learningRate);
  setLearningRate(s.headOptimizer, train.learningRate * factor);
  if (s.baseOptimizer) setLearningRate(s.baseOptimizer, s.baseLr * factor);
  const baseTrains = s.baseVars.length > 0 && epoch >= s.warmup;
  // Fisher-Yates with the run's seed: the same order on every run.
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const view = data.train.views > 1 ? epoch % data.train.views : 0;
  const started = performance.now();
  const sums = await runBatches(s, p, { epoch, factor, baseTrains, view, started });
  if (p.cancelled) return false;
  const seconds = (performance.now() - started) / 1000;
  const val = evaluateTable(s.split, data.val, Math.max(train.batchSize, 64));
  const metrics: EpochMetrics = {
    epoch: epoch + 1,
    epochs: train.epochs,
    loss: sums.lossSum / n,
    accuracy: sums.correctSum / n,
    valLoss: val.loss,
    valAccuracy: val.accuracy,
    learningRate: train.learningRate * factor,
    ...(baseTrains ? { baseLearningRate: s.baseLr * factor } : {}),
    baseTrainable: baseTrains,
    seconds,
    imagesPerSec: n / seconds,
  };
  p.history.push(metrics);
  const improved = train.checkpointMetric === 'val_loss' ? val.loss < p.best.valLoss : val.accuracy > p.best.valAccuracy;
  if (improved) {
    p.best = { epoch: epoch + 1, valLoss: val.loss, valAccuracy: val.accuracy };
    p.bestWeights?.forEach((w) => w.dispose());
    p.bestWeights = s.checkpointVars.map((v) => s.t.keep(v.clone()));
  }
  await s.callbacks.onEpoch?.(metrics);
  return !stopsEarly(train, p, val);
}

/** Early stopping: true once the monitored metric has not improved for `patience` epochs. */
function stopsEarly(train: Train, p: TrainProgress, val: { loss: number; accuracy: number }): boolean {
  if (!train.earlyStopping) return false;
  const es = train.earlyStopping;
  const last = p.history.slice(0, -1);
  const bestBefore = es.monitor === 'val_loss' ? Math.min(...last.map((h) => h.valLoss)) : Math.max(...last.map((h) => h.valAccuracy));
  const better = last.length === 0 || (es.monitor === 'val_loss' ? val.loss < bestBefore : val.accuracy > bestBefore);
  p.sinceImprovement = better ? 0 : p.sinceImprovement + 1;
  if (p.sinceImprovement < es.patience) return false;
  p.stoppedEarly = true;
  return true;
}

/** The epoch's batches; sets `p.cancelled` when asked to stop between two of them. */
async function runBatches(
  s: TrainSetup,
  p: TrainProgress,
  e: { epoch: number; factor: number; baseTrains: boolean; view: number; started: number },
): Promise<{ lossSum: number; correctSum: number }> {
  const { train, data, order, batches, callbacks } = s;
  const n = data.train.count;
  let lossSum = 0;
  let correctSum = 0;
  for (let b = 0; b < batches; b++) {
    if (callbacks.shouldStop?.()) {
      p.cancelled = true;
      break;
    }
    const idx = order.slice(b * train.batchSize, (b + 1) * train.batchSize);
    s.seedDropout(p.step);
    const { loss, correct } = trainStep(s, idx, e.view, e.baseTrains);
    p.step++;
    if (!Number.isFinite(loss)) throw new DivergedError(e.epoch + 1, p.step);
    lossSum += loss * idx.length;
    correctSum += correct;
    const seenSoFar = Math.min(n, (b + 1) * train.batchSize);
    callbacks.onBatch?.({
      epoch: e.epoch + 1,
      batch: b + 1,
      batches,
      step: p.step,
      loss,
      accuracy: correct / idx.length,
      learningRate: train.learningRate * e.factor,
      // What the base trained at (fine-tune: strategy.baseLearningRate, after the warmup), not only the head's rate.
      ...(e.baseTrains ? { baseLearningRate: s.baseLr * e.factor } : {}),
      imagesPerSec: seenSoFar / ((performance.now() - e.started) / 1000),
    });
    // Yield so a cancel message on the IPC channel is handled between batches.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { lossSum, correctSum };
}

/** One optimizer step on the batch `idx`; returns its loss and number of correct predictions. */
function trainStep(s: TrainSetup, idx: number[], view: number, baseTrains: boolean): { loss: number; correct: number } {
  const { t, split, data, headVars, baseVars, fromScratch, leanBase } = s;
  const varList = baseTrains ? s.allVars : headVars;
  const arrays = gatherBatch(data.train, view, idx);
  const labels = Int32Array.from(idx, (i) => data.train.labels[i]);
  return t.tidy(() => {
    const inputs = arrays.map((a, k) => t.tensor(a, [idx.length, ...data.train.shapes[k]]));
    const y = t.oneHot(t.tensor1d(labels, 'int32'), s.classes);
    let probs: Tensor | undefined;
    // Without base training, the base output is computed outside the tape.
    const features = !baseTrains && split.suffix ? [forwardBase(split, inputs, fromScratch)] : null;
    const { value, grads } = t.variableGrads(() => {
      const p = features ? (split.head.apply(features[0], { training: true }) as Tensor) : forward(split, inputs, true, fromScratch, leanBase);
      // Kept past variableGrads's own cleanup for the accuracy below; disposed there.
      probs = t.keep(p);
      return t.metrics.categoricalCrossentropy(y, p).mean() as tfTypes.Scalar;
    }, varList);
    const headGrads: Record<string, Tensor> = {};
    const baseGrads: Record<string, Tensor> = {};
    for (const v of headVars) headGrads[v.name] = grads[v.name];
    if (baseTrains) for (const v of baseVars) baseGrads[v.name] = grads[v.name];
    s.headOptimizer.applyGradients(headGrads as tfTypes.NamedTensorMap);
    if (baseTrains && s.baseOptimizer) s.baseOptimizer.applyGradients(baseGrads as tfTypes.NamedTensorMap);
    const correct = t.equal(t.argMax(probs!, 1), t.argMax(y, 1)).sum();
    const result = { loss: value.dataSync()[0], correct: correct.dataSync()[0] };
    probs!.dispose();
    return result;
  });
}

function forwardBase(split: SplitModel, inputs: Tensor[], fromScratch: boolean): Tensor {
  return split.suffix!.apply(inputs.length === 1 ? inputs[0] : inputs, { training: fromScratch }) as Tensor;
}
