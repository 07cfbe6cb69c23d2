// One trainer job that survives a oneDNN crash (issue 12): when the trainer dies of SIGFPE
// and its 'kernels' message said oneDNN was on (by the policy, not the user's
// TF_ENABLE_ONEDNN_OPTS), the verdict is remembered for that machine and model
// (engine/oneDnnPolicy.ts) and the same job runs once more with TF_ENABLE_ONEDNN_OPTS=0.
// A run's crashed attempt leaves a run folder: it is finalized as failed, saying so, before
// the retry makes its own. No vscode import, so plain-Node tests drive it with the real trainer.
import { PROTOCOL_VERSION, type TrainerMessage } from '../core/protocol';
import { finalizeStoppedRunAsync } from '../core/runStore';
import { recordOffVerdict } from '../engine/oneDnnPolicy';
import type { TrainerOutcome, TrainerProcess } from './trainerProcess';

export interface OneDnnRetryOptions {
  /**
   * Starts one attempt with `env` added to the trainer's environment; the owner keeps and
   * disposes the process. undefined when the owner is gone (no retry then).
   */
  launch(env: NodeJS.ProcessEnv, onMessage: (m: TrainerMessage) => void): TrainerProcess | undefined;
  /** Every message of every attempt, and a 'log' warn when the job is retried. */
  onMessage(m: TrainerMessage): void;
  /** <nativeInstallDir>/onednn-verdicts.json; without it the retry still happens but nothing is remembered. */
  verdictFile?: string;
}

const RETRY_NOTICE = 'oneDNN crashed the trainer (SIGFPE)';

/** The 'log' warn a job gets when it is retried with oneDNN off (the run manager shows it). */
export function isOneDnnRetryNotice(m: TrainerMessage): m is Extract<TrainerMessage, { type: 'log' }> {
  return m.type === 'log' && m.level === 'warn' && m.message.startsWith(RETRY_NOTICE);
}

/** What a crash with oneDNN on did, for the messages. */
function retryMessage(model: string, remembered: string | undefined): string {
  return `${RETRY_NOTICE} on ${model}; running it once more with oneDNN off (TF_ENABLE_ONEDNN_OPTS=0)${
    remembered ? `, and from now on for this model on this machine (${remembered}; delete it to forget)` : ''
  }.`;
}

export class OneDnnRetryJob {
  readonly outcome: Promise<TrainerOutcome>;
  private current: TrainerProcess | undefined;
  private cancelled = false;

  constructor(private readonly opts: OneDnnRetryOptions) {
    this.outcome = this.supervise();
  }

  /** The live attempt's process id. */
  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** Cancels whichever attempt is live; there is no retry after a cancel. */
  cancel(): void {
    this.cancelled = true;
    this.current?.cancel();
  }

  private async supervise(): Promise<TrainerOutcome> {
    let env: NodeJS.ProcessEnv = {};
    for (let attempt = 0; ; attempt++) {
      let kernels: Extract<TrainerMessage, { type: 'kernels' }> | undefined;
      let runDir: string | undefined;
      const trainer = this.opts.launch(env, (m) => {
        if (m.type === 'kernels') kernels = m;
        else if (m.type === 'run-event' && m.event.type === 'run-started') runDir = m.event.runDir;
        this.opts.onMessage(m);
      });
      if (!trainer) return { ok: false, reason: 'the extension stopped before the trainer started again', exitCode: null, signal: null, stderrTail: '' };
      this.current = trainer;
      const outcome = await trainer.outcome;
      const oneDnnCrash = !outcome.ok && outcome.signal === 'SIGFPE' && kernels?.oneDnn.enabled === true && kernels.oneDnn.source !== 'environment';
      if (!oneDnnCrash || attempt > 0 || this.cancelled) return outcome;

      let remembered: string | undefined;
      if (this.opts.verdictFile) {
        try {
          await recordOffVerdict(this.opts.verdictFile, { machine: kernels!.machine, model: kernels!.model, signal: 'SIGFPE' });
          remembered = this.opts.verdictFile;
        } catch (e) {
          this.opts.onMessage({
            type: 'log',
            protocol: PROTOCOL_VERSION,
            level: 'warn',
            message: `could not remember the oneDNN verdict in ${this.opts.verdictFile}: ${(e as Error).message}`,
          });
        }
      }
      if (runDir) {
        await finalizeStoppedRunAsync(
          runDir,
          {
            message: 'oneDNN crashed this run (SIGFPE); Transfer Lab retried it with oneDNN off in a new run folder',
            hint: 'See the newer run of this experiment; this model now runs with oneDNN off on this machine.',
          },
          outcome.stderrTail,
        );
      }
      this.opts.onMessage({ type: 'log', protocol: PROTOCOL_VERSION, level: 'warn', message: retryMessage(kernels!.model, remembered) });
      if (this.cancelled) return outcome;
      env = { TF_ENABLE_ONEDNN_OPTS: '0' };
    }
  }
}
