// The dashboard beside the code: opens for a running run, receives live points, gets the
// evaluation when the run ends, and reopens for a finished run from its folder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
type Stats = { runDir: string; posted: number; rendered: number }[];

test('dashboard: live points arrive while a run trains, and it reopens for the finished run', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'dash.tlexp.json');
  fs.writeFileSync(file, JSON.stringify({ name: 'dash', data: { dir: path.join(repo, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' }, train: { epochs: 6, batchSize: 8 } }));
  // Run Experiment opens the dashboard by itself.
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  const runDir = await waitFor('the run folder', () => tl.runs.running(file)?.runDir, 60_000);
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(runDir));
  const during = await waitFor('live points drawn', async () => {
    const s = ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).find((p) => p.runDir === path.resolve(runDir));
    return s && s.rendered > 0 && tl.runs.running(file) ? s : undefined;
  }, 60_000);
  await waitFor('the run to end', () => !tl.runs.running(file), 120_000);
  const after = ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).find((p) => p.runDir === path.resolve(runDir))!;
  note(`dashboard drew ${during.rendered} points while training, ${after.rendered} at the end (posted ${after.posted})`);
  assert.ok(after.rendered > during.rendered, 'more points arrived as training went on');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  // A finished run's dashboard is rebuilt from its folder.
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(runDir));
  const reopened = await waitFor('history drawn', async () => ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).find((p) => p.runDir === path.resolve(runDir) && p.rendered > 0), 30_000);
  assert.ok(reopened.rendered >= after.rendered * 0.5, `history: ${reopened.rendered} points`);
}, 240_000);
