// Runs the integration tests inside a real VS Code extension host (code-server): starts
// code-server with this repo as the extension under development and out/test/integration
// as the tests, opens the workbench in headless Chromium (code-server only starts an
// extension host when a workbench connects), and streams the results the in-host mocha
// runner (index.ts) writes as JSON lines to the file named by TRANSFER_LAB_TEST_RESULTS.
//
//   node test/integration/runInCodeServer.mjs        (or: node scripts/run-tests.mjs integration)
//   TRANSFER_LAB_TEST_FILTER=dashboard               only matching files / test titles
//   TRANSFER_LAB_INTEGRATION_TIMEOUT_MS              whole run (default 15 min)
//   TRANSFER_LAB_INTEGRATION_START_TIMEOUT_MS        until the first result line (default 3 min)
//   TRANSFER_LAB_KEEP_TMP=1                          keep user-data dir and code-server log
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchBrowser, repoRoot, startCodeServer } from '../support/testEnv.mjs';

const TIMEOUT_MS = Number(process.env.TRANSFER_LAB_INTEGRATION_TIMEOUT_MS ?? 15 * 60_000);
const START_TIMEOUT_MS = Number(process.env.TRANSFER_LAB_INTEGRATION_START_TIMEOUT_MS ?? 3 * 60_000);
const EXTENSION_ID = 'transfer-lab.transfer-lab';

const indent = (text) => `  ${String(text).split('\n').join('\n  ')}`;

/** The built tests and the extension's main, or an error saying to build first. */
function builtTestsPath() {
  const testsPath = path.join(repoRoot, 'out', 'test', 'integration', 'index.js');
  if (!fs.existsSync(testsPath)) throw new Error(`${testsPath} is missing: run npm run build first`);
  const main = path.join(repoRoot, JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).main ?? 'dist/extension.js');
  if (!fs.existsSync(main)) throw new Error(`${main} (the extension's main) is missing: run npm run build first`);
  return testsPath;
}

/** Opens the workbench (so code-server starts an extension host), collecting its errors into browserErrors. */
async function openWorkbench(browser, server, browserErrors) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => browserErrors.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => browserErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) browserErrors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error') browserErrors.push(`console: ${m.text()}`);
  });
  await page.goto(server.url);
}

/** Counts and prints one result line of the in-host runner; true on its 'end' line. */
function onResult(r, counts, started) {
  if (r.type === 'start') {
    counts.total = r.total;
    console.log(
      `# integration: ${counts.total} test(s) from ${r.files.length} file(s) in the VS Code extension host (code-server), started after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } else if (r.type === 'pass') {
    counts.passed++;
    console.log(`ok ${counts.passed + counts.failed} - ${r.name} (${r.ms} ms)`);
  } else if (r.type === 'fail') {
    counts.failed++;
    console.log(`not ok ${counts.passed + counts.failed} - ${r.name} [${r.file}] (${r.ms} ms)\n${indent(r.error)}`);
  } else if (r.type === 'skip') {
    counts.skipped++;
    console.log(`# skipped: ${r.name}`);
  } else if (r.type === 'log') {
    console.log(`# ${r.message}`);
  } else if (r.type === 'fatal') {
    throw new Error(`the test runner in the extension host failed:\n${indent(r.error)}`);
  } else if (r.type === 'end') return true;
  return false;
}

/** Follows the results file until the 'end' line, failing early when the host or code-server is gone. */
async function followResults(server, results, started, counts) {
  let offset = 0;
  let ended = false;
  let exitSeenAt;
  while (!ended) {
    const elapsed = Date.now() - started;
    if (counts.total === undefined && elapsed > START_TIMEOUT_MS) {
      throw new Error(
        `the extension host did not start the tests within ${START_TIMEOUT_MS / 1000} s (is ${EXTENSION_ID} loadable? does out/test/integration/index.js export run()?)`,
      );
    }
    if (elapsed > TIMEOUT_MS) throw new Error(`integration tests did not finish within ${TIMEOUT_MS / 1000} s`);
    if (!server.running) throw new Error('code-server exited while the tests ran');
    // After run() settles VS Code ends the extension host; if that happens before the
    // 'end' line, the runner died (e.g. index.js failed to load): fail now, not at the timeout.
    const hostExited = /Extension Host Process exited/.test(fs.readFileSync(server.logFile, 'utf8'));
    if (hostExited && exitSeenAt === undefined) exitSeenAt = Date.now();
    if (exitSeenAt !== undefined && Date.now() - exitSeenAt > 2_000) {
      throw new Error('the extension host exited before the tests finished (see the errors below)');
    }
    await new Promise((r) => setTimeout(r, 250));
    const text = fs.readFileSync(results, 'utf8');
    const end = text.lastIndexOf('\n') + 1;
    if (end <= offset) continue;
    const lines = text.slice(offset, end).split('\n');
    offset = end;
    for (const line of lines) {
      if (!line.trim()) continue;
      if (onResult(JSON.parse(line), counts, started)) ended = true;
    }
  }
}

export async function runIntegration() {
  const testsPath = builtTestsPath();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-integration-'));
  const workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(workspace);
  const results = path.join(tmp, 'results.jsonl');
  fs.writeFileSync(results, '');
  const started = Date.now();
  const server = await startCodeServer({
    workspace,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: testsPath,
    // code-server passes its environment on to the extension host it starts.
    env: {
      TRANSFER_LAB_TEST_RESULTS: results,
      TRANSFER_LAB_TEST_WORKSPACE: workspace,
      TRANSFER_LAB_TEST_FILTER: process.env.TRANSFER_LAB_TEST_FILTER ?? '',
      CI: process.env.CI ?? '',
    },
  });
  let browser;
  const counts = { passed: 0, failed: 0, skipped: 0, total: undefined };
  const browserErrors = [];
  try {
    browser = await launchBrowser();
    await openWorkbench(browser, server, browserErrors);
    await followResults(server, results, started, counts);
    if (!counts.total) throw new Error('no integration test ran');
    // A failed test may have its cause in the browser (a webview that threw): show it.
    if (counts.failed && browserErrors.length) console.log(`# workbench errors (last 15):\n${indent(browserErrors.slice(-15).join('\n'))}`);
  } catch (e) {
    const tail = fs.existsSync(server.logFile) ? fs.readFileSync(server.logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    console.log(`# code-server log tail:\n${indent(tail)}`);
    if (browserErrors.length) console.log(`# workbench errors (last 15):\n${indent(browserErrors.slice(-15).join('\n'))}`);
    throw e;
  } finally {
    await browser?.close().catch(() => {});
    await server.close();
    if (process.env.TRANSFER_LAB_KEEP_TMP === '1') console.log(`# kept ${tmp} (workspace, results.jsonl)`);
    else fs.rmSync(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
  const { passed, failed, skipped } = counts;
  return { passed, failed, skipped };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runIntegration().then(
    ({ passed, failed }) => {
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed || !passed ? 1 : 0);
    },
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      console.log('0 passed, 1 failed');
      process.exit(1);
    },
  );
}
