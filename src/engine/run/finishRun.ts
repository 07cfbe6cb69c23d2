// The run's last stages: evaluate the kept model, export it, and write the run's end
// (succeeded, cancelled or failed) to run.json, log.txt and the event stream.
import * as path from 'node:path';
import { updateRun, writeJsonAtomic } from '../../core/runStore';
import { evaluatePredictions, type EvaluationReport } from '../../core/metrics';
import { lastAndBest } from '../../core/runSummary';
import { preprocessingFile } from '../../core/preprocessingFile';
import { assembleFullModel } from '../modelSurgery';
import { evaluateTable, type TrainResult } from '../trainLoop';
import { exportModel } from '../exportModel';
import { internalDetail } from '../stageError';
import { explainFailure } from './failure';
import type { FeatureTables } from './featurizeStage';
import type { PreparedModel } from './prepareModel';
import type { RunContext, RunOutcome } from './runContext';
import { validationTable } from './trainStage';

export interface Evaluated {
  evaluation: EvaluationReport;
  evalSplit: 'test' | 'val';
}

/** Evaluates on the test split, or validation when there is none (stage 'evaluating'); writes eval.json. */
export function evaluateStage(ctx: RunContext, { split }: PreparedModel, tables: FeatureTables): Evaluated {
  const t0 = Date.now();
  const evalSplit = tables.test ? 'test' : 'val';
  const evalTable = tables.test ?? validationTable(tables);
  ctx.stage = 'evaluating';
  ctx.forward({ type: 'phase', phase: 'evaluating', message: `Evaluating on the ${evalSplit} split (${evalTable.count} images)` });
  const { probs } = evaluateTable(split, evalTable, 64);
  const evaluation = evaluatePredictions(probs, Array.from(evalTable.labels), ctx.dataset.classes, evalTable.paths, evalSplit);
  writeJsonAtomic(path.join(ctx.runDir, 'eval.json'), evaluation);
  ctx.forward({ type: 'evaluation', report: evaluation });
  ctx.phaseTimes.evaluateMs = Date.now() - t0;
  return { evaluation, evalSplit };
}

/** Exports base + head as one model, with labels and preprocessing (stage 'exporting'). */
export async function exportStage(ctx: RunContext, { backbone, split, pixels }: PreparedModel): Promise<void> {
  const { experiment, dataset } = ctx;
  const t0 = Date.now();
  ctx.stage = 'exporting';
  ctx.forward({ type: 'phase', phase: 'exporting', message: 'Exporting the model' });
  const exported = preprocessingFile(pixels.preprocessing, pixels.resize, pixels.size, {
    preprocessingFrom: pixels.preprocessingFrom,
    jpegDecoder: pixels.jpegDecoder,
  });
  const modelDir = path.join(ctx.runDir, 'model');
  if (backbone.kind === 'graph') {
    await exportModel(
      split.head,
      dataset.classes,
      { ...exported, graphBase: { path: 'base/model.json', outputNode: backbone.cutAt } },
      modelDir,
      backbone.model,
    );
  } else {
    const full = assembleFullModel(split, `${experiment.name.replace(/[^A-Za-z0-9_]/g, '_')}_transfer`);
    try {
      await exportModel(full, dataset.classes, exported, modelDir);
    } finally {
      // Assembling applied the head's layers once more, and TF.js frees a layer's weights
      // when its last use is disposed: give that use back, so the run's end frees the head.
      // (Not full.dispose(): that would also free the backbone's layers it shares.)
      for (const layer of split.head.layers) if (layer.getClassName() !== 'InputLayer') layer.dispose();
    }
  }
  ctx.phaseTimes.exportMs = Date.now() - t0;
}

export function finishSucceeded(ctx: RunContext, trainResult: TrainResult, { evaluation, evalSplit }: Evaluated): RunOutcome {
  const { started, phaseTimes, cacheStats } = ctx;
  const last = trainResult.history.at(-1);
  // The last and the highest validation accuracy, so views without metrics.jsonl (tree, CodeLens) say the same as the curves.
  const val = lastAndBest(trainResult.history.map((h) => ({ x: h.epoch, y: h.valAccuracy })));
  const metrics: Record<string, number> = {
    ...(val.last ? { lastValAccuracy: val.last.value } : {}),
    ...(val.best ? { peakValAccuracy: val.best.value, peakValAccuracyEpoch: val.best.epoch } : {}),
    accuracy: evaluation.accuracy,
    loss: evaluation.loss,
    macroF1: evaluation.macroF1,
    bestValAccuracy: trainResult.best.valAccuracy,
    bestValLoss: trainResult.best.valLoss,
    bestEpoch: trainResult.bestEpoch,
    epochs: trainResult.epochsRun,
    trainAccuracy: last?.accuracy ?? 0,
    trainSeconds: (phaseTimes.trainMs ?? 0) / 1000,
  };
  const durationMs = Date.now() - started;
  updateRun(ctx.runDir, {
    status: 'succeeded',
    metrics,
    timings: { startedAt: new Date(started).toISOString(), endedAt: new Date().toISOString(), durationMs, ...phaseTimes },
    training: { stoppedEarly: trainResult.stoppedEarly, history: trainResult.history.length },
    // trainSplitModel restored the best checkpoint (none when no epoch improved: the last one stays):
    // those are the weights evaluated and exported.
    weights: {
      epoch: trainResult.bestEpoch >= 1 ? trainResult.bestEpoch : trainResult.epochsRun,
      metric: ctx.experiment.train.checkpointMetric,
      evaluatedOn: evalSplit,
    },
    cache: { dir: ctx.opts.cacheDir, ...cacheStats },
  });
  ctx.log(`succeeded: ${evalSplit} accuracy ${(evaluation.accuracy * 100).toFixed(1)}% in ${(durationMs / 1000).toFixed(1)} s`);
  ctx.forward({ type: 'finished', status: 'succeeded', metrics, durationMs });
  return { status: 'succeeded', runDir: ctx.runDir, metrics, evaluation, train: trainResult, cache: cacheStats };
}

export async function finishCancelled(ctx: RunContext): Promise<RunOutcome> {
  const { runDir, started } = ctx;
  const durationMs = Date.now() - started;
  updateRun(runDir, { status: 'cancelled', timings: { startedAt: new Date(started).toISOString(), endedAt: new Date().toISOString(), durationMs } });
  ctx.forward({ type: 'finished', status: 'cancelled', durationMs });
  return { status: 'cancelled', runDir, cache: ctx.cacheStats };
}

/** A failure at `ctx.stage`: the user's message in run.json and the events, the internal detail in log.txt only. */
export function finishFailed(ctx: RunContext, e: unknown): RunOutcome {
  const { runDir, started, stage } = ctx;
  const { message, hint, layer } = explainFailure(e, stage);
  const durationMs = Date.now() - started;
  ctx.log(`failed: ${message}${hint ? ` (${hint})` : ''}`);
  // The internal message and stack: for the log only, never in what the user reads.
  ctx.log(internalDetail(e));
  updateRun(runDir, {
    status: 'failed',
    failure: { message, hint, step: stage, ...(layer ? { layer } : {}) },
    timings: { startedAt: new Date(started).toISOString(), endedAt: new Date().toISOString(), durationMs, ...ctx.phaseTimes },
  });
  ctx.forward({ type: 'finished', status: 'failed', message, hint, durationMs });
  return { status: 'failed', runDir, error: { message, hint }, cache: ctx.cacheStats };
}
