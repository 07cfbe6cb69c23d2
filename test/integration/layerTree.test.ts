// The layer tree edits the experiment file as an undoable edit.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { test } from './harness';

const repo = path.resolve(__dirname, '../../..');

test('layer tree: "train from here" edits the experiment file, and undo restores it', async () => {
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'layers.tlexp.json');
  const original = JSON.stringify({ name: 'layers', data: { dir: path.join(repo, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' } }, null, 2);
  fs.writeFileSync(file, original);
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  assert.equal(await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file)), file);
  assert.equal(await vscode.commands.executeCommand('transferLab.layerTree.change', file, { kind: 'trainFrom', layer: 'block_5_dw' }), true);
  const edited = JSON.parse(doc.getText());
  assert.deepEqual(edited.strategy, { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' });
  assert.ok(doc.isDirty, 'an edit in the editor, not a hidden write');
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('undo');
  assert.equal(doc.getText(), original);
}, 120_000);
