// The trainer's study job: the engine's runStudy (the same one `transfer-lab study` runs), its
// study events and each cell's run events streamed to the host, Stop obeyed between batches.
// A study whose cells failed is a finished job: study.json and the events carry each cell's error.
import type { Job, TrainerMessage } from '../core/protocol';
import type { Unversioned } from '../core/messageProtocol';
import type { RunEvent } from '../core/runEvents';
import type { StudyEvent } from '../core/studyFile';
import { installRootOf } from '../engine/backend';
import { InputError } from '../engine/runExperiment';
import { runStudy } from '../engine/study/runStudy';

const isStudyEvent = (e: StudyEvent | RunEvent): e is StudyEvent => e.type.startsWith('study-');

export async function runStudyJob(
  job: Extract<Job, { kind: 'study' }>,
  backend: string,
  send: (message: Unversioned<TrainerMessage>) => Promise<void>,
  shouldStop: () => boolean,
): Promise<void> {
  try {
    await runStudy({
      experimentFile: job.experimentFile,
      runsDir: job.runsDir,
      cacheDir: job.cacheDir,
      installRoot: installRootOf(__dirname),
      backend,
      grid: job.grid,
      resume: job.resume,
      onEvent: (event) => void send(isStudyEvent(event) ? { type: 'study-event', event } : { type: 'run-event', event }),
      shouldStop,
    });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    await send({ type: 'failed', message: e.message, hint: 'Fix the experiment file, its dataset or the study grid, and run the study again.' });
  }
}
