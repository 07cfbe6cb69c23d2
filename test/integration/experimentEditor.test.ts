// Inline help in an experiment file: CodeLens, diagnostics beyond the schema, quick fixes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

async function open(name: string, exp: object): Promise<vscode.TextDocument> {
  // The workspace had no experiment file at start-up, so nothing has activated us yet.
  await vscode.extensions.getExtension('transfer-lab.transfer-lab')!.activate();
  const file = path.join(ws(), name);
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  return doc;
}

test('editor: CodeLens offers Run, Dashboard and Layers', async () => {
  const doc = await open('lens.tlexp.json', {
    name: 'lens',
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
  });
  const lenses = await waitFor('code lenses', async () => {
    const l = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri)) as vscode.CodeLens[];
    return l.length >= 3 ? l : undefined;
  });
  const titles = lenses.map((l) => l.command?.title ?? '');
  assert.ok(
    titles.some((t) => t.includes('Run')) && titles.some((t) => t.includes('Dashboard')) && titles.some((t) => t.includes('Layers')),
    titles.join(' | '),
  );
});

test('editor: a missing dataset folder and an unknown layer are diagnosed, and the quick fix corrects the layer', async () => {
  const missing = await open('missing.tlexp.json', {
    name: 'missing',
    data: { dir: 'no-such-folder' },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
  });
  const d1 = await waitFor('a data.dir diagnostic', () => vscode.languages.getDiagnostics(missing.uri).find((d) => /data\.dir/.test(d.message)));
  assert.match(d1.message, /does not exist.*Scaffold Dataset/);
  const typo = await open('typo.tlexp.json', {
    name: 'typo',
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dq' },
  });
  const d2 = await waitFor(
    'an unknown-layer diagnostic',
    () => vscode.languages.getDiagnostics(typo.uri).find((d) => /no layer 'block_5_dq'/.test(d.message)),
    60_000,
  );
  assert.match(d2.message, /Did you mean 'block_5_dw'/);
  const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', typo.uri, d2.range)) as vscode.CodeAction[];
  const fix = actions.find((a) => a.title === "Change to 'block_5_dw'");
  assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
  await vscode.workspace.applyEdit(fix.edit);
  assert.equal(JSON.parse(typo.getText()).strategy.unfreezeFrom, 'block_5_dw');
}, 120_000);
