// A study whose trainer died mid-cell (killed after Stop's grace, crashed, out of memory) left
// that cell 'running' in study.json. The host settles it so the file says what happened:
// 'cancelled' when the user stopped it, else 'failed' with the reason; Resume runs it again.
import type { StudyFile } from './studyFile';

/** The study with its 'running' cells settled, or undefined when none was left running. */
export function settleInterruptedCells(study: StudyFile, how: { stopped: boolean; reason: string }): StudyFile | undefined {
  if (!study.cells.some((c) => c.status === 'running')) return undefined;
  return {
    ...study,
    finishedAt: null,
    cells: study.cells.map((c) =>
      c.status !== 'running'
        ? c
        : how.stopped
          ? { ...c, status: 'cancelled', error: null }
          : { ...c, status: 'failed', error: `the trainer stopped: ${how.reason}` },
    ),
  };
}
