// Export Experiment as Keras Script from the editor side: the command (as the explorer calls
// it, with a Uri) writes the job folder through the CLI in a child process, with the same
// files per split as our own index; an experiment whose backbone a Keras job cannot take gets
// no folder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { KerasScriptOutcome } from '../../src/extension/commands/exportKerasScript';
import { indexDataset } from '../../src/core/datasetIndex';
import { test } from './harness';

const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

function experimentFile(name: string, backbone: object): string {
  const ext = vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!;
  const dir = path.join(ext.extensionPath, 'media/datasets/fashion-target');
  const file = path.join(ws(), `${name}.tlexp.json`);
  fs.writeFileSync(file, JSON.stringify({ name, data: { dir, seed: 42 }, backbone, strategy: { kind: 'feature-extraction' } }, null, 2));
  return file;
}

test('Export Experiment as Keras Script writes train.py, the job and our own split beside the experiment', async () => {
  await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const file = experimentFile('keras-script', { catalog: 'fmnist-mini' });
  const out = path.join(ws(), 'keras-script-job');
  const outcome = await vscode.commands.executeCommand<KerasScriptOutcome | undefined>('transferLab.exportKerasScript', vscode.Uri.file(file), out);
  assert.ok(outcome, 'the export gave no result');
  assert.equal(outcome.dir, out);
  assert.equal(outcome.runsDir, path.join(ws(), '.transferlab', 'runs'));
  for (const f of ['train.py', 'job.json', 'splits.json', 'requirements.txt', 'README.md', 'backbone/model.json', 'backbone/weights.bin']) {
    assert.ok(fs.existsSync(path.join(out, f)), f);
  }
  const splits = JSON.parse(fs.readFileSync(path.join(out, 'splits.json'), 'utf8')) as { splits: Record<'train' | 'val' | 'test', { path: string }[]> };
  const experiment = JSON.parse(fs.readFileSync(file, 'utf8')) as { data: { dir: string } };
  const indexed = indexDataset(experiment.data.dir, { split: { val: 0.2, test: 0.1 }, seed: 42 });
  assert.ok(indexed.ok);
  const testFiles = indexed.value.items.filter((i) => i.split === 'test').map((i) => path.relative(experiment.data.dir, i.path).split(path.sep).join('/'));
  assert.deepEqual(
    splits.splits.test.map((i) => i.path),
    testFiles,
  );
  assert.deepEqual(outcome.counts, { train: 100, val: 50, test: 250 });
}, 60_000);

test('Export Experiment as Keras Script refuses a TF.js catalog backbone and writes nothing', async () => {
  await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const file = experimentFile('keras-script-tfjs', { catalog: 'mobilenet_v2_1.00_224' });
  const out = path.join(ws(), 'keras-script-tfjs-job');
  const outcome = await vscode.commands.executeCommand<KerasScriptOutcome | undefined>('transferLab.exportKerasScript', vscode.Uri.file(file), out);
  assert.equal(outcome, undefined);
  assert.ok(!fs.existsSync(path.join(out, 'train.py')));
}, 60_000);
