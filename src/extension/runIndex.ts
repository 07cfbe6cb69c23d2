// The runs on disk, as the views show them. Files are the source of truth: this index is a
// cache that a file watcher (and the run manager's events) keep honest.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listRunsAsync, markOrphanedEntriesAsync, readRunAsync, type RunEntry } from '../core/runStore';
import { allRunsDirs, readConfig } from './config';
import { Disposable, DisposableStore, toDisposable } from './disposable';

const ORPHAN_CHECK_MS = 3000;

export class RunIndex extends Disposable {
  private entries: RunEntry[] = [];
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  /** The watchers of the runs folders as the settings name them now (replaced when they change). */
  private watchers = new DisposableStore();
  private pending: NodeJS.Timeout | undefined;
  private orphanWatch: NodeJS.Timeout | undefined;
  private checkOrphans = false;
  private reading: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor() {
    super();
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('transferLab.runsFolder') && this.rewatch()));
    this._register(
      toDisposable(() => {
        this.watchers.dispose();
        clearTimeout(this.pending);
        clearInterval(this.orphanWatch);
      }),
    );
    // A window reloaded mid-run finds its runs 'running' with a dead trainer: the first read says so.
    this.checkOrphans = true;
    this.rewatch();
  }

  private rewatch(): void {
    this.watchers.dispose();
    const watchers = (this.watchers = new DisposableStore());
    void this.watch(watchers);
    void this.refresh();
  }

  /**
   * Watches each runs folder for run.json files, and the folder itself from above (deleting the
   * whole folder does not reliably report each run.json inside it). A runs folder that does not
   * exist yet (a new workspace, before its first run) is watched from its nearest existing folder
   * inside the workspace, so runs that others write (the CLI in a terminal, a Keras job) show
   * from the first one, not after a reload.
   */
  private async watch(watchers: DisposableStore): Promise<void> {
    const refresh = () => this.scheduleRefresh();
    const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
    for (const dir of allRunsDirs()) {
      const base = await watchBase(dir, roots);
      if (watchers !== this.watchers || this.isDisposed) return; // rewatched or disposed meanwhile
      const rel = path.relative(base, dir).split(path.sep).join('/');
      for (const glob of [`${rel}/**/run.json`, rel]) {
        const w = watchers.add(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(base), glob)));
        watchers.add(w.onDidChange(refresh));
        watchers.add(w.onDidCreate(refresh));
        watchers.add(w.onDidDelete(refresh));
      }
    }
  }

  /** Coalesces bursts of file events (a run writes run.json several times a second). */
  scheduleRefresh(): void {
    if (this.pending || this.isDisposed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.refresh();
    }, 150);
  }

  /**
   * Re-reads every run.json without blocking the extension host. One read at a time: a
   * refresh asked for during a read runs once after it (however many were asked for), so
   * what it resolves with has seen every change made before the call.
   */
  refresh(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.reading) {
      this.reading = this.read().finally(() => (this.reading = undefined));
      return this.reading;
    }
    this.queued = this.reading.then(() => {
      this.queued = undefined;
      return this.refresh();
    });
    return this.queued;
  }

  private async read(): Promise<void> {
    const listings = await Promise.all(allRunsDirs().map((dir) => listRunsAsync(dir)));
    let entries = listings.flatMap((l) => l.runs);
    if (this.checkOrphans) {
      this.checkOrphans = false;
      // Only runs that say 'running' with a dead writer are rewritten: a few small writes.
      if ((await markOrphanedEntriesAsync(entries)).length > 0)
        entries = (await Promise.all(allRunsDirs().map((dir) => listRunsAsync(dir)))).flatMap((l) => l.runs);
    }
    this.entries = entries;
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
    // A read that ends after disposal must not start a timer nobody clears.
    const anyRunning = !this.isDisposed && this.entries.some((e) => e.record.status === 'running');
    if (!anyRunning && this.orphanWatch) {
      clearInterval(this.orphanWatch);
      this.orphanWatch = undefined;
    } else if (anyRunning && !this.orphanWatch) {
      this.orphanWatch = setInterval(() => void this.checkRunning(), ORPHAN_CHECK_MS);
    }
  }

  /** Re-reads only the runs that say 'running' (fresh from disk: one may have just ended) and marks orphans. */
  private async checkRunning(): Promise<void> {
    const running = this.entries.filter((e) => e.record.status === 'running');
    const fresh = await Promise.all(running.map(async (e) => ({ dir: e.dir, read: await readRunAsync(e.dir) })));
    const entries = fresh.flatMap(({ dir, read }) => (read.ok ? [{ dir, record: read.value }] : []));
    if ((await markOrphanedEntriesAsync(entries)).length > 0) await this.refresh();
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
}

/** The folder to watch a runs folder from: its parent, or the nearest existing folder above it inside a workspace folder. */
async function watchBase(dir: string, workspaceRoots: readonly string[]): Promise<string> {
  const parent = path.dirname(dir);
  const root = workspaceRoots.find((r) => parent === r || parent.startsWith(r + path.sep));
  if (!root) return parent;
  for (let p = parent; ; p = path.dirname(p)) {
    if (p === root || (await isFolder(p))) return p;
  }
}

async function isFolder(p: string): Promise<boolean> {
  return fs.promises.stat(p).then(
    (st) => st.isDirectory(),
    () => false,
  );
}
