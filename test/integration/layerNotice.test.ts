// The Layers panel's notice after a change says whether the file is still unsaved: "unsaved"
// while it is, "saved" once it is (it used to say "unsaved" for a saved file).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LAYER_TREE_PROTOCOL as protocol, type LayerTreeMessage } from '../../src/core/layerTreeMessages';
import { test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
const notice = (file: string) => vscode.commands.executeCommand<string | undefined>('transferLab.layerTree.notice', file);

test('layer tree: the change notice says "unsaved" until the file is saved, then "saved"', async () => {
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'notice.tlexp.json');
  const exp = {
    name: 'notice',
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
  };
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file));
  await waitFor(
    'the layer tree',
    async () => (await vscode.commands.executeCommand<LayerTreeMessage | undefined>('transferLab.layerTree.state', file))?.type === 'state',
    90_000,
  );
  assert.equal(await vscode.commands.executeCommand('transferLab.layerTree.receive', file, { type: 'train-from', protocol, layer: 'block_5_dw' }), 'changed');
  assert.ok(doc.isDirty);
  assert.equal(await notice(file), 'notice.tlexp.json: strategy: fine-tune from block_5_dw (unsaved; Ctrl+Z in the file undoes it).');
  assert.ok(await doc.save());
  const saved = await waitFor('the notice to say saved', async () => ((await notice(file))?.includes('(saved;') ? notice(file) : undefined));
  assert.doesNotMatch(saved ?? '', /unsaved/);
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).strategy.unfreezeFrom, 'block_5_dw');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}, 120_000);
