// Deleting a run closes what shows it: its dashboard, and its place in an open Compare.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { CompareSnapshot } from '../../src/extension/comparePanel';
import { test, waitFor } from './harness';
import { succeededRun } from './runFixtures';

type Stats = { runDir: string }[];

test('Delete Run closes its open dashboard and drops it from Compare; the other run stays compared', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const kept = succeededRun('deletion-kept');
  const doomed = succeededRun('deletion-doomed');
  await tl.runIndex.refresh();
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(doomed));
  const stats = () => vscode.commands.executeCommand<Stats>('transferLab.dashboardStats');
  await waitFor('the dashboard open', async () => (await stats()).some((p) => p.runDir === path.resolve(doomed)));
  const compared = await vscode.commands.executeCommand<CompareSnapshot>('transferLab.compareRuns', [vscode.Uri.file(kept), vscode.Uri.file(doomed)]);
  assert.deepEqual(compared?.runDirs, [kept, doomed]);

  assert.equal(await vscode.commands.executeCommand('transferLab.deleteRun', vscode.Uri.file(doomed), true), true);
  assert.ok(!fs.existsSync(doomed));
  await waitFor('the dashboard of the deleted run closed', async () => !(await stats()).some((p) => p.runDir === path.resolve(doomed)), 10_000);
  const snapshot = await waitFor(
    'Compare to drop the deleted run',
    async () => {
      const s = await vscode.commands.executeCommand<CompareSnapshot>('transferLab.compareRuns.snapshot');
      return s && s.runDirs.length === 1 && s.posted.at(-1)?.runDirs?.length === 1 ? s : undefined;
    },
    10_000,
  );
  assert.deepEqual(snapshot.runDirs, [kept]);
  assert.ok(snapshot.visible, 'Compare stays open with the run that is left');
}, 60_000);
