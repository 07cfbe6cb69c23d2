// npm test: unit (plain Node), integration (inside a real VS Code extension host, via
// code-server) and e2e (the real workbench driven in headless Chromium), in that order.
//   node scripts/run-tests.mjs [unit|integration|e2e ...]     (no argument: all three)
// Stops at the first level that fails (the later ones are reported as not run). Ends with
// exactly one line "N passed, N failed" over all levels (CI reads it); exits non-zero when
// anything failed or a level ran no test.
// Expects `npm run build` (out/test/**, dist/) and `npm run setup:test-env` to have run.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LEVELS = ['unit', 'integration', 'e2e'];
const requested = process.argv.slice(2);
const levels = requested.length ? requested : LEVELS;
for (const l of levels) {
  if (!LEVELS.includes(l)) {
    console.error(`unknown test level '${l}' (${LEVELS.join(', ')})`);
    process.exit(2);
  }
}

/** Files under dir (recursively) whose name ends with suffix, sorted. */
function files(dir, suffix) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort();
}

function spawnEcho(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', (e) => {
      console.error(e.message);
      resolve(1);
    });
  });
}

/** node --test: the spec reporter on the terminal, TAP in a file to count results from. */
async function nodeTest(testFiles) {
  const tap = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-tap-')), 'results.tap');
  const code = await spawnEcho(process.execPath, [
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...testFiles,
  ]);
  const out = fs.existsSync(tap) ? fs.readFileSync(tap, 'utf8') : '';
  fs.rmSync(path.dirname(tap), { recursive: true, force: true });
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo'), code };
}

const run = {
  async unit() {
    const tests = files(path.join(root, 'out/test/unit'), '.test.js');
    if (tests.length === 0) throw new Error('no unit test bundles in out/test/unit: run npm run build');
    return nodeTest(tests);
  },
  async integration() {
    const { runIntegration } = await import('../test/integration/runInCodeServer.mjs');
    const r = await runIntegration();
    return { ...r, code: r.failed ? 1 : 0 };
  },
  async e2e() {
    // The e2e tests install the packaged extension (dist/transfer-lab.vsix), exactly what a
    // user installs. `npm run package` rebuilds dist/ in production mode.
    // TRANSFER_LAB_E2E_FROM_SOURCE=1 loads dist/ as an extension under development instead.
    if (process.env.TRANSFER_LAB_E2E_FROM_SOURCE === '1') {
      console.log('# TRANSFER_LAB_E2E_FROM_SOURCE=1: the extension is loaded from this repo, not from the VSIX');
    } else {
      console.log('# npm run package (dist/transfer-lab.vsix)');
      const code = await spawnEcho('npm', ['run', '--silent', 'package']);
      if (code !== 0) throw new Error(`npm run package failed (exit ${code}); the e2e tests need dist/transfer-lab.vsix`);
    }
    // Screenshots of this run only (a stale *-failure.png would mislead).
    fs.rmSync(path.join(root, 'test-results', 'e2e'), { recursive: true, force: true });
    const tests = files(path.join(root, 'test/e2e'), '.e2e.mjs');
    if (tests.length === 0) throw new Error('no test/e2e/*.e2e.mjs files');
    return nodeTest(tests);
  },
};

const secs = (ms) => `${(ms / 1000).toFixed(0)} s`;
const banner = (text) => console.log(`\n${'='.repeat(8)} ${text} ${'='.repeat(Math.max(8, 72 - text.length))}`);
let passed = 0;
let failed = 0;
const summary = [];
let stopped = false;
const t0 = Date.now();
for (const level of levels) {
  if (stopped) {
    summary.push(`${level}: not run (an earlier level failed)`);
    continue;
  }
  const started = Date.now();
  banner(`${level} tests`);
  let r;
  try {
    r = await run[level]();
  } catch (e) {
    console.error(`[${level}] ${e instanceof Error ? e.message : e}`);
    r = { passed: 0, failed: 1, skipped: 0, code: 1, error: true };
  }
  passed += r.passed;
  failed += r.failed;
  const ran = r.passed + r.failed;
  let verdict = 'ok';
  if (r.error) verdict = 'FAILED (did not complete)';
  else if (ran === 0) verdict = 'FAILED (no test ran)';
  else if (r.failed > 0 || r.code !== 0) verdict = r.failed > 0 ? 'FAILED' : `FAILED (exit code ${r.code})`;
  if (ran === 0 && !r.error) failed += 1; // a level without tests counts as a failure
  const line = `${level}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''} in ${secs(Date.now() - started)} — ${verdict}`;
  banner(line);
  summary.push(line);
  if (verdict !== 'ok') stopped = true;
}
console.log(`\nSummary (${secs(Date.now() - t0)}):\n  ${summary.join('\n  ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(stopped ? 1 : 0);
