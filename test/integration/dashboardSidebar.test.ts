// The sidebar Dashboard follows a run: the running one with its epoch progress and live
// points, the same run once it has ended (best/last labelled by epoch), then the run selected
// in the Experiments tree.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { TreeNode } from '../../src/extension/experimentsTree';
import type { DashboardViewState } from '../../src/core/dashboardViewMessages';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
type Run = NonNullable<DashboardViewState['run']>;

function writeExperiment(name: string, epochs: number, batchSize: number): string {
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, `${name}.tlexp.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      name,
      data: { dir: path.join(repo, 'media/datasets/fashion-target') },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'feature-extraction' },
      train: { epochs, batchSize },
    }),
  );
  return file;
}

/** The state the sidebar view was last sent (a test hook), and whether a resolved view got it. */
async function sidebar(): Promise<{ state: DashboardViewState; posted: boolean } | undefined> {
  return (await vscode.commands.executeCommand('transferLab.dashboardViewState')) as { state: DashboardViewState; posted: boolean } | undefined;
}

async function sidebarRun(what: string, check: (run: Run) => boolean, timeoutMs: number): Promise<Run> {
  return waitFor(
    what,
    async () => {
      const run = (await sidebar())?.state.run;
      return run && check(run) ? run : undefined;
    },
    timeoutMs,
  );
}

const describe = (r: Run) =>
  JSON.stringify({ ...r, curves: r.curves && Object.fromEntries(Object.entries(r.curves).map(([k, c]) => [k, c.map((p) => `${p.x}:${p.y.toFixed(3)}`)])) });

test('sidebar dashboard: follows the running run live, keeps it when it ends, then follows the tree selection', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  await vscode.commands.executeCommand('transferLab.dashboard.focus');
  const first = writeExperiment('side-first', 2, 16);
  // Long enough (small batches) for the test to see it between epochs.
  const EPOCHS = 12;
  const second = writeExperiment('side-second', EPOCHS, 4);
  await vscode.commands.executeCommand('transferLab.refreshExperiments');

  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(first));
  const firstDir = await waitFor('the first run folder', () => tl.runs.running(first)?.runDir, 60_000);
  await waitFor('the first run to end', () => !tl.runs.running(first), 120_000);

  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(second));
  const secondDir = await waitFor('the second run folder', () => tl.runs.running(second)?.runDir, 60_000);
  const live = await sidebarRun(
    'the sidebar to show the running run with live points',
    (r) => r.runDir === secondDir && r.status === 'running' && (r.epoch ?? 0) >= 1 && (r.curves?.valAccuracy.length ?? 0) >= 1,
    120_000,
  );
  note(`while running: ${describe(live)}`);
  assert.equal(live.id, path.basename(secondDir));
  assert.equal(live.experiment, 'side-second');
  assert.equal(live.epochs, EPOCHS, 'epoch N of M');
  assert.ok(live.lastValAccuracy && live.lastValAccuracy.epoch === live.curves!.valAccuracy.at(-1)!.x, 'last val accuracy names its epoch');
  assert.equal(live.testAccuracy, undefined, 'no test accuracy while training');
  assert.equal((await sidebar())?.posted, true, 'the resolved sidebar view was sent the state');

  await waitFor('the second run to end', () => !tl.runs.running(second), 180_000);
  const ended = await sidebarRun(
    'the ended run, still shown, succeeded with its test accuracy and the last epoch',
    // Posts are batched: the one with the last epoch's point, then checked whole.
    (r) => r.status === 'succeeded' && r.testAccuracy !== undefined && r.curves?.valAccuracy.at(-1)?.x === EPOCHS,
    30_000,
  );
  note(`after it ended: ${describe(ended)}`);
  assert.equal(ended.runDir, secondDir, 'the run that ran stays shown after it ends');
  assert.equal(ended.epoch, EPOCHS);
  assert.equal(ended.curves!.valAccuracy.length, EPOCHS, 'one validation point per epoch, none twice');
  assert.deepEqual(
    ended.curves!.valAccuracy.map((p) => p.x),
    Array.from({ length: EPOCHS }, (_, i) => i + 1),
  );
  assert.deepEqual(ended.lastValAccuracy?.epoch, EPOCHS);
  const best = Math.max(...ended.curves!.valAccuracy.map((p) => p.y));
  assert.equal(ended.bestValAccuracy?.value, best);
  assert.equal(ended.bestValAccuracy?.epoch, ended.curves!.valAccuracy.find((p) => p.y === best)!.x);

  // Selecting the first run in the tree: the view follows it.
  await tl.runIndex.refresh();
  const entry = tl.runIndex.get(firstDir)!;
  const node: TreeNode = { kind: 'run', dir: entry.dir, entry, experiment: vscode.Uri.file(first) };
  // reveal() can land before the tree has rendered the run's row (the selection is then lost):
  // it is asked again until the tree reports the run selected, and only then is the sidebar checked.
  const isSelected = () => tl.treeView.selection.some((n) => n.kind === 'run' && path.resolve(n.dir) === path.resolve(entry.dir));
  let revealedAt = 0;
  await waitFor('the run selected in the tree', async () => {
    if (isSelected()) return true;
    if (Date.now() - revealedAt > 2000) {
      revealedAt = Date.now();
      await Promise.resolve(tl.treeView.reveal(node, { select: true, focus: true })).catch(() => undefined);
    }
    return undefined;
  });
  const selected = await sidebarRun('the sidebar to follow the selected run', (r) => r.runDir === entry.dir, 20_000);
  note(`after selecting the first run: ${describe(selected)}`);
  assert.equal(selected.status, 'succeeded');
  assert.equal(selected.experiment, 'side-first');
  assert.equal(selected.epoch, 2);
  assert.equal(selected.curves?.valAccuracy.length, 2, 'its curves read from its metrics.jsonl');
  assert.ok(selected.bestValAccuracy && selected.lastValAccuracy?.epoch === 2);
  // Let the dashboards that Run Experiment opened load before closing them (see dashboard.test.ts).
  await new Promise((r) => setTimeout(r, 3000));
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}, 360_000);
