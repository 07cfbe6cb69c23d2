// The integration suite in desktop VS Code through @vscode/test-electron, for connected
// machines (it downloads VS Code on first use; offline, use npm run test:integration,
// which runs the same tests in code-server).
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { runTests } = createRequire(import.meta.url)('@vscode/test-electron');

try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'integration', 'index.js'),
    launchArgs: ['--disable-workspace-trust', '--disable-extensions'],
  });
} catch (e) {
  console.error(`test:desktop failed: ${e instanceof Error ? e.message : e}`);
  console.error('Desktop VS Code must be downloadable (or already cached in .vscode-test/); offline, run npm run test:integration.');
  process.exit(1);
}
