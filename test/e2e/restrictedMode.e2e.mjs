// A workspace the user has not trusted (Restricted Mode): Transfer Lab shows its experiments
// but does not train, load models or predict, and says why and how to change it. Nothing is
// written to the workspace and no trainer is started for a run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

test('Restricted Mode: no training, no model loading, and the reason is shown', { timeout: 180_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-untrusted-'));
  const file = path.join(workspace, 'fashion.tlexp.json');
  fs.writeFileSync(
    file,
    `${JSON.stringify({ name: 'fashion', data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' } }, null, 2)}\n`,
  );
  const before = fs.readdirSync(workspace);
  const wb = await openWorkbench({ workspace, untrusted: true });
  const { page } = wb;
  try {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fashion.tlexp.json' }).first().click();
    // The CodeLens says why instead of offering Run.
    const lens = page.locator('.codelens-decoration a', { hasText: 'Training disabled in Restricted Mode' }).first();
    await lens.waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('.codelens-decoration a', { hasText: /^\s*Run\s*$/ }).count(), 0, 'no Run lens');

    // Run Experiment is not offered in the palette (its `when` needs a trusted workspace).
    await page.keyboard.press('F1');
    await page.locator('.quick-input-widget input').fill('>Transfer Lab: Run Experiment');
    await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 10_000 });
    const offered = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts();
    assert.ok(!offered.some((t) => /^Transfer Lab: Run Experiment/.test(t.trim())), offered.join(' | '));
    await page.keyboard.press('Escape');

    // Layers needs the model loaded: the panel opens and says why it cannot.
    await page.locator('.codelens-decoration a', { hasText: 'Layers' }).first().click();
    const layers = page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
    const why = layers.getByText('disabled in Restricted Mode').first();
    await why.waitFor({ timeout: 30_000 });
    console.log(`# layers: ${(await why.innerText()).replace(/\s+/g, ' ')}`);
    await wb.screenshot('restricted-mode');

    // The lens leads to the trust editor, where the user can change it.
    await page.locator('.tab', { hasText: 'fashion.tlexp.json' }).first().click();
    await lens.click();
    await page.locator('.workspace-trust-editor').first().waitFor({ timeout: 20_000 });
    await wb.screenshot('restricted-mode-trust');
    // Nothing was written into the workspace (no .transferlab/ run folder, no cache).
    assert.deepEqual(fs.readdirSync(workspace), before);
  } catch (e) {
    await wb.screenshot('restricted-mode-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
