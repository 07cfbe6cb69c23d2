// Starts, follows and stops data-efficiency studies: one trainer process per study (the engine's
// runStudy), a cancellable progress notification that names the cell in training, and the
// study kept current from its events for the panel and the tree. A trainer that dies leaves
// study.json settled (its running cell cancelled or failed) and that cell's run folder finalized.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { STUDY_FILE, type StudyEvent, type StudyFile, type StudyGrid } from '../core/studyFile';
import { finalizeStoppedRunAsync, writeJsonAtomicAsync } from '../core/runStore';
import { cellProgressText, studyProgress } from '../core/studyGrouping';
import { settleInterruptedCells } from '../core/studyRecovery';
import type { TrainerHost, TrainerJob } from './trainerHost';
import { cacheDirOf, runsDirFor } from './config';
import { Disposable } from './disposable';
import { LiveJobs, saveIfDirty } from './liveJobs';
import { readStudyAsync } from './studyIndex';

type Progress = vscode.Progress<{ message?: string; increment?: number }>;

/** A study while its trainer is alive. */
export interface LiveStudy {
  readonly experimentFile: string;
  studyDir?: string;
  /** study.json as the events say it is now. */
  study?: StudyFile;
  /** The run folder of the cell in training. */
  cellRunDir?: string;
  stopping: boolean;
  /** Its Study panel was opened for it (once, when the study started), as a run's dashboard is. */
  opened?: boolean;
  message?: string;
  readonly job: TrainerJob;
  /** Resolves when the study has ended and study.json is settled. */
  readonly ended: Promise<void>;
}

export class StudyRunner extends Disposable {
  private readonly live = this._register(new LiveJobs<LiveStudy>((st) => st.studyDir));
  private readonly changes = this._register(new vscode.EventEmitter<LiveStudy>());
  /** A study started, changed (a cell started or finished) or ended. */
  readonly onDidChange = this.changes.event;

  constructor(
    private readonly trainers: TrainerHost,
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
  ) {
    super();
  }

  active(): LiveStudy[] {
    return this.live.all();
  }

  running(experimentFile: string): LiveStudy | undefined {
    return this.live.ofFile(experimentFile);
  }

  byStudyDir(studyDir: string): LiveStudy | undefined {
    return this.live.ofFolder(studyDir);
  }

  /** Starts a study of the file over `grid`, or resumes the study folder `resume`; undefined (with a message) when it cannot. */
  async start(experimentFile: string, grid: StudyGrid, resume?: string): Promise<LiveStudy | undefined> {
    const file = path.resolve(experimentFile);
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Transfer Lab: studies are disabled in Restricted Mode: they train models. Trust the workspace to run one.');
      return undefined;
    }
    const already = this.live.ofFile(file);
    if (already) {
      void vscode.window.showInformationMessage(`Transfer Lab: a study of ${path.basename(file)} is already running.`);
      return already;
    }
    await saveIfDirty(file);
    let progress: Progress | undefined;
    const job = this.trainers.startStudy(
      { kind: 'study', experimentFile: file, runsDir: runsDirFor(file), cacheDir: cacheDirOf(this.context), grid, resume },
      (m) => {
        if (m.type === 'study-event') this.apply(study, m.event, progress);
        else if (m.type === 'run-event' && m.event.type === 'run-started') study.cellRunDir = m.event.runDir;
        else if (m.type === 'failed') study.message = m.hint ? `${m.message} ${m.hint}` : m.message;
      },
    );
    let ended!: () => void;
    const study: LiveStudy = { experimentFile: file, studyDir: resume, stopping: false, job, ended: new Promise((r) => (ended = r)) };
    this.live.add(study);
    this.changes.fire(study);
    const name = path.basename(file, '.tlexp.json');
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Transfer Lab: study of ${name}`, cancellable: true },
      (p, token) => {
        progress = p;
        p.report({ message: resume ? 'resuming…' : 'starting…' });
        token.onCancellationRequested(() => this.stop(file));
        return study.ended;
      },
    );
    void job.outcome.then((outcome) => this.finish(study, outcome).finally(ended));
    return study;
  }

  /** Stops the study of an experiment file or study folder: its cell ends after the batch, study.json stays whole. */
  stop(experimentFileOrStudyDir: string): boolean {
    const study = this.running(experimentFileOrStudyDir) ?? this.byStudyDir(experimentFileOrStudyDir);
    if (!study) return false;
    study.stopping = true;
    study.job.cancel();
    this.changes.fire(study);
    return true;
  }

  private apply(live: LiveStudy, event: StudyEvent, progress: Progress | undefined): void {
    live.studyDir = event.studyDir;
    if (!live.opened) {
      live.opened = true;
      void vscode.commands.executeCommand('transferLab.openStudy', event.studyDir);
    }
    if (event.type === 'study-started') {
      live.study = event.study;
      const { done, total } = studyProgress(event.study);
      progress?.report({ increment: total ? (100 * done) / total : 0 });
    } else if (live.study && (event.type === 'study-cell-started' || event.type === 'study-cell-finished')) {
      live.study = { ...live.study, cells: live.study.cells.map((c, i) => (i === event.index ? event.cell : c)) };
      if (event.type === 'study-cell-started') progress?.report({ message: cellProgressText(live.study, event.cell) });
      else progress?.report({ increment: event.cell.status === 'completed' ? 100 / live.study.cells.length : 0 });
    } else if (live.study && event.type === 'study-finished') {
      live.study = { ...live.study, summary: event.summary };
      this.output.appendLine(
        `Study ${path.basename(event.studyDir)}: ${event.status} in ${(event.durationMs / 1000).toFixed(1)} s; activation cache ${event.cache.hits} hits, ${event.cache.misses} misses`,
      );
    }
    this.changes.fire(live);
  }

  private async finish(live: LiveStudy, outcome: Awaited<TrainerJob['outcome']>): Promise<void> {
    if (!outcome.ok) {
      this.output.appendLine(`Study of ${path.basename(live.experimentFile)} ended: ${live.message ?? outcome.reason}`);
      if (outcome.stderrTail) this.output.appendLine(outcome.stderrTail);
      await this.settle(live, outcome.reason);
    }
    this.live.remove(live);
    this.changes.fire(live);
    const read = live.studyDir ? await readStudyAsync(live.studyDir) : undefined;
    const study = read?.ok ? read.value : live.study;
    this.tell(live, study, outcome.ok ? undefined : (live.message ?? outcome.reason));
  }

  /** The trainer is gone without finishing: its running cell's run folder and study.json say so. */
  private async settle(live: LiveStudy, reason: string): Promise<void> {
    if (!live.studyDir) return;
    const stopped = live.stopping;
    if (live.cellRunDir) {
      const message = stopped ? 'stopped by the user' : `the trainer stopped: ${reason}`;
      await finalizeStoppedRunAsync(live.cellRunDir, { message, hint: 'Resume the study to run this cell again.' });
    }
    const read = await readStudyAsync(live.studyDir);
    const settled = read.ok ? settleInterruptedCells(read.value, { stopped, reason }) : undefined;
    if (settled) await writeJsonAtomicAsync(path.join(live.studyDir, STUDY_FILE), settled);
  }

  private tell(live: LiveStudy, study: StudyFile | undefined, failure: string | undefined): void {
    const name = path.basename(live.experimentFile, '.tlexp.json');
    const open = (pick: string | undefined) => {
      if (pick === 'Open Study' && live.studyDir) void vscode.commands.executeCommand('transferLab.openStudy', live.studyDir);
      if (pick === 'Show Output') this.output.show(true);
    };
    const p = study ? studyProgress(study) : undefined;
    const cells = p ? `${p.done} of ${p.total} cells done${p.failed ? `, ${p.failed} failed` : ''}` : 'no cell done';
    if (failure && !live.stopping) {
      void vscode.window.showErrorMessage(`Transfer Lab: the study of ${name} failed (${cells}): ${failure}`, 'Open Study', 'Show Output').then(open);
    } else if (live.stopping || p?.stopped) {
      const msg = `Transfer Lab: the study of ${name} stopped (${cells}). Run Data-Efficiency Study on it again to resume.`;
      void vscode.window.showInformationMessage(msg, 'Open Study').then(open);
    } else {
      const msg = `Transfer Lab: the study of ${name} finished (${cells}). ${study?.summary?.sentence ?? ''}`;
      void vscode.window.showInformationMessage(msg.trim(), 'Open Study').then(open);
    }
  }
}
