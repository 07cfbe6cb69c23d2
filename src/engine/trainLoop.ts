// The training loop for the trainable part of a split model, on precomputed inputs.
// The frozen prefix never runs here, so it never reaches the gradient tape. The trainable
// base runs with training=false (BatchNorm in inference mode, the Keras fine-tuning rule)
// except when training from scratch; the head runs with training=true (dropout active).
import type * as tfTypes from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../core/experiment';
import type { RunEvent } from '../core/runEvents';
import { seededRandom } from '../core/random';
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

export async function trainSplitModel(
  split: SplitModel,
  data: { train: FeatureTable; val: FeatureTable },
  train: Train,
  strategy: ResolvedExperiment['strategy'],
  seed: number,
  callbacks: TrainCallbacks = {},
): Promise<TrainResult> {
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
  const history: EpochMetrics[] = [];
  const monitor = train.checkpointMetric;
  let best = { epoch: -1, valLoss: Infinity, valAccuracy: -Infinity };
  let bestWeights: Tensor[] | null = null;
  const allVars = [...headVars, ...baseVars];
  // The best checkpoint must also bring back the BatchNorm statistics of that epoch when they
  // learn (scratch): best weights with the last epoch's moving means do not fit together.
  const movingStats = fromScratch && split.suffix ? split.suffix.nonTrainableWeights.map((w) => w.read() as Variable) : [];
  const checkpointVars = [...allVars, ...movingStats];
  const { plan: leanBase, how: basePlan } = basePlanOf(split, fromScratch);
  callbacks.onNote?.(basePlan);
  let sinceImprovement = 0;
  let stoppedEarly = false;
  let cancelled = false;
  let step = 0;

  try {
    for (let epoch = 0; epoch < train.epochs; epoch++) {
      const factor = scheduleFactor(train.schedule, epoch, train.epochs, train.learningRate);
      setLearningRate(headOptimizer, train.learningRate * factor);
      if (baseOptimizer) setLearningRate(baseOptimizer, baseLr * factor);
      const baseTrains = baseVars.length > 0 && epoch >= warmup;
      const varList = baseTrains ? allVars : headVars;
      // Fisher-Yates with the run's seed: the same order on every run.
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
      const view = data.train.views > 1 ? epoch % data.train.views : 0;
      const started = performance.now();
      let lossSum = 0;
      let correctSum = 0;
      for (let b = 0; b < batches; b++) {
        if (callbacks.shouldStop?.()) {
          cancelled = true;
          break;
        }
        const idx = order.slice(b * train.batchSize, (b + 1) * train.batchSize);
        const arrays = gatherBatch(data.train, view, idx);
        const labels = Int32Array.from(idx, (i) => data.train.labels[i]);
        const { loss, correct } = t.tidy(() => {
          const inputs = arrays.map((a, k) => t.tensor(a, [idx.length, ...data.train.shapes[k]]));
          const y = t.oneHot(t.tensor1d(labels, 'int32'), classes);
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
          headOptimizer.applyGradients(headGrads as tfTypes.NamedTensorMap);
          if (baseTrains && baseOptimizer) baseOptimizer.applyGradients(baseGrads as tfTypes.NamedTensorMap);
          const correct = t.equal(t.argMax(probs!, 1), t.argMax(y, 1)).sum();
          const result = { loss: value.dataSync()[0], correct: correct.dataSync()[0] };
          probs!.dispose();
          return result;
        });
        step++;
        if (!Number.isFinite(loss)) throw new DivergedError(epoch + 1, step);
        lossSum += loss * idx.length;
        correctSum += correct;
        const seenSoFar = Math.min(n, (b + 1) * train.batchSize);
        callbacks.onBatch?.({
          epoch: epoch + 1,
          batch: b + 1,
          batches,
          step,
          loss,
          accuracy: correct / idx.length,
          learningRate: train.learningRate * factor,
          imagesPerSec: seenSoFar / ((performance.now() - started) / 1000),
        });
        // Yield so a cancel message on the IPC channel is handled between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (cancelled) break;
      const seconds = (performance.now() - started) / 1000;
      const val = evaluateTable(split, data.val, Math.max(train.batchSize, 64));
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        epochs: train.epochs,
        loss: lossSum / n,
        accuracy: correctSum / n,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        learningRate: train.learningRate * factor,
        baseTrainable: baseTrains,
        seconds,
        imagesPerSec: n / seconds,
      };
      history.push(metrics);
      const improved = monitor === 'val_loss' ? val.loss < best.valLoss : val.accuracy > best.valAccuracy;
      if (improved) {
        best = { epoch: epoch + 1, valLoss: val.loss, valAccuracy: val.accuracy };
        bestWeights?.forEach((w) => w.dispose());
        bestWeights = checkpointVars.map((v) => t.keep(v.clone()));
      }
      await callbacks.onEpoch?.(metrics);
      if (train.earlyStopping) {
        const es = train.earlyStopping;
        const last = history.slice(0, -1);
        const bestBefore = es.monitor === 'val_loss' ? Math.min(...last.map((h) => h.valLoss)) : Math.max(...last.map((h) => h.valAccuracy));
        const better = last.length === 0 || (es.monitor === 'val_loss' ? val.loss < bestBefore : val.accuracy > bestBefore);
        sinceImprovement = better ? 0 : sinceImprovement + 1;
        if (sinceImprovement >= es.patience) {
          stoppedEarly = true;
          break;
        }
      }
    }
    // Keep the best checkpoint (by the configured validation metric) as the run's model.
    if (bestWeights) checkpointVars.forEach((v, i) => v.assign(bestWeights![i]));
  } finally {
    bestWeights?.forEach((w) => w.dispose());
    leanBase?.dispose();
    headOptimizer.dispose();
    baseOptimizer?.dispose();
  }
  return {
    epochsRun: history.length,
    bestEpoch: best.epoch,
    best: { valLoss: best.valLoss, valAccuracy: best.valAccuracy },
    history,
    stoppedEarly,
    cancelled,
  };
}

function forwardBase(split: SplitModel, inputs: Tensor[], fromScratch: boolean): Tensor {
  return split.suffix!.apply(inputs.length === 1 ? inputs[0] : inputs, { training: fromScratch }) as Tensor;
}
