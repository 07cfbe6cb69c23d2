// A user opens the layer tree from the CodeLens, clicks "Train from here" on a layer, and
// the experiment file changes.
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
  fs.writeFileSync(file, JSON.stringify({ name: 'fashion', data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' } }, null, 2));
  const wb = await openWorkbench({ workspace });
  try {
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'fashion.tlexp.json' }).first().click();
    const lens = wb.page.locator('.codelens-decoration a', { hasText: 'Layers' }).first();
    await lens.waitFor({ timeout: 60_000 });
    await lens.click();
    const view = wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
    await view.locator('.group-head', { hasText: 'block_5' }).click();
    const row = view.locator('li.layer[data-layer="block_5_dw"]');
    await row.hover();
    await wb.screenshot('layer-tree-before');
    await row.getByRole('button', { name: /Fine-tune from block_5_dw/ }).click();
    await view.locator('.summary', { hasText: 'fine-tune from block_5_dw' }).waitFor({ timeout: 20_000 });
    const editor = wb.page.locator('.editor-instance .view-lines').first();
    await editor.filter({ hasText: 'unfreezeFrom' }).waitFor({ timeout: 10_000 });
    assert.match(await editor.innerText(), /"unfreezeFrom":\s*"block_5_dw"/);
    await wb.screenshot('layer-tree-after');
  } catch (e) {
    await wb.screenshot('layer-tree-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
