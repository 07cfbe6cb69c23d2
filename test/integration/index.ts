// extensionTestsPath entry: VS Code calls run() inside the extension host once the
// extension under development is loaded (desktop via @vscode/test-electron, or code-server
// via the workbench's `payload`, see runInCodeServer.mjs). Runs every *.test.js bundle next
// to this file with mocha (TDD interface) and reports each result as a JSON line to the
// file named by TRANSFER_LAB_TEST_RESULTS (without it: mocha's spec reporter on the console).
//
//   TRANSFER_LAB_TEST_FILTER  only test files whose name contains it, else tests whose
//                             title contains it (mocha grep)
import * as fs from 'node:fs';
import * as path from 'node:path';
import type MochaType from 'mocha';
import { DEFAULT_TIMEOUT_MS, reporter, setNoteSink, type ResultLine } from './harness';

export async function run(): Promise<void> {
  const resultsFile = process.env.TRANSFER_LAB_TEST_RESULTS || undefined;
  const report = reporter(resultsFile);
  setNoteSink(report);
  try {
    // 'mocha' is external to the bundle: loaded from the repo's node_modules at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded at run time, not bundled
    const Mocha = require('mocha') as typeof MochaType;
    const mocha = new Mocha({ ui: 'tdd', timeout: DEFAULT_TIMEOUT_MS, color: false, reporter: resultsFile ? silentReporter(Mocha) : 'spec' });
    const filter = process.env.TRANSFER_LAB_TEST_FILTER;
    const all = fs
      .readdirSync(__dirname)
      .filter((f) => f.endsWith('.test.js'))
      .sort();
    const byFile = filter ? all.filter((f) => f.includes(filter)) : all;
    const files = byFile.length > 0 ? byFile : all;
    if (filter && byFile.length === 0) mocha.grep(filter);
    for (const f of files) mocha.addFile(path.join(__dirname, f));

    const counts = await new Promise<{ passed: number; failed: number; skipped: number }>((resolve, reject) => {
      let passed = 0;
      let failed = 0;
      let skipped = 0;
      let runner: MochaType.Runner;
      try {
        runner = mocha.run(() => resolve({ passed, failed, skipped }));
      } catch (e) {
        reject(e); // a test file that fails to load throws here
        return;
      }
      const file = (t: MochaType.Runnable) => (t.file ? path.basename(t.file) : '');
      runner.on('start', () => report({ type: 'start', total: runner.total, files }));
      runner.on('pass', (t) => {
        passed++;
        report({ type: 'pass', name: t.fullTitle(), file: file(t), ms: t.duration ?? 0 });
      });
      runner.on('fail', (t, err: unknown) => {
        failed++;
        // Hook failures ("before all" hook ...) are reported as failures too.
        report({ type: 'fail', name: t.fullTitle(), file: file(t), ms: t.duration ?? 0, error: errorText(err) });
      });
      runner.on('pending', (t) => {
        skipped++;
        report({ type: 'skip', name: t.fullTitle(), file: file(t) });
      });
    });
    report({ type: 'end', ...counts });
    if (counts.failed > 0) throw new Error(`${counts.failed} integration test(s) failed`);
    if (counts.passed === 0) throw new Error('no integration test ran');
  } catch (e) {
    if (!(e instanceof Error && /integration test\(s\) failed|no integration test ran/.test(e.message))) {
      report({ type: 'fatal', error: errorText(e) });
    }
    throw e;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** A mocha reporter that prints nothing: results go to the JSON-lines file instead. */
function silentReporter(Mocha: typeof MochaType): typeof MochaType.reporters.Base {
  return class extends Mocha.reporters.Base {};
}

export type { ResultLine };
