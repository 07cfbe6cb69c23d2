// The integration suite (out/test/integration, the same mocha runner and tests as
// npm run test:integration) in desktop VS Code through @vscode/test-electron, for connected
// machines: it downloads VS Code into .vscode-test/ on first use. Offline that download
// fails; there, run npm run test:integration, which runs the same tests in code-server.
//
//   npm run test:desktop                         (builds first)
//   VSCODE_TEST_VERSION=1.100.3 npm run test:desktop   (default: stable)
//   TRANSFER_LAB_TEST_FILTER=environment ...     only matching files / test titles
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const extensionTestsPath = path.join(root, 'out', 'test', 'integration', 'index.js');
if (!fs.existsSync(extensionTestsPath)) {
  console.error(`test:desktop: ${extensionTestsPath} is missing: run npm run build first`);
  process.exit(1);
}
const { runTests } = createRequire(import.meta.url)('@vscode/test-electron');

// The tests expect a workspace folder (they write experiment files and runs into it).
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-desktop-'));
const workspace = path.join(tmp, 'workspace');
fs.mkdirSync(workspace);
let code = 0;
try {
  // Without TRANSFER_LAB_TEST_RESULTS the runner uses mocha's spec reporter, whose output
  // @vscode/test-electron forwards to this terminal; run() rejecting makes runTests fail.
  code = await runTests({
    version: process.env.VSCODE_TEST_VERSION || undefined,
    extensionDevelopmentPath: root,
    extensionTestsPath,
    extensionTestsEnv: {
      CI: process.env.CI ?? '',
      TRANSFER_LAB_TEST_FILTER: process.env.TRANSFER_LAB_TEST_FILTER ?? '',
      TRANSFER_LAB_TEST_WORKSPACE: workspace,
    },
    launchArgs: [workspace, '--disable-workspace-trust', '--disable-extensions', '--user-data-dir', path.join(tmp, 'user-data')],
  });
  console.log(`test:desktop: runTests finished with exit code ${code}`);
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  const offline = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET|getaddrinfo|download/i.test(message);
  console.error(`test:desktop failed: ${message}`);
  if (offline) {
    console.error(
      'Desktop VS Code could not be downloaded (no access to update.code.visualstudio.com).\n' +
        'It must be downloadable, or already cached in .vscode-test/. Offline, run the same tests in code-server:\n' +
        '  npm run setup:test-env && npm run test:integration',
    );
  }
  code = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
