// One cell of a study: an ordinary run (runExperiment) of the study's experiment with the
// cell's strategy and seed, on the cell's training subset, in the study folder; and the row
// study.json keeps of it, read from the run's outcome.
import * as path from 'node:path';
import type { ResolvedExperiment } from '../../core/experiment';
import type { RunEvent } from '../../core/runEvents';
import type { StudyCell } from '../../core/studyFile';
import { cellExperiment, type StudyLayers } from '../../core/studyPlan';
import { restrictTraining } from '../../core/studySubsets';
import { runExperiment, type RunOutcome } from '../runExperiment';

export interface CellRunOptions {
  experimentFile: string;
  studyDir: string;
  cacheDir: string;
  installRoot: string;
  backend: string;
  layers: StudyLayers | null;
  target: number;
  onRunEvent(event: RunEvent): void;
  shouldStop(): boolean;
}

/** Runs the cell; resolves with the cell's row as it ended (completed, failed or cancelled). */
export async function runCell(cell: StudyCell, o: CellRunOptions): Promise<{ cell: StudyCell; outcome: RunOutcome }> {
  let runId: string | null = null;
  const outcome = await runExperiment({
    experimentFile: o.experimentFile,
    runsDir: o.studyDir,
    cacheDir: o.cacheDir,
    installRoot: o.installRoot,
    backend: o.backend,
    onEvent: (e) => {
      if (e.type === 'run-started') runId = e.runId;
      o.onRunEvent(e);
    },
    shouldStop: o.shouldStop,
    override: (e: ResolvedExperiment) => ({ ...cellExperiment(e, cell.strategy, cell.seed, o.layers), name: cellRunName(e.name, cell) }),
    trainSubset: (dataset) => restrictTraining(dataset, cell.perClass, cell.seed),
  });
  return { cell: cellFromOutcome(cell, runId ?? path.basename(outcome.runDir), outcome, o.target), outcome };
}

/** "flowers fine-tune 10pc s1": a run name that says which cell it is in the run list. */
export function cellRunName(experimentName: string, cell: Pick<StudyCell, 'strategy' | 'perClass' | 'seed'>): string {
  return `${experimentName} ${cell.strategy} ${cell.perClass === 'all' ? 'all' : `${cell.perClass}pc`} s${cell.seed}`;
}

export function cellFromOutcome(cell: StudyCell, runId: string, outcome: RunOutcome, target: number): StudyCell {
  const history = outcome.train?.history ?? [];
  const reached = history.find((h) => h.valAccuracy >= target);
  const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
  const status = outcome.status === 'succeeded' ? 'completed' : outcome.status;
  return {
    ...cell,
    status,
    runId,
    testAccuracy: finite(outcome.evaluation?.accuracy),
    bestValAccuracy: finite(outcome.train?.best.valAccuracy),
    bestEpoch: outcome.train ? outcome.train.bestEpoch : null,
    epochs: outcome.train ? history.length : null,
    epochsToTarget: reached?.epoch ?? null,
    trainSeconds: finite(outcome.metrics?.trainSeconds),
    error: outcome.error ? `${outcome.error.message}${outcome.error.hint ? ` ${outcome.error.hint}` : ''}` : null,
  };
}
