// A keyboard-only user, in the High Contrast theme, opens the layer tree beside an experiment
// file, finds a layer by name, presses T ("Train from here") on it, and sees the experiment
// file change (unsaved, undoable) and the tree move its frozen/trainable boundary. (The mouse
// path is in walkthrough.e2e.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

test('Layer tree, keyboard only and high contrast: move the frozen boundary and see the file change', { timeout: 240_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-layers-'));
  const file = path.join(workspace, 'fashion.tlexp.json');
  fs.writeFileSync(
    file,
    `${JSON.stringify({ name: 'fashion', data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' } }, null, 2)}\n`,
  );
  const wb = await openWorkbench({ workspace, settings: { 'workbench.colorTheme': 'Default High Contrast' } });
  try {
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fashion.tlexp.json' }).first().click();
    await wb.page.locator('.editor-instance .view-lines', { hasText: 'feature-extraction' }).first().waitFor({ timeout: 30_000 });
    await wb.runCommand('Transfer Lab: Show Layers');
    const view = wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
    const tree = view.getByRole('tree', { name: 'Layers of the backbone' });
    await tree.waitFor({ timeout: 90_000 });
    assert.match(await view.locator('.summary').innerText(), /Feature extraction: the whole base is frozen/);
    await view.locator('.marker-cut', { hasText: 'head attaches here' }).waitFor();
    await wb.screenshot('layer-tree-feature-extraction');

    // Find the layer by name: the search narrows the tree to it and opens its block. Then
    // Tab into the tree (past Freeze all), arrow down to the layer, and press T.
    const search = view.locator('vscode-textfield.search input');
    await search.focus();
    await wb.page.keyboard.type('block_5_dw');
    await view.locator('.matches', { hasText: 'match' }).waitFor();
    const row = view.locator('li.layer[data-layer="block_5_dw"]');
    await row.locator('mark', { hasText: 'block_5_dw' }).waitFor();
    const focused = () =>
      view.locator(':focus').evaluate((n) => n.getAttribute('data-layer') ?? n.getAttribute('aria-label') ?? n.textContent?.slice(0, 40) ?? n.tagName);
    const path_ = [];
    for (let i = 0; i < 6 && (await focused().catch(() => '')) !== 'block_5_dw'; i++) {
      const inTree = await view.locator('[role=tree] :focus').count();
      await wb.page.keyboard.press(inTree ? 'ArrowDown' : 'Tab');
      path_.push(await focused().catch(() => '?'));
    }
    console.log(`# keyboard path: ${path_.join(' -> ')}`);
    assert.equal(await focused(), 'block_5_dw', 'the layer row has the focus');
    assert.match(await row.getAttribute('aria-label'), /block_5_dw.*frozen/);
    await wb.screenshot('layer-tree-search');
    await wb.page.keyboard.press('t');

    // The file changed in its editor (unsaved), and the tree shows the new boundary.
    const editor = wb.page.locator('.editor-instance .view-lines', { hasText: 'unfreezeFrom' }).first();
    await editor.waitFor({ timeout: 20_000 });
    assert.match(await editor.innerText(), /"unfreezeFrom":\s*"block_5_dw"/);
    assert.match(await editor.innerText(), /"kind":\s*"fine-tune"/);
    await view.locator('.summary', { hasText: 'Fine-tuning from block_5_dw' }).waitFor({ timeout: 20_000 });
    await view.locator('vscode-textfield.search input').fill('');
    await view.locator('.marker-boundary', { hasText: 'trainable from here' }).waitFor();
    assert.equal(await view.locator('li.layer[data-layer="block_5_dw"] .badge').innerText(), 'trainable');
    assert.equal(
      await view
        .locator('li.layer[data-layer="block_4_pw"] .badge')
        .innerText()
        .catch(() => 'frozen'),
      'frozen',
    );
    // The edit went through the editor (undoable); the web workbench auto-saves after a delay
    // (files.autoSave defaults to afterDelay in the browser), desktop VS Code leaves it dirty.
    const tab = wb.page.locator('.tabs-container .tab', { hasText: 'fashion.tlexp.json' }).first();
    const until = Date.now() + 10_000;
    while (!/\bdirty\b/.test((await tab.getAttribute('class')) ?? '') && !/"unfreezeFrom": "block_5_dw"/.test(fs.readFileSync(file, 'utf8'))) {
      assert.ok(Date.now() < until, 'the change is neither in a dirty editor nor on disk');
      await new Promise((r) => setTimeout(r, 200));
    }
    await wb.screenshot('layer-tree-fine-tune');
  } catch (e) {
    await wb.screenshot('layer-tree-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
