// Diagnostics of an experiment file as the editor shows them: every section's errors at once,
// a quick fix that renames a misspelt key, and "did you mean" for a misspelt dataset folder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { test, waitFor } from './harness';

const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const ours = (doc: vscode.TextDocument) => vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'Transfer Lab');

async function open(name: string, exp: object): Promise<vscode.TextDocument> {
  await vscode.extensions.getExtension('transfer-lab.transfer-lab')!.activate();
  const file = path.join(ws(), name);
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  return doc;
}

/** A dataset folder with two classes of one (undecoded) file each: enough for the folder checks. */
function dataset(name: string): string {
  const dir = path.join(ws(), 'diag-data', name);
  for (const c of ['cats', 'dogs']) {
    fs.mkdirSync(path.join(dir, c), { recursive: true });
    fs.writeFileSync(path.join(dir, c, 'a.png'), '');
  }
  return dir;
}

test('diagnostics: errors in several sections, and the dataset folder, are all shown at once', async () => {
  dataset('flowers');
  const doc = await open('all-at-once.tlexp.json', {
    name: 'all',
    data: { dir: 'diag-data/flowres' },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'fine-tunee' },
    head: { dropout: 2 },
    train: { epochs: -1 },
  });
  const codes = ['strategy.kind', 'head.dropout', 'train.epochs', 'data.dir'];
  const found = await waitFor('every error at once', () => {
    const d = ours(doc);
    return codes.every((c) => d.some((x) => x.code === c)) ? d : undefined;
  });
  const dir = found.find((d) => d.code === 'data.dir')!;
  assert.match(dir.message, /does not exist.*Did you mean "diag-data\/flowers"\?/);
  const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, dir.range)) as vscode.CodeAction[];
  const fix = actions.find((a) => a.title === 'Change to "diag-data/flowers"');
  assert.ok(fix?.edit, actions.map((a) => a.title).join(', '));
  await vscode.workspace.applyEdit(fix.edit);
  assert.equal(JSON.parse(doc.getText()).data.dir, 'diag-data/flowers');
  await waitFor('the data.dir error gone', () => !ours(doc).some((d) => d.code === 'data.dir' && /does not exist/.test(d.message)));
}, 60_000);

test('diagnostics: the quick fix renames a misspelt key, keeping its value, and the error goes', async () => {
  dataset('pets');
  const doc = await open('misspelt.tlexp.json', {
    name: 'misspelt',
    data: { dir: 'diag-data/pets' },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epoch: 7 },
  });
  const d = await waitFor('the unknown-field error', () => ours(doc).find((x) => x.code === 'train.epoch'));
  assert.match(d.message, /Did you mean "epochs"/);
  const actions = (await vscode.commands.executeCommand('vscode.executeCodeActionProvider', doc.uri, d.range)) as vscode.CodeAction[];
  const fix = actions.find((a) => a.title === 'Rename to "epochs"');
  assert.ok(fix?.edit && fix.isPreferred, actions.map((a) => a.title).join(', '));
  await vscode.workspace.applyEdit(fix.edit);
  assert.deepEqual(JSON.parse(doc.getText()).train, { epochs: 7 });
  await waitFor('no error on train', () => !ours(doc).some((x) => String(x.code).startsWith('train.')));
}, 60_000);

test('diagnostics: an unknown field is reported once, by Transfer Lab, not again by the JSON schema', async () => {
  dataset('birds');
  const doc = await open('once.tlexp.json', {
    name: 'once',
    data: { dir: 'diag-data/birds' },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epoch: 7, batchSize: 'eight' },
  });
  await waitFor('our unknown-field error', () => ours(doc).find((x) => x.code === 'train.epoch'));
  // The schema still checks the file (its type error shows up), but says nothing of the unknown field.
  const fromSchema = await waitFor(
    'the JSON schema to check the file',
    () => {
      const d = vscode.languages.getDiagnostics(doc.uri).filter((x) => x.source !== 'Transfer Lab');
      return d.length > 0 ? d : undefined;
    },
    30_000,
  );
  assert.ok(!fromSchema.some((d) => /not allowed/.test(d.message)), fromSchema.map((d) => d.message).join(' | '));
}, 60_000);
