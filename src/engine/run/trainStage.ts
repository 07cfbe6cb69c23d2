// The run's training stage: trains the split model on the featurized tables, streaming
// batch and epoch events and appending metrics.jsonl as it goes.
import { appendMetrics } from '../../core/runStore';
import { BATCH_EVENT_INTERVAL_MS } from '../../core/runEvents';
import { trainSplitModel, type TrainCallbacks, type TrainResult } from '../trainLoop';
import type { FeatureTable } from '../featureTable';
import type { SplitModel } from '../modelSurgery';
import { tf } from '../tf';
import type { FeatureTables } from './featurizeStage';
import type { RunContext } from './runContext';

/** The split that picks the best epoch: validation, else test, else training. */
export function validationTable(tables: FeatureTables): FeatureTable {
  return tables.val ?? tables.test ?? tables.train;
}

/** Trains (stage 'training'); says which epoch was kept unless the run was cancelled (then `cancelled` is set). */
export async function trainStage(ctx: RunContext, split: SplitModel, tables: FeatureTables): Promise<TrainResult> {
  const { experiment } = ctx;
  const t0 = Date.now();
  const valTable = validationTable(tables);
  ctx.forward({ type: 'phase', phase: 'training', message: `Training ${split.plan.trainable.length} base layer(s) + head on ${tables.train.count} images` });
  const recorder = metricsRecorder(ctx);
  ctx.stage = 'training';
  const trainResult = await trainSplitModel(split, { train: tables.train, val: valTable }, experiment.train, experiment.strategy, experiment.train.seed, {
    shouldStop: ctx.opts.shouldStop,
    onNote: ctx.log,
    onBatch: recorder.onBatch,
    onEpoch: recorder.onEpoch,
  });
  recorder.flush();
  ctx.phaseTimes.trainMs = Date.now() - t0;
  if (trainResult.cancelled) return trainResult;
  ctx.forward({
    type: 'checkpoint',
    epoch: trainResult.bestEpoch,
    metric: experiment.train.checkpointMetric,
    value: experiment.train.checkpointMetric === 'val_loss' ? trainResult.best.valLoss : trainResult.best.valAccuracy,
  });
  return trainResult;
}

/** Batch and epoch callbacks that buffer metrics for metrics.jsonl and forward (throttled) events. */
function metricsRecorder(ctx: RunContext): Required<Pick<TrainCallbacks, 'onBatch' | 'onEpoch'>> & { flush(): void } {
  const { runDir, experiment, forward } = ctx;
  const metricsBuffer: object[] = [];
  let lastBatchEvent = 0;
  const flush = () => {
    if (metricsBuffer.length) appendMetrics(runDir, metricsBuffer.splice(0) as never[]);
  };
  return {
    flush,
    onBatch: (m) => {
      const now = Date.now();
      metricsBuffer.push({
        kind: 'batch',
        epoch: m.epoch,
        batch: m.batch,
        step: m.step,
        loss: m.loss,
        accuracy: m.accuracy,
        lr: m.learningRate,
        baseLr: m.baseLearningRate,
        imagesPerSec: m.imagesPerSec,
        time: now,
      });
      if (now - lastBatchEvent >= BATCH_EVENT_INTERVAL_MS || m.batch === m.batches) {
        lastBatchEvent = now;
        // Flushed as often as the UI hears of it: a killed trainer keeps its metrics so far.
        flush();
        forward({ type: 'batch', ...m });
      }
    },
    onEpoch: async (m) => {
      // Memory per epoch, so a leak shows up in the run record (and the tests check it).
      const memory = tf().memory();
      metricsBuffer.push({
        kind: 'epoch',
        epoch: m.epoch,
        step: 0,
        loss: m.loss,
        accuracy: m.accuracy,
        val_loss: m.valLoss,
        val_accuracy: m.valAccuracy,
        lr: m.learningRate,
        baseLr: m.baseLearningRate,
        imagesPerSec: m.imagesPerSec,
        time: Date.now(),
        tensors: memory.numTensors,
        tensorBytes: memory.numBytes,
        rssBytes: process.memoryUsage().rss,
      });
      flush();
      const eta = (experiment.train.epochs - m.epoch) * m.seconds;
      forward({ type: 'epoch', ...m, etaSeconds: eta });
      ctx.log(
        `epoch ${m.epoch}/${m.epochs}: loss ${m.loss.toFixed(4)} acc ${m.accuracy.toFixed(4)} val_loss ${m.valLoss.toFixed(4)} val_acc ${m.valAccuracy.toFixed(4)}`,
      );
    },
  };
}
