// The runs on disk, as the views show them. Files are the source of truth: this index is a
// cache that a file watcher (and the run manager's events) keep honest.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { listRuns, markOrphanedRuns, type RunEntry } from '../core/runStore';
import { allRunsDirs, readConfig } from './config';

const ORPHAN_CHECK_MS = 3000;

export class RunIndex implements vscode.Disposable {
  private entries: RunEntry[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private watchers: vscode.Disposable[] = [];
  private pending: NodeJS.Timeout | undefined;
  private orphanWatch: NodeJS.Timeout | undefined;

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('transferLab.runsFolder') && this.rewatch()),
    );
    // A window reloaded mid-run finds its runs 'running' with a dead trainer: say so.
    for (const dir of allRunsDirs()) markOrphanedRuns(dir);
    this.rewatch();
  }

  private rewatch(): void {
    for (const w of this.watchers) w.dispose();
    const refresh = () => this.scheduleRefresh();
    this.watchers = allRunsDirs().flatMap((dir) => {
      const runs = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '**/run.json'));
      // The runs folder itself, seen from its parent: deleting the whole folder does not
      // reliably report each run.json inside it.
      const folder = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(dir)), path.basename(dir)));
      for (const w of [runs, folder]) {
        w.onDidChange(refresh);
        w.onDidCreate(refresh);
        w.onDidDelete(refresh);
      }
      return [runs, folder];
    });
    this.refresh();
  }

  /** Coalesces bursts of file events (a run writes run.json several times a second). */
  scheduleRefresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.refresh();
    }, 150);
  }

  refresh(): void {
    this.entries = allRunsDirs().flatMap((dir) => listRuns(dir).runs);
    this.watchOrphans();
    this.changed.fire();
  }

  /**
   * While a run says 'running', check every few seconds that its trainer lives. After a window
   * reload the old trainer may still be exiting when this window starts (so the check at
   * start-up passes), and a run of another window on this folder ends on its own: only a
   * writer that is gone without finishing turns its run into 'failed'.
   */
  private watchOrphans(): void {
    const anyRunning = this.entries.some((e) => e.record.status === 'running');
    if (!anyRunning && this.orphanWatch) {
      clearInterval(this.orphanWatch);
      this.orphanWatch = undefined;
    } else if (anyRunning && !this.orphanWatch) {
      this.orphanWatch = setInterval(() => {
        if (allRunsDirs().some((dir) => markOrphanedRuns(dir).length > 0)) this.refresh();
      }, ORPHAN_CHECK_MS);
    }
  }

  all(): RunEntry[] {
    return this.entries;
  }

  get(dir: string): RunEntry | undefined {
    return this.entries.find((e) => path.resolve(e.dir) === path.resolve(dir));
  }

  /** Runs of one experiment file, newest first. */
  forExperiment(file: string): RunEntry[] {
    return this.entries.filter((e) => path.resolve(e.record.experiment.file) === path.resolve(file));
  }

  get runsFolderSetting(): string {
    return readConfig().runsFolder;
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    if (this.orphanWatch) clearInterval(this.orphanWatch);
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
