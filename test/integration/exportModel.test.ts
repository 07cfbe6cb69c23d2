// Export Model into a folder that does not exist yet, named in its prompt (an open dialog
// would demand an existing one), with a README whose resize is preprocessing.json's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { ExportOutcome } from '../../src/extension/commands/exportModel';
import { test, waitFor } from './harness';
import { succeededRun } from './runFixtures';
import { pixelTransform } from '../../src/core/preprocessing';
import { preprocessingFile } from '../../src/core/preprocessingFile';

const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

/** A succeeded run with a model folder (the files Export copies; no training needed to copy them). */
function runWithModel(name: string): string {
  return succeededRun(name, (dir) => {
    const model = path.join(dir, 'model');
    fs.mkdirSync(model);
    fs.writeFileSync(path.join(model, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: {}, weightsManifest: [] }));
    fs.writeFileSync(path.join(model, 'weights.bin'), Buffer.alloc(16));
    fs.writeFileSync(path.join(model, 'labels.json'), JSON.stringify(['a', 'b']));
    const pre = preprocessingFile(pixelTransform('torch'), 'pad-to-aspect-ratio', [96, 128]);
    fs.writeFileSync(path.join(model, 'preprocessing.json'), JSON.stringify(pre, null, 2));
  });
}

test('Export Model: the prompt takes a folder that does not exist, creates it, and the README states preprocessing.json’s resize', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const run = runWithModel('export-new');
  await tl.runIndex.refresh();
  const expected = path.join(ws(), 'export-new-model');
  assert.ok(!fs.existsSync(expected));
  // The format pick opens first, TensorFlow.js layers first: accept it. Then the folder prompt
  // opens with <workspace>/<experiment>-model, a folder that does not exist: accept it.
  const done = Promise.resolve(vscode.commands.executeCommand<ExportOutcome | undefined>('transferLab.exportModel', vscode.Uri.file(run)));
  await new Promise((r) => setTimeout(r, 1500));
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  await new Promise((r) => setTimeout(r, 1500));
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  const outcome = await waitFor('the export', () => Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), 500))]), 20_000);
  assert.equal(outcome.targetDir, expected);
  for (const f of ['model.json', 'weights.bin', 'labels.json', 'preprocessing.json']) assert.ok(fs.existsSync(path.join(expected, f)), f);
  assert.equal(outcome.readme, path.join(expected, 'README.md'));
  const pre = JSON.parse(fs.readFileSync(path.join(expected, 'preprocessing.json'), 'utf8'));
  const readme = fs.readFileSync(outcome.readme, 'utf8');
  const stated = /input (\d+)x(\d+) RGB, resize `([a-z-]+)`/.exec(readme);
  assert.ok(stated, readme);
  assert.deepEqual([Number(stated[1]), Number(stated[2]), stated[3]], [...pre.inputSize, pre.resize]);
  assert.match(readme, /pad-to-aspect-ratio: bilinear to fit inside/);

  // Exporting again into the same folder keeps the README that is there (and asks before replacing: skipped here).
  fs.writeFileSync(outcome.readme, '# mine');
  const again = await vscode.commands.executeCommand<ExportOutcome>('transferLab.exportModel', vscode.Uri.file(run), expected, true);
  assert.equal(again?.readme, undefined);
  assert.equal(fs.readFileSync(path.join(expected, 'README.md'), 'utf8'), '# mine');
}, 60_000);
