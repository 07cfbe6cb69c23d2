// Runs the integration tests inside a real VS Code extension host (code-server): starts
// code-server with this repo as the extension under development and out/test/integration
// as the tests, opens the workbench in headless Chromium (which is what starts the
// extension host), and streams the results the in-host runner writes to a file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { launchBrowser, repoRoot, startCodeServer } from '../support/testEnv.mjs';

const TIMEOUT_MS = Number(process.env.TRANSFER_LAB_INTEGRATION_TIMEOUT_MS ?? 15 * 60_000);

export async function runIntegration() {
  const testsPath = path.join(repoRoot, 'out', 'test', 'integration', 'index.js');
  if (!fs.existsSync(testsPath)) throw new Error(`${testsPath} is missing: run npm run build first`);
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-workspace-'));
  const results = path.join(workspace, '..', `${path.basename(workspace)}-results.jsonl`);
  fs.writeFileSync(results, '');
  const server = await startCodeServer({
    workspace,
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath: testsPath,
    env: { TRANSFER_LAB_TEST_RESULTS: results, TRANSFER_LAB_TEST_WORKSPACE: workspace, CI: process.env.CI ?? '' },
  });
  const browser = await launchBrowser();
  let passed = 0;
  let failed = 0;
  let total;
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.url);
    let offset = 0;
    const until = Date.now() + TIMEOUT_MS;
    let ended = false;
    while (!ended) {
      if (Date.now() > until) throw new Error(`integration tests did not finish within ${TIMEOUT_MS / 1000} s (log: ${server.logFile})`);
      await new Promise((r) => setTimeout(r, 250));
      const text = fs.readFileSync(results, 'utf8');
      const lines = text.slice(offset).split('\n');
      const complete = lines.slice(0, -1);
      offset += complete.reduce((n, l) => n + l.length + 1, 0);
      for (const line of complete) {
        if (!line.trim()) continue;
        const r = JSON.parse(line);
        if (r.type === 'start') {
          total = r.total;
          console.log(`# integration: ${total} test(s) in the VS Code ${'extension host'} (code-server)`);
        } else if (r.type === 'pass') {
          passed++;
          console.log(`ok ${passed + failed} - ${r.name} (${r.ms} ms)`);
        } else if (r.type === 'fail') {
          failed++;
          console.log(`not ok ${passed + failed} - ${r.name} (${r.ms} ms)\n  ${r.error.split('\n').join('\n  ')}`);
        } else if (r.type === 'log') {
          console.log(`# ${r.message}`);
        } else if (r.type === 'end') ended = true;
      }
    }
    if (!total) throw new Error('no integration test ran');
  } catch (e) {
    const tail = fs.existsSync(server.logFile) ? fs.readFileSync(server.logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    console.log(`# code-server log tail:\n${tail}`);
    throw e;
  } finally {
    await browser.close().catch(() => {});
    await server.close();
  }
  return { passed, failed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runIntegration().then(
    ({ passed, failed }) => {
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
