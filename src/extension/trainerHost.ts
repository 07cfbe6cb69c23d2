// Launches trainer jobs and owns every trainer process it starts: disposing the host
// (extension deactivation) ends them all. One process per attempt: a job whose trainer
// oneDNN crashed runs once more with oneDNN off (oneDnnRetry.ts).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { EnvironmentReport, Job, TrainerMessage } from '../core/protocol';
import type { LayerSummary, Prediction } from '../core/layerSummary';
import type { BackboneSpec } from '../core/experiment';
import type { ProbeFile } from '../core/probeFile';
import { TrainerProcess, type TrainerOutcome } from './trainerProcess';
import { readConfig } from './config';
import { nativeInstallDirOf } from '../engine/native/installedBackend';
import { verdictFileOf } from '../engine/oneDnnPolicy';
import { OneDnnRetryJob } from './oneDnnRetry';
import { Disposable, toDisposable } from './disposable';

export type JobFailure = Extract<TrainerOutcome, { ok: false }>;
export type JobResult<T> = { ok: true; value: T } | { ok: false; outcome: JobFailure };

/** A job that runs until it ends or is cancelled (training). */
export interface TrainerJob {
  /** The live attempt's trainer (a oneDNN crash starts a second one). */
  readonly pid: number | undefined;
  readonly outcome: Promise<TrainerOutcome>;
  cancel(): void;
}

export class TrainerHost extends Disposable {
  private readonly live = new Set<TrainerProcess>();
  private readonly started = this._register(new vscode.EventEmitter<number>());
  /** Fires with the pid of each trainer process as it starts. */
  readonly onDidStartTrainer = this.started.event;

  constructor(
    private readonly extensionPath: string,
    private readonly output: vscode.OutputChannel,
    /** The extension's global storage: Install Native Backend installs under native/ there. */
    private readonly storageDir: string,
  ) {
    super();
    this._register(
      toDisposable(() => {
        for (const trainer of this.live) trainer.dispose();
        this.live.clear();
      }),
    );
  }

  activePids(): number[] {
    return [...this.live].map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Runs the environment job: load TensorFlow.js in a fresh trainer and report. */
  environment(): Promise<JobResult<EnvironmentReport>> {
    return this.request({ kind: 'environment' }, 120_000, (m) => (m.type === 'environment' ? m.report : undefined));
  }

  /** The layer table of a backbone (loading it needs TensorFlow.js, so the trainer does it). */
  inspect(backbone: BackboneSpec, baseDir: string, cacheDir: string): Promise<JobResult<LayerSummary>> {
    return this.request({ kind: 'inspect', backbone, baseDir, cacheDir }, 600_000, (m) => (m.type === 'layers' ? m.summary : undefined));
  }

  predict(target: string, images: string[], cacheDir: string): Promise<JobResult<Prediction[]>> {
    return this.request({ kind: 'predict', target, images, cacheDir }, 300_000, (m) => (m.type === 'predictions' ? m.predictions : undefined));
  }

  /**
   * A predict job that streams its batches through onMessage ('predictor', 'prediction-batch',
   * then 'predictions'); cancel stops it at the next batch. A minute to load, then a second an image at most.
   */
  startPredict(target: string, images: string[], cacheDir: string, onMessage: (m: TrainerMessage) => void): TrainerJob {
    return this.supervise({ kind: 'predict', target, images, cacheDir }, 60_000 + 1_000 * images.length, onMessage, 10_000);
  }

  /** The layer probe in a trainer; its progress lines go to `onProgress`. */
  probe(job: Omit<Extract<Job, { kind: 'probe' }>, 'kind'>, onProgress: (message: string) => void): Promise<JobResult<{ probe: ProbeFile; file?: string }>> {
    return this.request({ kind: 'probe', ...job }, 1_800_000, (m) => {
      if (m.type === 'probe-progress') onProgress(m.message);
      return m.type === 'probe' ? { probe: m.probe, file: m.file } : undefined;
    });
  }

  /** Starts a training run; events arrive through onMessage until the outcome settles. */
  startRun(job: Extract<Job, { kind: 'run' }>, onMessage: (m: TrainerMessage) => void): TrainerJob {
    // No deadline: a run takes as long as it takes. Cancel lets it finish its batch and
    // write a valid run folder before the process is killed.
    return this.supervise(job, undefined, onMessage, 30_000);
  }

  /**
   * Starts a study: no deadline either. Stop ends it within 2 s: the running cell stops after
   * its batch and study.json is rewritten, or the trainer is killed and the host settles the file.
   */
  startStudy(job: Extract<Job, { kind: 'study' }>, onMessage: (m: TrainerMessage) => void): TrainerJob {
    return this.supervise(job, undefined, onMessage, 2_000);
  }

  private async request<T>(job: Job, deadlineMs: number, pick: (m: TrainerMessage) => T | undefined): Promise<JobResult<T>> {
    // Loading a model runs code and downloads what the workspace names: not in Restricted Mode.
    if (job.kind !== 'environment' && !vscode.workspace.isTrusted) {
      return {
        ok: false,
        outcome: {
          ok: false,
          reason: `${job.kind === 'predict' ? 'prediction' : 'loading models'} is disabled in Restricted Mode`,
          hint: 'Trust this workspace (Manage Workspace Trust) to load models and train.',
          exitCode: null,
          signal: null,
          stderrTail: '',
        },
      };
    }
    let value: T | undefined;
    // A retried job answers again: the last answer is the retry's.
    const outcome = await this.supervise(job, deadlineMs, (m) => {
      value = pick(m) ?? value;
    }).outcome;
    if (!outcome.ok) return { ok: false, outcome };
    if (value === undefined) {
      return {
        ok: false,
        outcome: { ok: false, reason: `the trainer finished the ${job.kind} job without an answer`, exitCode: 0, signal: null, stderrTail: '' },
      };
    }
    return { ok: true, value };
  }

  /** A job in one trainer, or two when oneDNN crashes the first; messages and retries go to the output channel. */
  private supervise(job: Job, deadlineMs: number | undefined, onMessage: (m: TrainerMessage) => void, cancelGraceMs?: number): TrainerJob {
    return new OneDnnRetryJob({
      launch: (env, onAttemptMessage) => (this.isDisposed ? undefined : this.spawn(job, deadlineMs, onAttemptMessage, cancelGraceMs, env)),
      onMessage: (m) => {
        if (m.type === 'log') this.output.appendLine(`[trainer ${m.level}] ${m.message}`);
        onMessage(m);
      },
      verdictFile: verdictFileOf(nativeInstallDirOf(this.storageDir)),
    });
  }

  private spawn(
    job: Job,
    deadlineMs: number | undefined,
    onMessage: (m: TrainerMessage) => void,
    cancelGraceMs?: number,
    env?: NodeJS.ProcessEnv,
  ): TrainerProcess {
    const config = readConfig();
    const trainer = new TrainerProcess(
      {
        script: path.join(this.extensionPath, 'dist', 'trainer.js'),
        nodePath: config.nodePath,
        startTimeoutMs: 30_000,
        deadlineMs,
        cancelGraceMs,
        env,
      },
      job,
      {
        backend: config.backend,
        nativeBackendPath: config.nativeBackendPath,
        nativeInstallDir: nativeInstallDirOf(this.storageDir),
        nativeDevice: config.nativeDevice,
      },
      onMessage,
      (text) => this.output.append(text),
    );
    this.live.add(trainer);
    void trainer.outcome.finally(() => this.live.delete(trainer));
    if (trainer.pid !== undefined) this.started.fire(trainer.pid);
    return trainer;
  }
}
