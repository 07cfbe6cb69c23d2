// A user opens an experiment file, presses Run in the CodeLens, and watches the dashboard
// beside the file: curves while it trains, then the confusion matrix and wrong images.
// In the Light theme (the layer tree's test uses High Contrast, the others the default Dark).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

test('Run from the CodeLens and watch the dashboard', { timeout: 300_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-dash-'));
  fs.writeFileSync(
    path.join(workspace, 'fashion.tlexp.json'),
    JSON.stringify({ name: 'fashion', data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', warmupEpochs: 5 }, train: { epochs: 20, batchSize: 8, learningRate: 0.003 } }, null, 2),
  );
  const wb = await openWorkbench({ workspace, settings: { 'workbench.colorTheme': 'Default Light Modern' } });
  try {
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fashion.tlexp.json' }).first().click();
    const run = wb.page.locator('.codelens-decoration a', { hasText: 'Run' }).first();
    await run.waitFor({ timeout: 60_000 });
    await wb.screenshot('experiment-codelens');
    await run.click();
    const dashboard = wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
    await dashboard.locator('.status-running').waitFor({ timeout: 60_000 });
    await wb.screenshot('dashboard-live');
    await dashboard.locator('table.confusion').waitFor({ timeout: 180_000 });
    await dashboard.locator('.status-succeeded').waitFor({ timeout: 30_000 });
    const accuracy = await dashboard.locator('.evaluation h2').innerText();
    console.log(`# ${accuracy}`);
    assert.match(accuracy, /Evaluation on the test split: \d+\.\d% accuracy \(250 images\)/);
    // The CodeLens shows the result as soon as the run has finished.
    await wb.page.locator('.codelens-decoration a', { hasText: 'last:' }).first().waitFor({ timeout: 5_000 });
    await wb.screenshot('dashboard-finished');
  } catch (e) {
    await wb.screenshot('dashboard-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
