// How studies appear beside ordinary runs (the Experiments tree, the progress notification):
// a study's cell runs are grouped under the study, so a 36-cell study does not bury the
// experiment's own runs, and one line says where a study stands. Pure: the extension feeds it
// what it read from disk.

/** What the grouping needs of a study.json (a structural subset of studyFile.ts's StudyFile). */
export interface StudyShape {
  experimentName: string;
  finishedAt: string | null;
  grid: { perClass: readonly (number | 'all')[]; seeds: readonly number[]; strategies: readonly string[] };
  cells: readonly { strategy: string; perClass: number | 'all'; seed: number; status: string; runId: string | null }[];
}

/** A study found on disk: its folder and its parsed study.json. */
export interface StudyEntry<S extends StudyShape = StudyShape> {
  dir: string;
  study: S;
}

/** Splits an experiment's runs into those of no study and those of each study (by the cells' run ids or folders). */
export function groupRunsByStudy<R extends { dir: string; record: { id: string } }>(
  runs: readonly R[],
  studies: readonly StudyEntry[],
): { loose: R[]; byStudy: Map<string, R[]> } {
  const owner = new Map<string, string>();
  for (const s of studies) for (const c of s.study.cells) if (c.runId) owner.set(c.runId, s.dir);
  const byStudy = new Map<string, R[]>(studies.map((s) => [s.dir, []]));
  const loose: R[] = [];
  for (const run of runs) {
    const dir = owner.get(run.record.id) ?? studies.find((s) => isInside(run.dir, s.dir))?.dir;
    if (dir) byStudy.get(dir)!.push(run);
    else loose.push(run);
  }
  return { loose, byStudy };
}

function isInside(child: string, parent: string): boolean {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  return norm(child).startsWith(`${norm(parent)}/`);
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "5, 10, 20, all per class × 3 seeds × 4 strategies". */
export function describeGrid(grid: StudyShape['grid']): string {
  return `${grid.perClass.join(', ')} per class × ${plural(grid.seeds.length, 'seed')} × ${plural(grid.strategies.length, 'strategy', 'strategies')}`;
}

export interface StudyProgress {
  done: number;
  total: number;
  failed: number;
  running: number;
  /** Some cells have no result: pending, cancelled, failed, or left running by a dead trainer (Resume runs them). */
  unfinished: boolean;
  /** Some cells never ran to an end (pending, cancelled, or left running): the study was stopped. */
  stopped: boolean;
}

export function studyProgress(study: StudyShape): StudyProgress {
  const count = (status: string) => study.cells.filter((c) => c.status === status).length;
  const done = count('completed');
  const failed = count('failed');
  const running = count('running');
  return { done, total: study.cells.length, failed, running, unfinished: done < study.cells.length, stopped: done + failed < study.cells.length };
}

/** The tree's description of a study: "6 of 36 cells · running", "36 of 36 cells", "20 of 36 cells · stopped". */
export function studyStatusText(study: StudyShape, live: boolean): string {
  const p = studyProgress(study);
  const failed = p.failed ? `, ${p.failed} failed` : '';
  const state = live ? ' · running' : p.stopped ? ' · stopped (Resume runs the rest)' : '';
  return `${p.done} of ${p.total} cells${failed}${state}`;
}

/** "fine-tune, 10 per class, seed 2". */
export function cellLabel(cell: { strategy: string; perClass: number | 'all'; seed: number }): string {
  return `${cell.strategy}, ${cell.perClass === 'all' ? 'all images' : `${cell.perClass} per class`}, seed ${cell.seed}`;
}

/** The progress notification's line for a starting cell: "cell 4 of 36: fine-tune, 10 per class, seed 2". */
export function cellProgressText(study: StudyShape, cell: { strategy: string; perClass: number | 'all'; seed: number }): string {
  const index = study.cells.findIndex((c) => c.strategy === cell.strategy && c.perClass === cell.perClass && c.seed === cell.seed);
  return `cell ${index + 1} of ${study.cells.length}: ${cellLabel(cell)}`;
}

/** The newest study of an experiment that has cells left to run (Resume offers it), if any. */
export function resumableStudy<S extends StudyShape>(studies: readonly StudyEntry<S>[], isLive: (dir: string) => boolean): StudyEntry<S> | undefined {
  return studies.find((s) => !isLive(s.dir) && studyProgress(s.study).unfinished);
}
