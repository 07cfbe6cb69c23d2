// Watching files for the caches of what is on disk (the studies index): every create, change
// and delete of what a glob names asks for one refresh, and a burst of them (a file rewritten
// several times a second) coalesces into one call.
import * as vscode from 'vscode';
import { Disposable, type DisposableStore, toDisposable } from './disposable';

/** Calls `onEvent` on each create, change and delete under `dir` matching `glob`; `store` owns the watcher. */
export function watchGlob(store: DisposableStore, dir: string, glob: string, onEvent: () => void): void {
  const w = store.add(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), glob)));
  for (const on of [w.onDidChange, w.onDidCreate, w.onDidDelete]) store.add(on(onEvent));
}

/** `fn` once, `ms` after the first of a burst of `schedule()` calls; disposing drops a pending call. */
export class Coalesced extends Disposable {
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly fn: () => void,
    private readonly ms: number,
  ) {
    super();
    this._register(toDisposable(() => clearTimeout(this.pending)));
  }

  schedule(): void {
    if (this.pending || this.isDisposed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.fn();
    }, this.ms);
  }
}
