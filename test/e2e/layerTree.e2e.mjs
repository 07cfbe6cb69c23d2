// A user opens the layer tree beside an experiment file, finds a layer by name, clicks
// "Train from here", and sees the experiment file change (unsaved, undoable) and the tree
// move its frozen/trainable boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

test('Layer tree: move the frozen boundary and see the file change', { timeout: 240_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-layers-'));
  const file = path.join(workspace, 'fashion.tlexp.json');
  fs.writeFileSync(file, `${JSON.stringify({ name: 'fashion', data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' } }, null, 2)}\n`);
  const wb = await openWorkbench({ workspace });
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

    // Find the layer by name: the search narrows the tree to it and opens its block.
    await view.locator('vscode-textfield.search input').fill('block_5_dw');
    await view.locator('.matches', { hasText: 'match' }).waitFor();
    const row = view.locator('li.layer[data-layer="block_5_dw"]');
    await row.locator('mark', { hasText: 'block_5_dw' }).waitFor();
    await row.locator('.row').hover();
    await wb.screenshot('layer-tree-search');
    await row.getByRole('button', { name: 'Train from here' }).click();

    // The file changed in its editor (unsaved), and the tree shows the new boundary.
    const editor = wb.page.locator('.editor-instance .view-lines', { hasText: 'unfreezeFrom' }).first();
    await editor.waitFor({ timeout: 20_000 });
    assert.match(await editor.innerText(), /"unfreezeFrom":\s*"block_5_dw"/);
    assert.match(await editor.innerText(), /"kind":\s*"fine-tune"/);
    await view.locator('.summary', { hasText: 'Fine-tuning from block_5_dw' }).waitFor({ timeout: 20_000 });
    await view.locator('vscode-textfield.search input').fill('');
    await view.locator('.marker-boundary', { hasText: 'trainable from here' }).waitFor();
    assert.equal(await view.locator('li.layer[data-layer="block_5_dw"] .badge').innerText(), 'trainable');
    assert.equal(await view.locator('li.layer[data-layer="block_4_pw"] .badge').innerText().catch(() => 'frozen'), 'frozen');
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
