// Running an experiment from VS Code: the trainer child process trains on real images, the
// tree shows the run with its status, the status bar follows, and Stop/Delete work.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { TreeNode } from '../../src/extension/experimentsTree';
import { note, test, waitFor } from './harness';
import { createRun, ORPHANED_MESSAGE, readRun } from '../../src/core/runStore';
import { loadExperimentText } from '../../src/core/experimentValidation';

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
  await tl.runIndex.refresh();
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
  await tl.runIndex.refresh();
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
  await tl.runIndex.refresh();
  const [run] = tl.runIndex.forExperiment(file);
  assert.equal(run.record.status, 'failed');
  assert.match(run.record.failure!.message, /killed by SIGKILL/);
  assert.match(fs.readFileSync(path.join(run.dir, 'log.txt'), 'utf8'), /Training/, 'the log is kept');
  assert.match(fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8'), /"kind":"batch"/, 'metrics so far are kept');
}, 180_000);

test('two runs at once, and the concurrency limit (transferLab.maxConcurrentRuns) refuses a run over it', async () => {
  const tl = await api();
  const config = vscode.workspace.getConfiguration('transferLab');
  const a = writeExperiment('limit-a', { train: { epochs: 200, batchSize: 4 } });
  const b = writeExperiment('limit-b', { train: { epochs: 200, batchSize: 4 } });
  await config.update('maxConcurrentRuns', 1, vscode.ConfigurationTarget.Workspace);
  try {
    assert.ok(await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(a)));
    assert.equal(await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(b)), undefined, 'refused at the limit of 1');
    assert.equal(tl.runs.running(b), undefined);
    await config.update('maxConcurrentRuns', 2, vscode.ConfigurationTarget.Workspace);
    assert.ok(await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(b)), 'started once the limit is 2');
    // Both train at the same time, each in its own trainer process and run folder.
    await waitFor('both runs training', () => tl.runs.running(a)?.lastBatch && tl.runs.running(b)?.lastBatch, 120_000);
    const [ra, rb] = [tl.runs.running(a)!, tl.runs.running(b)!];
    assert.notEqual(ra.runDir, rb.runDir);
    assert.notEqual(ra.job.pid, rb.job.pid);
    note(`two runs at once: trainers ${ra.job.pid} and ${rb.job.pid}`);
  } finally {
    for (const f of [a, b]) await vscode.commands.executeCommand('transferLab.stopRun', vscode.Uri.file(f));
    await waitFor('both runs to stop', () => !tl.runs.running(a) && !tl.runs.running(b), 60_000);
    await config.update('maxConcurrentRuns', undefined, vscode.ConfigurationTarget.Workspace);
  }
  await tl.runIndex.refresh();
  assert.deepEqual(
    [a, b].map((f) => tl.runIndex.forExperiment(f)[0]?.record.status),
    ['cancelled', 'cancelled'],
  );
}, 240_000);

test('a run whose trainer dies after a window reload is marked failed, not running forever', async () => {
  const tl = await api();
  const file = writeExperiment('orphan');
  const resolved = loadExperimentText(fs.readFileSync(file, 'utf8'), file);
  assert.ok(resolved.ok);
  // The previous window's trainer, still alive while this window starts (then it exits).
  const writer = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, stdio: 'ignore' });
  const runsDir = path.join(workspace(), '.transferlab', 'runs');
  const { dir } = createRun(runsDir, resolved.value, { backend: 'tensorflow', pid: writer.pid });
  await tl.runIndex.refresh();
  await new Promise((r) => setTimeout(r, 4000));
  assert.equal(readRun(dir).ok && (readRun(dir) as { value: { status: string } }).value.status, 'running', 'a live writer keeps its run');
  writer.kill('SIGKILL');
  await waitFor('the orphaned run marked failed', () => tl.runIndex.get(dir)?.record.status === 'failed', 15_000);
  assert.equal(tl.runIndex.get(dir)!.record.failure?.message, ORPHANED_MESSAGE);
}, 60_000);

test('the runs folder deleted while the explorer shows it: the runs disappear, and the next run recreates it', async () => {
  const tl = await api();
  const file = writeExperiment('deleted-folder');
  assert.ok(await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file)));
  await waitFor('the run to finish', () => !tl.runs.running(file), 120_000);
  await tl.runIndex.refresh();
  assert.equal(tl.runIndex.forExperiment(file).length, 1);
  const runsDir = path.join(workspace(), '.transferlab', 'runs');
  fs.rmSync(runsDir, { recursive: true, force: true });
  // The watcher notices (no command needed), and nothing throws while the tree redraws.
  await waitFor('the index to follow the deletion', () => tl.runIndex.all().every((e) => !e.dir.startsWith(runsDir)), 15_000);
  await vscode.commands.executeCommand('transferLab.refreshExperiments');
  assert.ok(await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file)));
  await waitFor('the next run to finish', () => !tl.runs.running(file), 120_000);
  await waitFor('the new run listed', () => tl.runIndex.forExperiment(file)[0]?.record.status === 'succeeded', 15_000);
  assert.ok(fs.existsSync(runsDir));
}, 300_000);
