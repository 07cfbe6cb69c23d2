// A user installs the VSIX, opens the command palette, runs Transfer Lab: Show Environment
// and sees which backend trains: in a notification and in the Transfer Lab output channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';

test('Show Environment from the command palette reports the backend', { timeout: 240_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-env-'));
  const wb = await openWorkbench({ workspace });
  try {
    await wb.runCommand('Transfer Lab: Show Environment');
    const toast = wb.page.locator('.notification-toast', { hasText: 'Transfer Lab: backend' });
    await toast.waitFor({ timeout: 120_000 });
    const text = await toast.locator('.notification-list-item-message').first().innerText();
    const backend = /backend (tensorflow|wasm|cpu)\b/.exec(text)?.[1];
    console.log(`# notification: ${text}`);
    assert.ok(backend, `a backend name in: ${text}`);
    // CI builds the native backend (npm run setup:native): anything else is a regression.
    if (process.env.CI === 'true') assert.equal(backend, 'tensorflow', `CI requires the native backend: ${text}`);
    await wb.screenshot('show-environment');

    // The sidebar: the Transfer Lab container with its Dashboard view shows the same backend.
    await wb.page.locator('.activitybar .action-item a[aria-label^="Transfer Lab"]').first().click();
    const dashboard = wb.page.frameLocator('iframe.webview').first().frameLocator('iframe#active-frame');
    await dashboard.locator('dd.backend').waitFor({ timeout: 30_000 });
    assert.equal(await dashboard.locator('dd.backend').innerText(), backend);
    await wb.screenshot('dashboard-view');

    // The notification's button opens the output channel with the full report.
    await toast.getByRole('button', { name: 'Show Output' }).click();
    const output = wb.page.locator('.part.panel .monaco-editor .view-lines');
    await output.filter({ hasText: 'Backend:' }).first().waitFor({ timeout: 20_000 });
    // The Output view's channel picker has "Transfer Lab" selected.
    const channels = await wb.page.locator('.part.panel select').evaluateAll((selects) => selects.map((s) => s.options[s.selectedIndex]?.text));
    assert.ok(channels.includes('Transfer Lab'), `the Output view shows the Transfer Lab channel (selected: ${JSON.stringify(channels)})`);
    const report = await output.first().innerText();
    assert.match(report, new RegExp(`Backend:\\s+${backend}`));
    assert.match(report, /TensorFlow\.js:\s+4\.\d+\.\d+/);
    assert.match(report, /Threads:\s+\d+/);
    await wb.screenshot('show-environment-output');
  } catch (e) {
    await wb.screenshot('show-environment-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
