// The one lifecycle base of the extension's resource owners (panels, views, watchers, the
// trainer host...), after VS Code's own Disposable (src/vs/base/common/lifecycle.ts): what a
// class starts it registers once, and disposing the class ends all of it, in reverse order,
// exactly once. No `vscode` import, so plain-Node tests load it (and trainerProcess.ts uses it).

/** Anything with a dispose(): VS Code's Disposable, an event subscription, a child owner. */
export interface IDisposable {
  dispose(): void;
}

/** A disposable that runs `fn` (clearing a timer, killing a process) when disposed. */
export function toDisposable(fn: () => void): IDisposable {
  return { dispose: fn };
}

export class Disposable implements IDisposable {
  private readonly owned: IDisposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  /**
   * Owns `d` until this is disposed. Registered after disposal (a late async result), it is
   * disposed at once rather than leaked.
   */
  protected _register<T extends IDisposable>(d: T): T {
    if (this.disposed) disposeSafely(d);
    else this.owned.push(d);
    return d;
  }

  /** Disposes what was registered, last first (later things may depend on earlier ones); idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    while (this.owned.length > 0) disposeSafely(this.owned.pop()!);
  }
}

/** A Disposable to fill from outside: the listeners of one webview view, say, that go with it. */
export class DisposableStore extends Disposable {
  add<T extends IDisposable>(d: T): T {
    return this._register(d);
  }
}

/** One failing dispose must not leave the rest running: log it and go on. */
function disposeSafely(d: IDisposable): void {
  try {
    d.dispose();
  } catch (e) {
    console.error('Transfer Lab: an error while disposing:', e);
  }
}
