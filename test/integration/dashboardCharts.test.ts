// The Dashboard's charts in the real webview: what the chart objects hold and drew (the
// transferLab.dashboardCharts test hook asks the page), for a finished fine-tune run whose base
// trained at its own rate: series lengths as in metrics.jsonl, the best-epoch marker at the kept
// epoch, axis labels, both learning rates, no CSP violation; and a theme switch redraws them
// in the new theme's colours without reopening the panel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { ChartReport } from '../../src/core/chartReport';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
type Charts = { charts: ChartReport[]; cspViolations: string[] };

const charts = async (runDir: string) => (await vscode.commands.executeCommand('transferLab.dashboardCharts', runDir)) as Charts | undefined;
const series = (c: ChartReport, key: string) => c.series.find((s) => s.key === key)!;

/** Switches to High Contrast Light: every chart redraws in its colours, with the same points (the report comes from the chart objects). */
async function themeRedraws(runDir: string, before: Charts): Promise<void> {
  const config = vscode.workspace.getConfiguration('workbench');
  const theme = config.inspect<string>('colorTheme')?.globalValue;
  try {
    await config.update('colorTheme', 'Default High Contrast Light', vscode.ConfigurationTarget.Global);
    const after = await waitFor(
      'the charts redrawn in the new theme',
      async () => {
        const r = await charts(runDir);
        return r && r.charts.every((c) => c.colors.theme === 'high-contrast-light') ? r : undefined;
      },
      20_000,
    );
    after.charts.forEach((c, i) => {
      const was = before.charts[i];
      assert.ok(c.draws > was.draws, `${c.title} redrew`);
      assert.notEqual(c.colors.foreground, was.colors.foreground, `${c.title}: labels in the new theme's text colour`);
      assert.notEqual(c.series[0].color, undefined);
      assert.equal(c.series[0].points, was.series[0].points, `${c.title}: the same points after the redraw`);
    });
    assert.deepEqual(after.cspViolations, []);
  } finally {
    await config.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
  }
}

test('dashboard charts: series from the run folder, the best epoch marked, both learning rates, redrawn on a theme change', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const file = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'charts.tlexp.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'charts',
      data: { dir: path.join(repo, 'media/datasets/fashion-target') },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 1e-5 },
      train: { epochs: 4, batchSize: 8, learningRate: 1e-3 },
    }),
  );
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  const runDir = await waitFor('the run folder', () => tl.runs.running(file)?.runDir, 60_000);
  await waitFor('the run to end', () => !tl.runs.running(file), 180_000);
  const records = fs
    .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const batches = records.filter((m) => m.kind === 'batch');
  const epochs = records.filter((m) => m.kind === 'epoch');
  const record = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));

  // Reopen from the folder, as dashboard.test.ts does: let the first panel's thumbnails load
  // before closing it (code-server's service worker otherwise aborts the next page's script).
  await new Promise((r) => setTimeout(r, 3000));
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  const open = async () =>
    ((await vscode.commands.executeCommand('transferLab.dashboardStats')) as { runDir: string }[]).some((p) => p.runDir === path.resolve(runDir));
  await waitFor('the panel closed', async () => !(await open()), 10_000);
  await new Promise((r) => setTimeout(r, 500));
  await vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(runDir));
  let seen: Charts | undefined;
  const before = await waitFor(
    'the charts drawn',
    async () => {
      const r = (seen = await charts(runDir));
      return r && r.charts.length === 3 && r.charts.every((c) => c.draws > 0 && c.yTicks.length > 0) && r.charts[0].series[0].points > 0 ? r : undefined;
    },
    30_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; the charts said: ${JSON.stringify(seen)}`);
  });
  const [loss, accuracy, lr] = before.charts;
  assert.deepEqual(
    before.charts.map((c) => c.title),
    ['Loss', 'Accuracy', 'Learning rate'],
  );
  assert.equal(series(loss, 'batchLoss').points, batches.length, 'a loss point per batch in metrics.jsonl');
  assert.equal(series(loss, 'valLoss').points, epochs.length, 'a validation loss per epoch');
  assert.equal(series(accuracy, 'valAccuracy').points, epochs.length);
  assert.equal(record.metrics.bestEpoch >= 1, true, 'run.json names the kept epoch');
  for (const c of before.charts) assert.deepEqual(c.marker, { x: record.metrics.bestEpoch, label: `best, epoch ${record.metrics.bestEpoch}` }, c.title);
  // The epoch axis: whole epochs as tick labels, 'epoch' as its name.
  assert.equal(loss.xLabel, 'epoch');
  assert.ok(loss.xTicks.length >= 2 && loss.xTicks.every((t) => /^\d+$/.test(t)), loss.xTicks.join(' '));
  // The learning rate: a log axis with the head's and the base's rates, the base's 1e-5 readable on it.
  assert.equal(lr.logY, true);
  assert.equal(series(lr, 'learningRate').points, batches.length);
  const baseTrained = batches.filter((m) => m.baseLr !== undefined).length;
  assert.ok(baseTrained > 0, 'the base trained in some batches (metrics.jsonl has baseLr)');
  assert.equal(series(lr, 'baseLearningRate').points, baseTrained, 'a base rate point per batch the base trained in');
  assert.ok(
    lr.yTicks.some((t) => /e-5$/.test(t)),
    `a tick at the base's decade: ${lr.yTicks.join(' ')}`,
  );
  assert.deepEqual(before.cspViolations, [], 'uPlot styles through the CSSOM: the nonce-only CSP is not violated');
  note(
    `charts: ${batches.length} batches, best epoch ${record.metrics.bestEpoch}, lr ticks ${lr.yTicks.join(' ')}; ${loss.lastDrawMs.toFixed(1)} ms last loss redraw`,
  );

  await themeRedraws(runDir, before);
}, 300_000);
