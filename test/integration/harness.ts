// A small test registry for the extension host: tests register with `test(name, fn)` and
// `run()` (index.ts) executes them in order, streaming one JSON line per result to the file
// named by TRANSFER_LAB_TEST_RESULTS, which the runner outside VS Code reads. The registry
// lives on globalThis because each test file is its own bundle.
import * as fs from 'node:fs';

export interface TestCase {
  name: string;
  file: string;
  fn: () => Promise<void> | void;
  timeoutMs: number;
}

// Shared across bundles: each test file bundles its own copy of this module.
const shared = ((globalThis as { __transferLabHarness?: { tests: TestCase[]; currentFile: string; noteSink?: (line: ResultLine) => void } }).__transferLabHarness ??= {
  tests: [],
  currentFile: '',
});
const registry = shared.tests;

export function test(name: string, fn: TestCase['fn'], timeoutMs = 60_000): void {
  registry.push({ name, fn, timeoutMs, file: shared.currentFile });
}

export function setCurrentFile(file: string): void {
  shared.currentFile = file;
}

export function registeredTests(): TestCase[] {
  return registry;
}

export type ResultLine =
  | { type: 'start'; total: number }
  | { type: 'pass'; name: string; file: string; ms: number }
  | { type: 'fail'; name: string; file: string; ms: number; error: string }
  | { type: 'log'; message: string }
  | { type: 'end'; passed: number; failed: number };

export function reporter(file: string | undefined): (line: ResultLine) => void {
  return (line) => {
    const text = JSON.stringify(line);
    if (file) fs.appendFileSync(file, `${text}\n`);
    else console.log(text);
  };
}

export function setNoteSink(sink: (line: ResultLine) => void): void {
  shared.noteSink = sink;
}

/** A line for the test output outside VS Code (the extension host's console is not shown there). */
export function note(message: string): void {
  shared.noteSink?.({ type: 'log', message });
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
