// extensionTestsPath entry: VS Code calls run() inside the extension host once the
// extension under development is loaded. Loads every *.test.js bundle next to this file,
// runs the registered tests one by one and reports each result.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registeredTests, reporter, setCurrentFile, setNoteSink } from './harness';

export async function run(): Promise<void> {
  const report = reporter(process.env.TRANSFER_LAB_TEST_RESULTS);
  setNoteSink(report);
  const filter = process.env.TRANSFER_LAB_TEST_FILTER;
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    setCurrentFile(file);
    require(path.join(__dirname, file));
  }
  const tests = registeredTests().filter((t) => !filter || t.name.includes(filter) || t.file.includes(filter));
  report({ type: 'start', total: tests.length });
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const started = Date.now();
    try {
      await Promise.race([
        Promise.resolve().then(t.fn),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs)),
      ]);
      passed++;
      report({ type: 'pass', name: t.name, file: t.file, ms: Date.now() - started });
    } catch (e) {
      failed++;
      report({ type: 'fail', name: t.name, file: t.file, ms: Date.now() - started, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    }
  }
  report({ type: 'end', passed, failed });
  if (failed > 0) throw new Error(`${failed} integration test(s) failed`);
}
