// One run of an experiment, end to end: validate -> index the dataset -> load and cut the
// backbone -> precompute (and cache) the frozen part's outputs -> train -> evaluate ->
// export. Writes the run folder as it goes and streams RunEvents. Used by the trainer
// process (for the extension) and by the CLI, so both produce the same run folders.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type * as tfTypes from '@tensorflow/tfjs';
import type { InputProblem, ResolvedExperiment } from '../core/experiment';
import { checkExperimentAgainstDataset, formatProblem, loadExperimentText } from '../core/experimentValidation';
import { indexDataset, type DatasetIndex } from '../core/datasetIndex';
import { createRun, updateRun, appendMetrics, writeJsonAtomic } from '../core/runStore';
import { evaluatePredictions, type EvaluationReport } from '../core/metrics';
import { BATCH_EVENT_INTERVAL_MS, type RunEvent } from '../core/runEvents';
import { loadBackbone, assertFineTunable, BackboneError, type LoadedBackbone } from './backboneLoader';
import { splitModel, assembleFullModel, graphModelSplit, LayerError, type SplitModel } from './modelSurgery';
import { featurize, MemoryBudgetError, type FeaturizeItem } from './featurize';
import { ActivationCache } from './activationCache';
import { trainSplitModel, evaluateTable, DivergedError, type TrainResult } from './trainLoop';
import { exportModel } from './exportModel';
import { compileInferencePlan, describeInferencePlan, InferencePlanError, type InferencePlan } from './inferencePlan';
import { describePixelTransform, interpolationOf, kerasResizeArguments } from '../core/preprocessing';
import { preprocessingFile } from '../core/preprocessingFile';
import { tf } from './tf';
import { ImageDecodeError, kerasJpegDecoder } from './imageDecode';
import { StageError, LayerFailure, innermost, internalDetail, type Stage } from './stageError';
import { ModelDownloadError } from './modelCache';

/** Bad input found before training: the run is not started; problems name file and field. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly problems: InputProblem[],
  ) {
    super(problems.map((p) => formatProblem(p, path.basename(file))).join('\n'));
  }
}

export interface RunOptions {
  experimentFile: string;
  runsDir: string;
  cacheDir: string;
  installRoot: string;
  backend: string;
  onEvent(event: RunEvent): void;
  shouldStop(): boolean;
  /** Upper bound for in-memory training inputs; default: a quarter of RAM, at most 4 GB. */
  memoryBudgetBytes?: number;
  /** Overrides applied to the resolved experiment (CLI flags, demo). */
  override?: (e: ResolvedExperiment) => ResolvedExperiment;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  runDir: string;
  metrics?: Record<string, number>;
  evaluation?: EvaluationReport;
  train?: TrainResult;
  error?: { message: string; hint?: string };
  cache: { hits: number; misses: number };
}

/** Number of augmented views cached per training image, besides the original. */
export const AUGMENTED_VIEWS = 4;

/** Reads and validates an experiment file; warnings (e.g. a very high learning rate) are returned. */
export function loadExperiment(file: string): { experiment: ResolvedExperiment; warnings: InputProblem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, [{ path: '', message: `cannot read the experiment file (${(e as NodeJS.ErrnoException).code ?? e})`, hint: 'Check the path.' }]);
  }
  const loaded = loadExperimentText(text, file);
  if (!loaded.ok) throw new InputError(file, loaded.errors);
  return { experiment: loaded.value, warnings: loaded.warnings };
}

function weightsDigest(model: tfTypes.LayersModel | tfTypes.GraphModel, source: string): string {
  const hash = createHash('sha256').update(source);
  const weights = 'getWeights' in model ? model.getWeights() : Object.values((model as tfTypes.GraphModel).weights).flat();
  for (const w of weights) {
    const data = w.dataSync();
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

export async function runExperiment(opts: RunOptions): Promise<RunOutcome> {
  const started = Date.now();
  const loadedExperiment = loadExperiment(opts.experimentFile);
  const experiment = opts.override ? opts.override(loadedExperiment.experiment) : loadedExperiment.experiment;
  const emit = opts.onEvent;
  const warn = (problems: InputProblem[]) => {
    for (const p of problems) emit({ type: 'warning', message: formatProblem(p, path.basename(opts.experimentFile)) });
  };
  warn(loadedExperiment.warnings);

  emit({ type: 'phase', phase: 'indexing', message: `Indexing ${experiment.data.dir}` });
  const indexed = indexDataset(experiment.data.dir, { split: experiment.data.split, seed: experiment.data.seed });
  if (!indexed.ok) throw new InputError(opts.experimentFile, indexed.errors);
  const dataset: DatasetIndex = indexed.value;
  const counts = { train: 0, val: 0, test: 0 };
  for (const item of dataset.items) counts[item.split]++;
  const warnings = [...indexed.warnings, ...checkExperimentAgainstDataset(experiment, counts.train)];
  const record = createRun(opts.runsDir, experiment, {
    backend: opts.backend,
    pid: process.pid,
    dataset: { root: dataset.root, layout: dataset.layout, classes: dataset.classes, counts: dataset.counts, imbalance: dataset.imbalance },
    skipped: dataset.skipped,
  });
  const runDir = record.dir;
  const log = (line: string) => fs.appendFileSync(path.join(runDir, 'log.txt'), `${new Date().toISOString()} ${line}\n`);
  const phaseTimes: Record<string, number> = {};
  const cacheStats = { hits: 0, misses: 0 };
  let lastBatchEvent = 0;
  const forward = (event: RunEvent) => {
    if (event.type === 'phase' || event.type === 'warning') log(event.type === 'phase' ? event.message : `warning: ${event.message}`);
    emit(event);
  };
  forward({
    type: 'run-started',
    runDir,
    runId: record.id,
    experiment: experiment.name,
    backend: opts.backend,
    classes: dataset.classes,
    counts,
    epochs: experiment.train.epochs,
  });
  // Index and dataset warnings (imbalance, batch larger than the split) go to the run log too.
  for (const p of warnings) forward({ type: 'warning', message: formatProblem(p) });

  let split: SplitModel | undefined;
  let frozenPlan: InferencePlan | null = null;
  let backbone: LoadedBackbone | undefined;
  // Where a failure happened, for its message: set at each stage boundary below.
  let stage: Stage = 'loading';
  try {
    // Backbone
    let t0 = Date.now();
    forward({ type: 'phase', phase: 'loading-backbone', message: `Loading backbone ${describeBackbone(experiment)}` });
    backbone = await loadBackbone(experiment.backbone, {
      installRoot: opts.installRoot,
      cacheDir: opts.cacheDir,
      onProgress: (loaded: number, total?: number) =>
        forward({ type: 'phase', phase: 'loading-backbone', message: downloadMessage(loaded, total), done: loaded, total }),
    });
    // What the loader assumed or rewrote (a guessed value range, a converted config, the cut
    // it chose) is said on the terminal and in the dashboard, and kept in log.txt and run.json.
    for (const note of backbone.notes) forward({ type: 'warning', message: note });
    if (backbone.notes.length > 0) updateRun(runDir, { notes: backbone.notes });
    assertFineTunable(backbone, experiment.strategy.kind);
    stage = 'building';
    const [h, w] = [backbone.inputShape[0], backbone.inputShape[1]];
    // Keras's preprocess_input mode, as the loader decided it (the experiment file first).
    const { preprocessing, preprocessingFrom } = backbone;
    const resize = experiment.data.resize;
    const asKeras = kerasResizeArguments(resize);
    const jpegDecoder = resize === 'center-crop' ? 'libvips' : kerasJpegDecoder();
    log(
      `preprocessing: ${describePixelTransform(preprocessing)} (from the ${preprocessingFrom}); resize: ${resize} (${interpolationOf(resize)}${asKeras ? `, as Keras image_dataset_from_directory(${asKeras})` : ''}) to ${h}x${w}; JPEGs decoded by ${jpegDecoder}`,
    );
    updateRun(runDir, {
      preprocessing: { ...preprocessing, from: preprocessingFrom, resize, interpolation: interpolationOf(resize), inputSize: [h, w], jpegDecoder },
    });
    // The frozen prefix, run once per image (and view) in inference mode, outside any tape.
    let runPrefix: ((images: tfTypes.Tensor4D) => tfTypes.Tensor[]) | null;
    if (backbone.kind === 'graph') {
      const graph = backbone.model;
      const node = backbone.cutAt;
      runPrefix = (images) => [graph.execute(images, node) as tfTypes.Tensor];
      const featureShape = tf().tidy(() => runPrefix!(tf().zeros([1, h, w, 3]) as tfTypes.Tensor4D)[0].shape.slice(1));
      split = graphModelSplit(node, featureShape, experiment.head, dataset.classes.length);
    } else {
      split = await splitModel(backbone.model, backbone.cutAt, experiment.strategy, experiment.head, dataset.classes.length);
      const prefix = split.prefix;
      // The frozen prefix as an inference-only plan (BatchNorm folded, fused convolutions);
      // model.predict for what the plan does not take (several boundary tensors).
      try {
        frozenPlan = prefix && prefix.outputs.length === 1 ? compileInferencePlan(prefix) : null;
      } catch (e) {
        if (!(e instanceof InferencePlanError)) throw e;
        log(`frozen layers run with model.predict: ${e.message}`);
      }
      const plan = frozenPlan;
      runPrefix = plan
        ? (images) => [plan.run(images)]
        : prefix
          ? (images) => {
              const out = prefix.predict(images, { batchSize: images.shape[0] });
              return Array.isArray(out) ? out : [out];
            }
          : null;
      if (plan) log(`frozen layers: inference plan; ${describeInferencePlan(plan.stats)}`);
    }
    phaseTimes.loadBackboneMs = Date.now() - t0;
    log(
      `cut at ${split.plan.cutAt}; frozen ${split.plan.frozen.length} layers, trainable ${split.plan.trainable.length}; boundary ${split.plan.boundary.join(', ')}`,
    );
    updateRun(runDir, { freeze: split.plan });

    t0 = Date.now();
    const augment = experiment.data.augment;
    const cacheKey = {
      backbone: weightsDigest(backbone.model, backbone.source),
      cutAt: split.plan.cutAt,
      boundary: split.plan.boundary,
      inputSize: [h, w] as [number, number],
      preprocessing,
      resize,
      jpegDecoder,
      seed: experiment.data.seed,
      // The plan's features differ from model.predict's in the last bits: never mix them.
      frozenPath: frozenPlan ? 'plan' : 'predict',
    };
    const floatsPerItem = split.boundaryShapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
    const cacheFor = (withAugment: boolean) =>
      // Scratch runs from pixels: caching decoded images is cheap, but re-initialised weights
      // change per run, so the key includes their digest and a cache entry is only reused
      // when the same weights come back (never, in practice) — skip the cache instead.
      split!.plan.reinitialize ? null : new ActivationCache(opts.cacheDir, { ...cacheKey, augment: withAugment ? augment : null }, floatsPerItem);
    const budget = opts.memoryBudgetBytes ?? Math.min(4 * 2 ** 30, os.totalmem() / 4);
    const itemsOf = (s: 'train' | 'val' | 'test'): FeaturizeItem[] => dataset.items.filter((i) => i.split === s).map((i) => ({ path: i.path, label: i.label }));
    const skipped = [...dataset.skipped];
    const tables: Record<string, Awaited<ReturnType<typeof featurize>>['table']> = {};
    stage = 'featurizing';
    for (const s of ['train', 'val', 'test'] as const) {
      const items = itemsOf(s);
      if (items.length === 0) continue;
      const withAugment = s === 'train' && augment !== null;
      const cache = cacheFor(withAugment);
      const result = await featurize(items, {
        inputSize: [h, w],
        preprocessing,
        resize,
        prefix: runPrefix,
        shapes: split.boundaryShapes,
        views: withAugment ? 1 + AUGMENTED_VIEWS : 1,
        augment: withAugment ? augment : null,
        seed: experiment.data.seed,
        batchSize: 32,
        cache,
        memoryBudgetBytes: budget,
        shouldStop: opts.shouldStop,
        onProgress: (done, total) =>
          forward({
            type: 'phase',
            phase: 'featurizing',
            message: `${runPrefix ? 'Running the frozen base on' : 'Decoding'} ${s} images: ${done}/${total}`,
            done,
            total,
          }),
      });
      if (cache) {
        cacheStats.hits += cache.hits;
        cacheStats.misses += cache.misses;
      }
      skipped.push(...result.skipped);
      if (result.cancelled) return await finishCancelled(runDir, started, forward, cacheStats);
      tables[s] = result.table;
    }
    // A dataset folder that went away mid-run (moved, deleted, an unplugged disk) makes every
    // image unreadable: say that, not 'unreadable files'.
    if (!fs.existsSync(dataset.root)) {
      throw new InputError(opts.experimentFile, [
        {
          path: 'data.dir',
          message: `the dataset folder ${dataset.root} disappeared during the run (moved, deleted or on a disk that is gone)`,
          hint: 'Put the folder back (or fix data.dir) and run again; nothing of the dataset was changed.',
        },
      ]);
    }
    for (const s of Object.keys(tables))
      if (tables[s].count === 0)
        throw new InputError(opts.experimentFile, [
          { path: 'data.dir', message: `no usable image left in the ${s} split after skipping unreadable files`, hint: 'See the skipped files in run.json.' },
        ]);
    phaseTimes.featurizeMs = Date.now() - t0;
    frozenPlan?.dispose();
    frozenPlan = null;
    updateRun(runDir, { skipped, cache: { dir: opts.cacheDir, ...cacheStats } });
    if (skipped.length > dataset.skipped.length)
      forward({ type: 'warning', message: `${skipped.length - dataset.skipped.length} image(s) could not be decoded and were skipped (listed in run.json)` });

    // Train
    t0 = Date.now();
    const valTable = tables.val ?? tables.test ?? tables.train;
    forward({ type: 'phase', phase: 'training', message: `Training ${split.plan.trainable.length} base layer(s) + head on ${tables.train.count} images` });
    const metricsBuffer: object[] = [];
    const flushMetrics = () => {
      if (metricsBuffer.length) appendMetrics(runDir, metricsBuffer.splice(0) as never[]);
    };
    stage = 'training';
    const trainResult = await trainSplitModel(split, { train: tables.train, val: valTable }, experiment.train, experiment.strategy, experiment.data.seed, {
      shouldStop: opts.shouldStop,
      onNote: log,
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
          imagesPerSec: m.imagesPerSec,
          time: now,
        });
        if (now - lastBatchEvent >= BATCH_EVENT_INTERVAL_MS || m.batch === m.batches) {
          lastBatchEvent = now;
          // Flushed as often as the UI hears of it: a killed trainer keeps its metrics so far.
          flushMetrics();
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
          imagesPerSec: m.imagesPerSec,
          time: Date.now(),
          tensors: memory.numTensors,
          tensorBytes: memory.numBytes,
          rssBytes: process.memoryUsage().rss,
        });
        flushMetrics();
        const eta = (experiment.train.epochs - m.epoch) * m.seconds;
        forward({ type: 'epoch', ...m, etaSeconds: eta });
        log(
          `epoch ${m.epoch}/${m.epochs}: loss ${m.loss.toFixed(4)} acc ${m.accuracy.toFixed(4)} val_loss ${m.valLoss.toFixed(4)} val_acc ${m.valAccuracy.toFixed(4)}`,
        );
      },
    });
    flushMetrics();
    phaseTimes.trainMs = Date.now() - t0;
    if (trainResult.cancelled) return await finishCancelled(runDir, started, forward, cacheStats);
    forward({
      type: 'checkpoint',
      epoch: trainResult.bestEpoch,
      metric: experiment.train.checkpointMetric,
      value: experiment.train.checkpointMetric === 'val_loss' ? trainResult.best.valLoss : trainResult.best.valAccuracy,
    });

    // Evaluate on the test split, or validation when there is none.
    t0 = Date.now();
    const evalSplit = tables.test ? 'test' : 'val';
    const evalTable = tables.test ?? valTable;
    stage = 'evaluating';
    forward({ type: 'phase', phase: 'evaluating', message: `Evaluating on the ${evalSplit} split (${evalTable.count} images)` });
    const { probs } = evaluateTable(split, evalTable, 64);
    const evaluation = evaluatePredictions(probs, Array.from(evalTable.labels), dataset.classes, evalTable.paths, evalSplit);
    writeJsonAtomic(path.join(runDir, 'eval.json'), evaluation);
    forward({ type: 'evaluation', report: evaluation });
    phaseTimes.evaluateMs = Date.now() - t0;

    // Export: base + head as one layers model, with labels and preprocessing.
    t0 = Date.now();
    stage = 'exporting';
    forward({ type: 'phase', phase: 'exporting', message: 'Exporting the model' });
    const exported = preprocessingFile(preprocessing, resize, [h, w], { preprocessingFrom, jpegDecoder });
    const modelDir = path.join(runDir, 'model');
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
      await exportModel(full, dataset.classes, exported, modelDir);
    }
    phaseTimes.exportMs = Date.now() - t0;

    const last = trainResult.history.at(-1);
    const metrics: Record<string, number> = {
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
    updateRun(runDir, {
      status: 'succeeded',
      metrics,
      timings: { startedAt: new Date(started).toISOString(), endedAt: new Date().toISOString(), durationMs, ...phaseTimes },
      training: { stoppedEarly: trainResult.stoppedEarly, history: trainResult.history.length },
      cache: { dir: opts.cacheDir, ...cacheStats },
    });
    log(`succeeded: ${evalSplit} accuracy ${(evaluation.accuracy * 100).toFixed(1)}% in ${(durationMs / 1000).toFixed(1)} s`);
    forward({ type: 'finished', status: 'succeeded', metrics, durationMs });
    return { status: 'succeeded', runDir, metrics, evaluation, train: trainResult, cache: cacheStats };
  } catch (e) {
    const { message, hint, layer } = explainFailure(e, stage);
    const durationMs = Date.now() - started;
    log(`failed: ${message}${hint ? ` (${hint})` : ''}`);
    // The internal message and stack: for the log only, never in what the user reads.
    log(internalDetail(e));
    updateRun(runDir, {
      status: 'failed',
      failure: { message, hint, step: stage, ...(layer ? { layer } : {}) },
      timings: { startedAt: new Date(started).toISOString(), endedAt: new Date().toISOString(), durationMs, ...phaseTimes },
    });
    forward({ type: 'finished', status: 'failed', message, hint, durationMs });
    return { status: 'failed', runDir, error: { message, hint }, cache: cacheStats };
  } finally {
    frozenPlan?.dispose();
    // Each layer is disposed once, through the model that created it: the cut and the
    // exported model share the backbone's layers (or, for scratch, the fresh copy's).
    split?.head.dispose();
    if (split?.plan.reinitialize) split.cut?.dispose();
    backbone?.model.dispose();
  }
}

async function finishCancelled(runDir: string, started: number, forward: (e: RunEvent) => void, cache: { hits: number; misses: number }): Promise<RunOutcome> {
  const durationMs = Date.now() - started;
  updateRun(runDir, { status: 'cancelled', timings: { startedAt: new Date(started).toISOString(), endedAt: new Date().toISOString(), durationMs } });
  forward({ type: 'finished', status: 'cancelled', durationMs });
  return { status: 'cancelled', runDir, cache };
}

function describeBackbone(e: ResolvedExperiment): string {
  const b = e.backbone;
  return 'catalog' in b ? b.catalog : 'path' in b ? b.path : b.url;
}

/** Errors whose message already speaks to the user (what, where, what to do). */
/** "Downloading backbone: 5.3 of 16.0 MB (33%)" (the total when the server says it). */
export function downloadMessage(loaded: number, total?: number): string {
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  return total ? `Downloading backbone: ${mb(loaded)} of ${mb(total)} MB (${Math.floor((100 * loaded) / total)}%)` : `Downloading backbone: ${mb(loaded)} MB`;
}

export function speaksToUser(e: unknown): boolean {
  return (
    e instanceof DivergedError ||
    e instanceof MemoryBudgetError ||
    e instanceof LayerError ||
    e instanceof InputError ||
    e instanceof BackboneError ||
    e instanceof ImageDecodeError ||
    e instanceof StageError ||
    e instanceof ModelDownloadError
  );
}

/**
 * A failure as the user reads it. Errors of ours pass as they are; a full disk and an
 * out-of-memory say so; anything else (an error inside TensorFlow.js) says what we were
 * doing (`stage`), on which layer when known, and what to try: its internal message and
 * stack are for the log (`internalDetail`).
 */
export function explainFailure(e: unknown, stage?: Stage): { message: string; hint?: string; layer?: string } {
  if (e instanceof DivergedError) {
    return { message: e.message, hint: 'Lower train.learningRate (for example by 10x) or check the data for corrupt images.' };
  }
  if (e instanceof StageError) return { message: e.message, hint: e.hint, layer: e.layer };
  if (speaksToUser(e)) return { message: (e as Error).message };
  const cause = innermost(e);
  const inner = cause instanceof Error ? cause.message : String(cause);
  const layer = e instanceof LayerFailure ? e.layer : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device/i.test(inner)) {
    return {
      message: `the disk is full: ${inner.split('\n')[0]}`,
      hint: 'Free disk space (old runs in .transferlab/runs or the model cache can be deleted) and run again; what was written so far is kept.',
    };
  }
  if (/out of memory|OOM|Cannot allocate|std::bad_alloc/i.test(inner)) {
    return {
      message: `out of memory${layer ? ` at layer '${layer}'` : ''}: ${inner.split('\n')[0]}`,
      hint: 'Use a smaller train.batchSize, a later unfreeze layer or a smaller backbone.',
      layer,
    };
  }
  if (stage) {
    const wrapped = new StageError(stage, e);
    return { message: wrapped.message, hint: wrapped.hint, layer: wrapped.layer };
  }
  return { message: inner.split('\n')[0] };
}
