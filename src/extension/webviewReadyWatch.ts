// A webview whose page never starts stays blank for good: in code-server a panel
// sometimes loses its script request (net::ERR_ABORTED in the workbench log) and shows
// nothing, with no error anywhere. Every Transfer Lab page posts `{ type: 'ready' }` as soon
// as its script runs, so a page that has not said it after being on screen for a while is
// loaded again, a few times at most. Only 'ready' counts: after new options reload a page,
// a late message of the page being replaced (Predictions' 'rendered') must not end the watch.
// No `vscode` import: plain-Node tests drive it.
import type { IDisposable } from './disposable';

/** What the watch needs of a webview: its messages. */
export interface WatchedWebview {
  onDidReceiveMessage(listener: (message: unknown) => void): IDisposable;
}

export interface ReadyWatchOptions {
  /** Whether the page is on screen: a hidden page does not load, so its time does not count. */
  shown: () => boolean;
  /** Loads the page again (a fresh nonce, so the webview reloads). */
  reload: () => void;
  /** Whether the page's owner is gone (then the watch stops). */
  gone: () => boolean;
  /** Says that a page was reloaded, and why (the output channel). */
  log?: (line: string) => void;
  /** Shown this long without a message: reload. */
  silentMs?: number;
  /** Reloads at most this many times. */
  maxReloads?: number;
  /** How often the watch looks. */
  tickMs?: number;
  /** Calls `fn` every `ms` until disposed (tests pass their own clock). */
  every?: (fn: () => void, ms: number) => IDisposable;
}

const everyInterval = (fn: () => void, ms: number): IDisposable => {
  const timer = setInterval(fn, ms);
  return { dispose: () => clearInterval(timer) };
};

const READY_SILENT_MS = 10_000;

/** The watch of one page: `rearm` after anything that reloads it (new options do). */
export interface ReadyWatch extends IDisposable {
  rearm(): void;
}

/** The message every page posts when its script starts. */
const isReady = (message: unknown): boolean => typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';

/** Watches `webview` from the moment its HTML was set; rests at its 'ready', ends when its owner is gone, or after the last reload. */
export function watchWebviewReady(webview: WatchedWebview, name: string, options: ReadyWatchOptions): ReadyWatch {
  const silentMs = options.silentMs ?? READY_SILENT_MS;
  const maxReloads = options.maxReloads ?? 2;
  const tickMs = options.tickMs ?? 500;
  let shownFor = 0;
  let reloads = 0;
  let armed: IDisposable[] = [];
  const rest = () => {
    for (const d of armed) d.dispose();
    armed = [];
  };
  const arm = () => {
    rest();
    shownFor = 0;
    reloads = 0;
    const listener = webview.onDidReceiveMessage((message) => {
      if (isReady(message)) rest();
    });
    const ticks = (options.every ?? everyInterval)(() => {
      if (options.gone()) return rest();
      if (!options.shown()) return;
      shownFor += tickMs;
      if (shownFor < silentMs) return;
      reloads++;
      shownFor = 0;
      options.log?.(`${name}: the page said nothing in ${Math.round(silentMs / 1000)} s on screen; loading it again (${reloads} of ${maxReloads}).`);
      options.reload();
      if (reloads >= maxReloads) rest();
    }, tickMs);
    armed = [listener, ticks];
  };
  arm();
  return { rearm: () => !options.gone() && arm(), dispose: rest };
}
