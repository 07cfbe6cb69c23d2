// The dashboard beside the code: opens for a running run, receives live points, gets the
// evaluation when the run ends, and reopens for a finished run from its folder.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
type Stats = { runDir: string; posted: number; rendered: number; outOfOrder: number }[];

/** Curve points in a run's metrics.jsonl, counted the way the dashboard draws them. */
function pointsOnDisk(runDir: string): number {
  let n = 0;
  for (const line of fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    n +=
      m.kind === 'batch'
        ? 1 + Number(m.accuracy !== undefined) + Number(m.lr !== undefined) + Number(m.baseLr !== undefined && m.baseLr !== m.lr)
        : 1 + Number(m.accuracy !== undefined) + Number(m.val_loss !== undefined) + Number(m.val_accuracy !== undefined);
  }
  return n;
}

test('dashboard: live points arrive while a run trains, and it reopens for the finished run', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'dash.tlexp.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'dash',
      data: { dir: path.join(repo, 'media/datasets/fashion-target') },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' },
      train: { epochs: 6, batchSize: 8 },
    }),
  );
  // Run Experiment opens the dashboard by itself.
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  const runDir = await waitFor('the run folder', () => tl.runs.running(file)?.runDir, 60_000);
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(runDir));
  const during = await waitFor(
    'live points drawn',
    async () => {
      const s = ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).find((p) => p.runDir === path.resolve(runDir));
      return s && s.rendered > 0 && tl.runs.running(file) ? s : undefined;
    },
    60_000,
  );
  await waitFor('the run to end', () => !tl.runs.running(file), 120_000);
  // Live batch events are sampled by the trainer (metrics.jsonl has every batch), so the live
  // view draws a subset; but never a point twice: the history the webview loads when it is
  // ready and the live events overlap, and an overlap drawn twice made the curves jump back.
  const expected = pointsOnDisk(runDir);
  const stats = async () => ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).find((p) => p.runDir === path.resolve(runDir))!;
  const after = await waitFor(
    'every posted point drawn',
    async () => ((await stats()).rendered === (await stats()).posted ? stats() : undefined),
    10_000,
  ).catch(() => stats());
  note(`dashboard drew ${during.rendered} points while training, ${after.rendered} at the end (posted ${after.posted}; ${expected} on disk)`);
  assert.ok(after.rendered > during.rendered, 'more points arrived as training went on');
  assert.equal(after.outOfOrder, 0, 'no point posted twice or out of order');
  assert.equal(after.rendered, after.posted, 'the webview drew what the host posted');
  // code-server serves webview resources through a service worker; closing a panel while its
  // thumbnails of wrong images are still loading left later webviews unable to load their
  // script (requests aborted, the new page never ready; 2 runs in 5 here). Let them load.
  await new Promise((r) => setTimeout(r, 3000));
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  // Reopen once the old panel is gone.
  await waitFor(
    'the panel closed',
    async () => !((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).some((p) => p.runDir === path.resolve(runDir)),
    10_000,
  );
  await new Promise((r) => setTimeout(r, 500));
  // A finished run's dashboard is rebuilt from its folder.
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(runDir));
  const reopened = await waitFor(
    'history drawn',
    async () =>
      ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as Stats).find((p) => p.runDir === path.resolve(runDir) && p.rendered > 0),
    30_000,
  );
  assert.equal(reopened.rendered, expected, 'the history from the run folder, each point once');
}, 240_000);
