// F5 from a fresh clone, as far as code-server allows: a contributor clones the repo, runs
// npm install, opens the folder and presses F5. F5 runs launch.json's preLaunchTask first;
// this test runs that same task from the workbench ("Tasks: Run Task", then its label) in a
// clone with no dist/, and checks the bundle package.json#main names appears. code-server
// cannot start an extensionHost debug session itself, so the launch stops there; the
// integration suite loads the extension from such a build (extensionDevelopmentPath).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

/** launch.json allows comments (JSONC): strip whole-line // comments, which is all it has. */
function readJsonc(file) {
  return JSON.parse(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => !line.trim().startsWith('//'))
      .join('\n'),
  );
}

test('the launch config build task builds a fresh clone from the workbench', { timeout: 300_000 }, async () => {
  const clone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-f5-')), 'transfer-lab');
  execFileSync('git', ['clone', '--quiet', repoRoot, clone]);
  // The uncommitted state of .vscode is what is under test while iterating; in CI they agree.
  fs.cpSync(path.join(repoRoot, '.vscode'), path.join(clone, '.vscode'), { recursive: true });
  // "after npm install": the same packages, linked rather than installed again.
  fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(clone, 'node_modules'));
  const launch = readJsonc(path.join(clone, '.vscode', 'launch.json'));
  const taskLabel = launch.configurations[0].preLaunchTask;
  assert.ok(taskLabel, 'the launch configuration names a preLaunchTask');
  const main = path.join(clone, JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8')).main);
  assert.equal(fs.existsSync(main), false, 'a fresh clone has no build yet');

  const wb = await openWorkbench({ workspace: clone });
  try {
    // The task list is fetched (npm scripts detected) before it is shown, and on a busy machine the
    // picker can close before it fills: open it again until the task's row is there.
    const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: taskLabel }).first();
    await until(
      `the "${taskLabel}" task in Tasks: Run Task`,
      async () => {
        await wb.runCommand('Tasks: Run Task');
        return row.waitFor({ timeout: 20_000 }).then(
          () => true,
          () => wb.page.keyboard.press('Escape').then(() => false),
        );
      },
      120_000,
    );
    await row.click();
    await until(`${path.relative(clone, main)} built by the "${taskLabel}" task`, () => fs.existsSync(main) && fs.statSync(main).size > 0, 120_000);
    // The task's terminal shows the build's own output, as F5's pre-launch step would.
    const terminal = wb.page.locator('.part.panel .terminal-wrapper');
    await terminal.first().waitFor({ timeout: 30_000 });
    await wb.screenshot('f5-build-task');
    const trainer = path.join(clone, 'dist', 'trainer.js');
    assert.ok(fs.existsSync(trainer), 'the trainer bundle is built too');
    // F5 itself: code-server has no extensionHost debugger; record what it says (not asserted).
    await wb.page.keyboard.press('F5');
    await wb.page.waitForTimeout(5_000);
    const said = await wb.page.locator('.notification-list-item-message').allInnerTexts();
    console.log(`# F5 in code-server: ${said.join(' | ') || '(no notification)'}`);
    await wb.screenshot('f5-launch');
    console.log(`# "${taskLabel}" task built ${path.relative(clone, main)} (${fs.statSync(main).size} bytes) and dist/trainer.js`);
  } catch (e) {
    await wb.screenshot('f5-build-task-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
    fs.rmSync(path.dirname(clone), { recursive: true, force: true });
  }
});
