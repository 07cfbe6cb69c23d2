// The same run's numbers, in the same words, in every view: the status bar, the CodeLens and
// the sidebar dashboard agree on the epoch and the labelled validation accuracy while it trains,
// and after Stop none of them (nor the trainer's status the tree shows) still says running.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { DashboardViewState } from '../../src/core/dashboardViewMessages';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
const EPOCHS = 40;

async function views(doc: vscode.TextDocument) {
  const statusBar = await vscode.commands.executeCommand<string | undefined>('transferLab.statusBarText');
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri)) ?? [];
  const titles = lenses.map((l) => l.command?.title ?? '');
  const sidebar = (await vscode.commands.executeCommand<{ state: DashboardViewState } | undefined>('transferLab.dashboardViewState'))?.state.run;
  return { statusBar, titles, lens: titles.find((t) => /^(running|last):/.test(t)), sidebar };
}

test('numbers: the status bar, CodeLens and sidebar show the same labelled epoch and accuracy, and nothing says running after Stop', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  await vscode.commands.executeCommand('transferLab.dashboard.focus');
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'numbers.tlexp.json');
  const exp = {
    name: 'numbers',
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: EPOCHS, batchSize: 4 },
  };
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  const runDir = await waitFor('the run folder', () => tl.runs.running(file)?.runDir, 60_000);

  // Sampled together until they show the same moment (events keep arriving between the reads).
  let seen: unknown;
  const agreed = await waitFor(
    'the three views to agree',
    async () => {
      const v = await views(doc);
      seen = { statusBar: v.statusBar, lens: v.lens, sidebar: v.sidebar?.accuracy, running: !!tl.runs.running(file) };
      const line = /^\$\(sync~spin\) numbers: (epoch (\d+)\/40 · val \d+\.\d% · last \(epoch \2\).*)$/.exec(v.statusBar ?? '');
      if (!line || Number(line[2]) < 2 || v.lens !== `running: ${line[1]}`) return undefined;
      const labels = v.sidebar?.accuracy;
      if (v.sidebar?.runDir !== runDir || labels?.progress !== `epoch ${line[2]}/${EPOCHS}` || !labels.last || !line[1].includes(labels.last)) return undefined;
      return { ...v, line: line[1] };
    },
    90_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last seen ${JSON.stringify(seen)}`);
  });
  note(`status bar "${agreed.statusBar}", CodeLens "${agreed.lens}", sidebar ${JSON.stringify(agreed.sidebar?.accuracy)}`);
  assert.ok(
    agreed.titles.some((t) => t.includes('Stop')),
    'a Stop lens while it trains',
  );
  assert.match(agreed.line, /· \d+\.\d% best \(epoch \d+\)/, 'the best is labelled with its epoch');

  assert.equal(await vscode.commands.executeCommand('transferLab.stopRun', vscode.Uri.file(file)), true);
  const after = await waitFor(
    'every view to follow the stop',
    async () => {
      const v = await views(doc);
      return v.statusBar === undefined && v.lens?.startsWith('last: cancelled') && v.sidebar?.status === 'cancelled' ? v : undefined;
    },
    30_000,
  );
  assert.ok(!after.titles.some((t) => /running|Stop/.test(t)), after.titles.join(' | '));
  assert.ok(
    after.titles.some((t) => t.includes('Run')),
    'the Run lens is back',
  );
  assert.equal(tl.runs.statusOf(runDir), 'cancelled', 'the status the tree item shows (no spinner)');
  await waitFor('the trainer to exit', () => !tl.runs.running(file), 30_000);
  await new Promise((r) => setTimeout(r, 2000));
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}, 240_000);
