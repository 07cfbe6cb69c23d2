// What every stage of a run shares: the options, the experiment and dataset, the run folder
// with its log, the event stream, timings and cache counts, the stage a failure is blamed
// on, and the tensors' owners that the run disposes at its end whatever happened.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputProblem, ResolvedExperiment } from '../../core/experiment';
import { checkExperimentAgainstDataset, formatProblem } from '../../core/experimentValidation';
import { indexDataset, type DatasetIndex } from '../../core/datasetIndex';
import { createRun } from '../../core/runStore';
import type { EvaluationReport } from '../../core/metrics';
import type { RunEvent } from '../../core/runEvents';
import type { LoadedBackbone } from '../backboneLoader';
import type { SplitModel } from '../modelSurgery';
import type { InferencePlan } from '../inferencePlan';
import type { TrainResult } from '../trainLoop';
import type { Stage } from '../stageError';
import { InputError, loadExperiment } from './experimentInput';

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
  /** Narrows the indexed dataset before the run (a study cell's training subset); run.json records the counts it leaves. */
  trainSubset?: (dataset: DatasetIndex) => DatasetIndex;
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

export interface RunContext {
  opts: RunOptions;
  experiment: ResolvedExperiment;
  dataset: DatasetIndex;
  runDir: string;
  started: number;
  /** A line in the run's log.txt. */
  log(line: string): void;
  /** Emits an event; phases and warnings also go to log.txt. */
  forward(event: RunEvent): void;
  phaseTimes: Record<string, number>;
  cacheStats: { hits: number; misses: number };
  /** Where a failure happened, for its message: set at each stage boundary. */
  stage: Stage;
}

/** What holds tensors during a run: set as soon as each exists, so the run's end disposes it even when a later step throws. */
export interface RunResources {
  split?: SplitModel;
  frozenPlan: InferencePlan | null;
  backbone?: LoadedBackbone;
}

/**
 * Reads the experiment, indexes the dataset and creates the run folder, then says
 * 'run-started'. Bad input throws InputError before any run folder exists.
 */
export function openRun(opts: RunOptions): RunContext {
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
  const dataset: DatasetIndex = opts.trainSubset ? opts.trainSubset(indexed.value) : indexed.value;
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
  return { opts, experiment, dataset, runDir, started, log, forward, phaseTimes: {}, cacheStats: { hits: 0, misses: 0 }, stage: 'loading' };
}
