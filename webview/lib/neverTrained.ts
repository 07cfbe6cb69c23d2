// What a dashboard shows, in place of its charts, for a run that ended before its first epoch
// (a backbone that could not be downloaded, a dataset that failed to load, ...): three empty
// "waiting for data…" charts say nothing; the run's error and what to do next do. Pure (no DOM): the
// dashboard webview and the unit tests call it.
import type { RunStatus } from '../../src/core/runEvents';

export interface NeverTrainedNote {
  title: string;
  /** The run's own error (with its hint), when it has one. */
  message?: string;
  next: string;
}

/** The note, when the run has ended and no point of any curve was recorded; undefined while it runs or once it has metrics. */
export function neverTrainedNote(h: { status: RunStatus; message?: string }, points: number): NeverTrainedNote | undefined {
  if (points > 0 || h.status === 'running' || h.status === 'succeeded') return undefined;
  if (h.status === 'cancelled')
    return {
      title: 'This run was stopped before its first epoch: no metrics were recorded.',
      message: h.message,
      next: 'Run the experiment again to train it.',
    };
  return {
    title: 'This run failed before its first epoch, so there are no curves to show.',
    message: h.message ?? 'The run recorded no error message; the Transfer Lab output channel has its log.',
    next: 'Fix what the error says, then run the experiment again (Transfer Lab: Run Experiment).',
  };
}
