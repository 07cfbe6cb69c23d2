// A run that fails before its first epoch (here: its backbone file is not a model) shows, in
// its Dashboard, the run's own error and what to do next instead of three empty charts (issue
// 15 item 5). The page answers the charts test hook with the notice it shows and its charts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { ChartsReport } from '../../src/extension/chartReports';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');

test('a run that never trained: its dashboard shows the error and the next step, not empty charts', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
  // The shipped backbone's topology without its weights file: the trainer fails loading it.
  const modelDir = path.join(ws, 'no-weights');
  fs.mkdirSync(modelDir, { recursive: true });
  const model = path.join(modelDir, 'model.json');
  fs.copyFileSync(path.join(repo, 'media/backbones/fmnist-mini/model.json'), model);
  const file = path.join(ws, 'never.tlexp.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'never',
      data: { dir: path.join(repo, 'media/datasets/fashion-target') },
      backbone: { path: model },
      strategy: { kind: 'feature-extraction' },
    }),
  );
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  const runs = path.join(ws, '.transferlab', 'runs');
  const failed = () =>
    (fs.existsSync(runs) ? fs.readdirSync(runs) : []).flatMap((d) => {
      try {
        const r = JSON.parse(fs.readFileSync(path.join(runs, d, 'run.json'), 'utf8'));
        return r.experiment?.name === 'never' && r.status === 'failed' ? [{ dir: path.join(runs, d), record: r }] : [];
      } catch {
        return [];
      }
    })[0];
  const { dir: runDir, record } = await waitFor('the run to fail', async () => (!tl.runs.running(file) ? failed() : undefined), 120_000);
  assert.equal(record.metrics.epochs ?? 0, 0, 'it never trained an epoch');
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(runDir));
  let seen: ChartsReport | undefined;
  const report = await waitFor(
    'the dashboard showing the notice',
    async () => {
      seen = (await vscode.commands.executeCommand('transferLab.dashboardCharts', runDir)) as ChartsReport | undefined;
      return seen?.notice ? seen : undefined;
    },
    30_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; the page said: ${JSON.stringify(seen)}`);
  });
  note(`never-trained dashboard: ${report.notice}`);
  assert.match(report.notice!, /failed before its first epoch/);
  assert.ok(report.notice!.includes(record.failure.message.slice(0, 40)), `the run's own error is shown: ${record.failure.message}`);
  assert.match(report.notice!, /run the experiment again/i, 'and what to do next');
  assert.ok(
    report.charts.every((c) => c.series.every((s) => s.points === 0)),
    'no curve has points',
  );
}, 180_000);
