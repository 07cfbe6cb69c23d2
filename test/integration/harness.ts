// Helpers for the integration tests that run inside the VS Code extension host.
//
// The runner is mocha (TDD interface), started by index.ts. Test files register with
// `test(name, fn, timeoutMs?)` from here (or mocha's own `suite`/`test`/`setup`/... via the
// re-exports below); index.ts streams one JSON line per result to the file named by
// TRANSFER_LAB_TEST_RESULTS, which the runner outside VS Code (runInCodeServer.mjs) reads.
// Each test file is its own bundle with its own copy of this module, so shared state lives
// on globalThis.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LayerTreeMessage, LayerTreeState } from '../../src/core/layerTreeMessages';
import type { TransferLabApi } from '../../src/extension/extension';

export const DEFAULT_TIMEOUT_MS = 60_000;

export type ResultLine =
  | { type: 'start'; total: number; files: string[] }
  | { type: 'pass'; name: string; file: string; ms: number }
  | { type: 'fail'; name: string; file: string; ms: number; error: string }
  | { type: 'skip'; name: string; file: string }
  | { type: 'log'; message: string }
  | { type: 'fatal'; error: string }
  | { type: 'end'; passed: number; failed: number; skipped: number };

type Fn = () => Promise<void> | void;
type HookFn = (name: string | Fn, fn?: Fn) => void;
interface MochaTestLike {
  timeout(ms: number): unknown;
}
interface MochaTdd {
  test: ((name: string, fn: (this: unknown) => Promise<void>) => MochaTestLike) & {
    only: (name: string, fn: (this: unknown) => Promise<void>) => MochaTestLike;
    skip: (name: string, fn?: unknown) => unknown;
  };
  suite: (name: string, fn: () => void) => unknown;
  setup: HookFn;
  teardown: HookFn;
  suiteSetup: HookFn;
  suiteTeardown: HookFn;
}

const shared = ((globalThis as { __transferLabHarness?: { noteSink?: (line: ResultLine) => void } }).__transferLabHarness ??= {});

function tdd(): MochaTdd {
  const g = globalThis as unknown as Partial<MochaTdd>;
  if (typeof g.test !== 'function' || typeof g.suite !== 'function') {
    throw new Error('integration tests must be loaded by mocha (test/integration/index.ts, ui "tdd"), not required directly');
  }
  return g as MochaTdd;
}

function wrap(fn: Fn): (this: unknown) => Promise<void> {
  // A plain async wrapper: mocha treats a function with a parameter as callback-style.
  return async function () {
    await fn();
  };
}

/** Registers a test (mocha `test`) with its own timeout (default 60 s). */
export function test(name: string, fn: Fn, timeoutMs = DEFAULT_TIMEOUT_MS): void {
  tdd().test(name, wrap(fn)).timeout(timeoutMs);
}
/** Runs only this test (and other `.only` ones) while debugging; never commit it. */
test.only = (name: string, fn: Fn, timeoutMs = DEFAULT_TIMEOUT_MS): void => {
  tdd().test.only(name, wrap(fn)).timeout(timeoutMs);
};
/** A test that is listed as skipped. */
test.skip = (name: string, _fn?: Fn): void => {
  tdd().test.skip(name);
};

/** Groups tests; test names are reported as "<suite> <test>". */
export function suite(name: string, fn: () => void): void {
  tdd().suite(name, fn);
}
export const setup = (fn: Fn): void => tdd().setup(wrap(fn));
export const teardown = (fn: Fn): void => tdd().teardown(wrap(fn));
export const suiteSetup = (fn: Fn): void => tdd().suiteSetup(wrap(fn));
export const suiteTeardown = (fn: Fn): void => tdd().suiteTeardown(wrap(fn));

/** Writes result lines to `file` (one JSON object per line), or to the console without one. */
export function reporter(file: string | undefined): (line: ResultLine) => void {
  return (line) => {
    const text = JSON.stringify(line);
    if (file) fs.appendFileSync(file, `${text}\n`);
    else if (line.type === 'log') console.log(`# ${line.message}`);
  };
}

export function setNoteSink(sink: (line: ResultLine) => void): void {
  shared.noteSink = sink;
}

/** A line for the test output outside VS Code (the extension host's console is not shown there). */
export function note(message: string): void {
  if (shared.noteSink) shared.noteSink({ type: 'log', message });
  else console.log(`# ${message}`);
}

/** Polls until `check` returns a truthy value or the timeout passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The repository: every test file is bundled to out/test/integration/. */
export const repo = path.resolve(__dirname, '../../..');
/** The folder VS Code opened for the tests (a fresh one per run). */
export const workspace = (): string => vscode.workspace.workspaceFolders![0].uri.fsPath;

/** The extension's API, activating it first. */
export async function api(): Promise<TransferLabApi> {
  return vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
}

/** What the Layers panel of `file` last posted (undefined while none is open). */
export const layerTreeState = (file: string) => vscode.commands.executeCommand<LayerTreeMessage | undefined>('transferLab.layerTree.state', file);
/** Hands `raw` to the Layers panel's inbox as if its webview sent it; says what the host made of it. */
export const layerTreeReceive = (file: string, raw: unknown) => vscode.commands.executeCommand<string>('transferLab.layerTree.receive', file, raw);

/** Waits until the Layers panel shows a tree for which `check` holds; an error shown there fails at once (no wait for the timeout). */
export async function layerTreeShown(file: string, what: string, check: (s: LayerTreeState) => boolean, timeoutMs = 20_000): Promise<LayerTreeState> {
  return waitFor(
    what,
    async () => {
      const m = await layerTreeState(file);
      if (m?.type === 'error') throw new Error(`the panel shows an error: ${m.message}`);
      return m?.type === 'state' && check(m) ? m : undefined;
    },
    timeoutMs,
  );
}
