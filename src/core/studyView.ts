// What the Study panel shows, built from study.json (the source of truth, rewritten after every
// cell): one line per strategy from the summary rows, placed on a log axis of images per class,
// and a row per cell. Pure, so it is tested without VS Code.
import type { PerClass, StudyFile } from './studyFile';
import { STUDY_PROTOCOL, type StudyLine, type StudyState } from './studyMessages';
import { cellLabel, describeGrid, studyProgress } from './studyGrouping';

/**
 * Where each data size sits on the axis (images per class). A number is itself; 'all' is the
 * training split's mean per class, from its cells' image count and the class count the sized
 * cells imply (their subsets hold perClass images of every class).
 */
export function axisPositions(study: StudyFile): Map<PerClass, number> {
  const sized = study.cells.filter((c) => c.perClass !== 'all' && c.trainImages > 0);
  const classes = sized.length ? Math.round(Math.max(...sized.map((c) => c.trainImages / (c.perClass as number)))) : 0;
  const positions = new Map<PerClass, number>();
  for (const size of study.grid.perClass) {
    if (size !== 'all') positions.set(size, size);
    else {
      const all = study.cells.find((c) => c.perClass === 'all')?.trainImages ?? 0;
      positions.set('all', classes > 0 ? all / classes : Math.max(1, all));
    }
  }
  return positions;
}

function lines(study: StudyFile): StudyLine[] {
  const rows = study.summary?.rows ?? [];
  const x = axisPositions(study);
  return study.grid.strategies
    .map((strategy) => ({
      strategy,
      points: rows
        .filter((r) => r.strategy === strategy)
        .map((r) => ({
          perClass: r.perClass,
          x: x.get(r.perClass) ?? 1,
          n: r.n,
          mean: r.meanTestAccuracy,
          min: r.minTestAccuracy,
          max: r.maxTestAccuracy,
          std: r.stdTestAccuracy,
          meanTrainSeconds: r.meanTrainSeconds,
          meanEpochsToTarget: r.meanEpochsToTarget,
        }))
        .sort((a, b) => a.x - b.x),
    }))
    .filter((l) => l.points.length > 0);
}

/** The panel's state; `live`: a trainer runs this study now (a 'running' cell of a dead one is not running). */
export function buildStudyState(studyDir: string, study: StudyFile, live: boolean): StudyState {
  const progress = studyProgress(study);
  const running = live ? study.cells.find((c) => c.status === 'running') : undefined;
  return {
    type: 'state',
    protocol: STUDY_PROTOCOL,
    studyDir,
    experimentName: study.experimentName,
    grid: describeGrid(study.grid),
    done: progress.done,
    total: progress.total,
    failed: progress.failed,
    // A finished study is not running, even in the moment before its trainer has exited.
    running: running ? cellLabel(running) : live && study.finishedAt === null ? 'starting' : null,
    finished: study.finishedAt !== null,
    target: study.target,
    lines: lines(study),
    sentence: study.summary?.sentence ?? null,
    cells: study.cells.map((c) => ({
      strategy: c.strategy,
      perClass: c.perClass,
      seed: c.seed,
      status: c.status,
      trainImages: c.trainImages,
      testAccuracy: c.testAccuracy,
      bestValAccuracy: c.bestValAccuracy,
      epochs: c.epochs,
      epochsToTarget: c.epochsToTarget,
      trainSeconds: c.trainSeconds,
      error: c.error,
      hasRun: c.runId !== null,
    })),
  };
}
