// npm test: unit (plain Node), integration (inside a real VS Code extension host, via
// code-server) and e2e (the real workbench driven in headless Chromium), in that order.
//   node scripts/run-tests.mjs [unit|integration|e2e ...]
// Ends with one line "N passed, N failed" over all levels; exits non-zero when anything
// failed or a level ran no test.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const requested = process.argv.slice(2);
const levels = requested.length ? requested : ['unit', 'integration', 'e2e'];
for (const l of levels) if (!['unit', 'integration', 'e2e'].includes(l)) throw new Error(`unknown test level '${l}' (unit, integration, e2e)`);

/** Runs a command, echoing its output, and reads node:test's TAP summary from it. */
function runTap(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('exit', (code) => {
      const count = (name) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
      resolve({ passed: count('pass'), failed: count('fail') + count('cancelled'), code });
    });
  });
}

const files = (dir, suffix) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dir, f)) : []);

const run = {
  async unit() {
    const tests = files(path.join(root, 'out/test/unit'), '.test.js');
    if (tests.length === 0) throw new Error('no unit test bundles in out/test/unit: run npm run build');
    return runTap(['--test', '--test-concurrency=1', ...tests]);
  },
  async integration() {
    const { runIntegration } = await import('../test/integration/runInCodeServer.mjs');
    const r = await runIntegration();
    return { ...r, code: r.failed ? 1 : 0 };
  },
  async e2e() {
    // The e2e tests install the packaged extension, exactly what a user installs.
    const pack = spawnSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (pack.status !== 0) throw new Error('npm run package failed');
    return runTap(['--test', '--test-concurrency=1', ...files(path.join(root, 'test/e2e'), '.e2e.mjs')]);
  },
};

let passed = 0;
let failed = 0;
const problems = [];
for (const level of levels) {
  const started = Date.now();
  console.log(`\n======== ${level} tests ========`);
  let r;
  try {
    r = await run[level]();
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    r = { passed: 0, failed: 1, code: 1 };
  }
  passed += r.passed;
  failed += r.failed;
  console.log(`======== ${level}: ${r.passed} passed, ${r.failed} failed in ${((Date.now() - started) / 1000).toFixed(0)} s ========`);
  if (r.passed + r.failed === 0) problems.push(`${level}: no test ran`);
  else if (r.failed > 0 || r.code !== 0) problems.push(`${level}: failures`);
}
if (problems.length) console.log(`\nProblems: ${problems.join('; ')}`);
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(problems.length ? 1 : 0);
