// Starts, supervises and stops training runs: one trainer process per run, events fanned
// out to the views. A trainer that dies leaves its run marked failed with the reason and
// the tail of its stderr appended to log.txt; nothing it wrote is lost.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { RunEvent, RunStatus } from '../core/runEvents';
import { finalizeStoppedRunAsync, readRunAsync } from '../core/runStore';
import { summarizeRun, summaryLine } from '../core/runSummary';
import type { TrainerHost, TrainerJob } from './trainerHost';
import { cacheDirOf, readConfig, runsDirFor } from './config';
import { isOneDnnRetryNotice } from './oneDnnRetry';
import { Disposable } from './disposable';
import { LiveJobs, saveIfDirty } from './liveJobs';

type EpochEvent = Extract<RunEvent, { type: 'epoch' }>;
type BatchEvent = Extract<RunEvent, { type: 'batch' }>;

/** What the views know about a run while its trainer is alive. */
export interface LiveRun {
  readonly experimentFile: string;
  readonly startedAt: number;
  runDir?: string;
  runId?: string;
  status: RunStatus;
  phase?: string;
  backend?: string;
  classes?: string[];
  epochs?: number;
  lastEpoch?: EpochEvent;
  /** Validation accuracy per epoch so far (x = epoch): what best/last are computed from while it trains. */
  valAccuracy: { x: number; y: number }[];
  lastBatch?: BatchEvent;
  message?: string;
  readonly job: TrainerJob;
}

export class RunManager extends Disposable {
  private readonly runs = this._register(new LiveJobs<LiveRun>((r) => r.runDir));
  /** The status each run's trainer last reported, by run folder: views follow it before run.json is re-read. */
  private readonly reported = new Map<string, RunStatus>();
  private readonly events = this._register(new vscode.EventEmitter<{ run: LiveRun; event: RunEvent }>());
  private readonly changes = this._register(new vscode.EventEmitter<void>());
  /** Every event of every live run (throttled by the trainer to a few per second). */
  readonly onDidEvent = this.events.event;
  /** A run started or ended. */
  readonly onDidChangeRuns = this.changes.event;

  constructor(
    private readonly trainers: TrainerHost,
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
  ) {
    super();
  }

  active(): LiveRun[] {
    return this.runs.all();
  }

  running(experimentFile: string): LiveRun | undefined {
    return this.runs.ofFile(experimentFile);
  }

  byRunDir(runDir: string): LiveRun | undefined {
    return this.runs.ofFolder(runDir);
  }

  /** The run's status as its trainer reported it (live or ended in this window); undefined for runs it never saw. */
  statusOf(runDir: string): RunStatus | undefined {
    return this.byRunDir(runDir)?.status ?? this.reported.get(path.resolve(runDir));
  }

  /** Starts a run of the experiment file; undefined (with a message shown) when it cannot. */
  async start(experimentFile: string): Promise<LiveRun | undefined> {
    const file = path.resolve(experimentFile);
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(
        'Transfer Lab: training is disabled in Restricted Mode: a run loads models and executes code the workspace chooses. Trust the workspace to train.',
      );
      return undefined;
    }
    const already = this.runs.ofFile(file);
    if (already) {
      void vscode.window.showInformationMessage(`Transfer Lab: ${path.basename(file)} is already running.`);
      return already;
    }
    const limit = readConfig().maxConcurrentRuns;
    if (this.runs.size >= limit) {
      void vscode.window.showWarningMessage(
        `Transfer Lab: ${this.runs.size} run(s) already going (limit ${limit}, setting transferLab.maxConcurrentRuns). Stop one or raise the limit.`,
      );
      return undefined;
    }
    await saveIfDirty(file);

    const job = this.trainers.startRun({ kind: 'run', experimentFile: file, runsDir: runsDirFor(file), cacheDir: cacheDirOf(this.context) }, (m) => {
      if (m.type === 'run-event') this.apply(run, m.event);
      else if (m.type === 'failed') run.message = m.hint ? `${m.message} ${m.hint}` : m.message;
      else if (isOneDnnRetryNotice(m)) this.retried(run, m.message);
    });
    const run: LiveRun = { experimentFile: file, startedAt: Date.now(), status: 'running', valAccuracy: [], job };
    this.runs.add(run);
    this.changes.fire();
    void job.outcome.then((outcome) => this.finish(run, outcome));
    return run;
  }

  /** Asks the run to stop after its current batch (the trainer writes a 'cancelled' run). */
  stop(experimentFileOrRunDir: string): boolean {
    const run = this.running(experimentFileOrRunDir) ?? this.byRunDir(experimentFileOrRunDir);
    if (!run) return false;
    run.phase = 'stopping';
    run.job.cancel();
    this.changes.fire();
    return true;
  }

  /**
   * oneDNN crashed the run's trainer and the host runs it again with oneDNN off: the crashed
   * run folder is already finalized as failed; the retry's 'run-started' moves this LiveRun
   * to its new folder.
   */
  private retried(run: LiveRun, message: string): void {
    run.phase = 'retrying with oneDNN off';
    run.lastBatch = undefined;
    run.lastEpoch = undefined;
    run.valAccuracy = [];
    this.changes.fire();
    void vscode.window.showWarningMessage(`Transfer Lab: ${path.basename(run.experimentFile)}: ${message}`, 'Show Output').then((pick) => {
      if (pick) this.output.show(true);
    });
  }

  private apply(run: LiveRun, event: RunEvent): void {
    switch (event.type) {
      case 'run-started':
        run.runDir = event.runDir;
        run.runId = event.runId;
        run.backend = event.backend;
        run.classes = event.classes;
        run.epochs = event.epochs;
        this.changes.fire();
        break;
      case 'phase':
        run.phase = event.message;
        break;
      case 'epoch':
        run.lastEpoch = event;
        run.valAccuracy.push({ x: event.epoch, y: event.valAccuracy });
        break;
      case 'batch':
        run.lastBatch = event;
        break;
      case 'finished':
        run.status = event.status;
        if (run.runDir) this.reported.set(path.resolve(run.runDir), event.status);
        if (event.status === 'failed') run.message = event.hint ? `${event.message} ${event.hint}` : event.message;
        break;
      default:
        break;
    }
    this.events.fire({ run, event });
  }

  private async finish(run: LiveRun, outcome: Awaited<TrainerJob['outcome']>): Promise<void> {
    this.runs.remove(run);
    if (!outcome.ok && run.runDir) {
      // The trainer died (crash, out of memory, killed): keep what it wrote, say what happened.
      await finalizeStoppedRunAsync(
        run.runDir,
        { message: `the trainer stopped: ${outcome.reason}`, hint: outcome.hint ?? 'See log.txt in the run folder for its last output.' },
        outcome.stderrTail,
      );
    }
    if (run.status === 'running') run.status = outcome.ok ? 'succeeded' : run.phase === 'stopping' ? 'cancelled' : 'failed';
    if (run.runDir) this.reported.set(path.resolve(run.runDir), run.status);
    if (!outcome.ok) {
      run.message ??= outcome.reason;
      this.output.appendLine(`Run of ${path.basename(run.experimentFile)} failed: ${run.message}`);
      if (outcome.stderrTail) this.output.appendLine(outcome.stderrTail);
    }
    this.changes.fire();
    const name = path.basename(run.experimentFile, '.tlexp.json');
    if (run.status === 'succeeded') {
      const record = run.runDir ? await readRunAsync(run.runDir) : undefined;
      const line = record?.ok ? summaryLine(summarizeRun({ record: record.value, valAccuracy: run.valAccuracy, live: run })) : '';
      const acc = line ? `: ${line}` : '';
      void vscode.window.showInformationMessage(`Transfer Lab: ${name} finished${acc}.`, 'Open Dashboard').then((pick) => {
        if (pick && run.runDir) void vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(run.runDir));
      });
    } else if (run.status === 'failed') {
      void vscode.window.showErrorMessage(`Transfer Lab: ${name} failed: ${run.message ?? 'unknown reason'}`, 'Show Output').then((pick) => {
        if (pick) this.output.show(true);
      });
    }
  }
}
