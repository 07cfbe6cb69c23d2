// Running an experiment from VS Code: the trainer child process trains on real images, the
// tree shows the run with its status, the status bar follows, and Stop/Delete work.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { TreeNode } from '../../src/extension/experimentsTree';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

async function api(): Promise<TransferLabApi> {
  return vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
}

function writeExperiment(name: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(workspace(), `${name}.tlexp.json`);
  const exp = {
    name,
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 3, batchSize: 16 },
    ...extra,
  };
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  return file;
}

test('Run Experiment trains in a child process and the tree shows the succeeded run', async () => {
  const tl = await api();
  const file = writeExperiment('tree-run');
  await vscode.commands.executeCommand('transferLab.refreshExperiments');
  const events: string[] = [];
  const sub = tl.runs.onDidEvent(({ event }) => events.push(event.type));
  const started = (await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file))) as { experimentFile: string } | undefined;
  assert.equal(started?.experimentFile, file);
  assert.ok(tl.runs.running(file), 'running');
  await waitFor('the run to finish', () => !tl.runs.running(file), 120_000);
  sub.dispose();
  assert.ok(events.includes('epoch') && events.includes('evaluation') && events.at(-1) === 'finished', events.join(','));
  tl.runIndex.refresh();
  const runs = tl.runIndex.forExperiment(file);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].record.status, 'succeeded');
  assert.ok(fs.existsSync(path.join(runs[0].dir, 'model', 'model.json')));
  note(`run ${runs[0].record.id}: test accuracy ${(runs[0].record.metrics.accuracy * 100).toFixed(1)}% on ${runs[0].record.backend}`);
  // The tree: experiment -> run with status icon and description.
  const provider = tl.treeView as unknown as { reveal(n: TreeNode): Thenable<void> };
  await provider.reveal({ kind: 'experiment', uri: vscode.Uri.file(file) });
}, 180_000);

test('Stop Run cancels within a batch and the run is recorded as cancelled', async () => {
  const tl = await api();
  const file = writeExperiment('stop-run', { train: { epochs: 200, batchSize: 4 } });
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  await waitFor('training to start', () => tl.runs.running(file)?.lastBatch, 120_000);
  assert.equal(await vscode.commands.executeCommand('transferLab.stopRun', vscode.Uri.file(file)), true);
  await waitFor('the run to stop', () => !tl.runs.running(file), 60_000);
  tl.runIndex.refresh();
  const [run] = tl.runIndex.forExperiment(file);
  assert.equal(run.record.status, 'cancelled');
  // Reveal Run Folder selects the run folder in the explorer (and does not throw in a browser window).
  await vscode.commands.executeCommand('transferLab.revealRun', run.dir);
  // Delete asks first; confirmed here through the command's second argument.
  assert.equal(await vscode.commands.executeCommand('transferLab.deleteRun', run.dir, true), true);
  assert.ok(!fs.existsSync(run.dir));
}, 180_000);

test('a trainer killed mid-run leaves the run marked failed with its log', async () => {
  const tl = await api();
  const file = writeExperiment('killed-run', { train: { epochs: 200, batchSize: 4 } });
  let pid: number | undefined;
  const sub = tl.trainers.onDidStartTrainer((p) => (pid = p));
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  sub.dispose();
  await waitFor('training to start', () => tl.runs.running(file)?.lastBatch, 120_000);
  process.kill(pid!, 'SIGKILL');
  await waitFor('the manager to notice', () => !tl.runs.running(file), 30_000);
  tl.runIndex.refresh();
  const [run] = tl.runIndex.forExperiment(file);
  assert.equal(run.record.status, 'failed');
  assert.match(run.record.failure!.message, /killed by SIGKILL/);
  assert.match(fs.readFileSync(path.join(run.dir, 'log.txt'), 'utf8'), /Training/, 'the log is kept');
  assert.match(fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8'), /"kind":"batch"/, 'metrics so far are kept');
}, 180_000);
