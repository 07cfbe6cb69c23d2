// The layer probe in Show Layers, in a real extension host: the panel's Probe request (what
// the button posts) runs the probe in a real trainer, the state then carries accuracy and
// LogME for the blocks the tree shows with the recommended cut among them, probe.json lands
// beside the runs folder, and a reopened panel shows the saved probe without running it again.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LAYER_TREE_PROTOCOL as protocol } from '../../src/core/layerTreeMessages';
import { parseProbeFile } from '../../src/core/probeFile';
import type { ChartsReport } from '../../src/extension/chartReports';
import { layerTreeReceive, layerTreeShown, layerTreeState, note, repo, test, waitFor, workspace } from './harness';

test('layer probe: the Probe button fills the column per block, writes probe.json, and a reopened panel shows it', async () => {
  const file = path.join(workspace(), 'probed.tlexp.json');
  const experiment = {
    name: 'probed',
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
  };
  fs.writeFileSync(file, `${JSON.stringify(experiment, null, 2)}\n`);
  const saved = path.join(workspace(), '.transferlab', 'probes', 'probed-fmnist-mini.json');
  fs.rmSync(saved, { force: true });
  assert.equal(await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file)), file);
  const before = await layerTreeShown(file, 'the layer tree', () => true, 90_000);
  assert.equal(before.probe, undefined, 'no probe before it ran');

  const started = Date.now();
  assert.equal(await layerTreeReceive(file, { type: 'probe', protocol }), 'rendered');
  const after = await layerTreeShown(file, 'the probe column', (s) => s.probe !== undefined, 30_000);
  const probe = after.probe!;
  note(
    `probe in ${Date.now() - started} ms: ${probe.blocks.map((b) => `${b.block} ${Math.round(b.accuracy * 100)}% ${b.logme.toFixed(2)}`).join(', ')}; ${probe.advice.title}`,
  );
  // Every probed block is a row of the tree (a block group, or the cut layer on its own), so the column lines up.
  const rows = new Set([...after.groups.map((g) => g.block), ...after.groups.flatMap((g) => g.layers.map((l) => l.name))]);
  assert.deepEqual(
    probe.blocks.filter((b) => !rows.has(b.block)).map((b) => b.block),
    [],
  );
  assert.ok(probe.blocks.length >= 5, `${probe.blocks.length} blocks probed`);
  assert.ok(
    probe.blocks.every((b) => b.accuracy >= 0 && b.accuracy <= 1 && Number.isFinite(b.logme)),
    'accuracy and LogME per block',
  );
  assert.ok(
    probe.blocks.some((b) => b.block === probe.advice.block),
    `the recommended block ${probe.advice.block} is a probed row`,
  );
  assert.match(probe.advice.measured, /images per class/);
  const parsed = parseProbeFile(fs.readFileSync(saved, 'utf8'), saved);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  assert.deepEqual(
    parsed.value.blocks.map((b) => b.accuracy),
    probe.blocks.map((b) => b.accuracy),
  );
  // The chart above the tree is the shared chart: a point per block named on x, the recommended block as its marker.
  // A chart draws on the webview's next animation frame, which a panel behind another editor
  // does not get (a full run failed here once): bring it to the front, as a user looking at it has it.
  const report = await waitFor('the probe chart', async () => {
    const r = (await vscode.commands.executeCommand('transferLab.layerTree.charts', file)) as ChartsReport | undefined;
    const drawn = r?.charts.find((c) => c.title === 'Probe accuracy by depth' && c.draws > 0);
    if (!drawn) await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file));
    return drawn;
  });
  assert.equal(report.series.find((s) => s.key === 'accuracy')?.points, probe.blocks.length);
  assert.ok(report.xTicks.length > 0 && report.xTicks.every((t) => probe.blocks.some((b) => b.block === t)), report.xTicks.join(','));
  const best = probe.blocks.findIndex((b) => b.block === probe.advice.block);
  assert.deepEqual(report.marker, { x: best, label: `recommended: ${probe.advice.block}` });

  // Reopened: the saved probe.json shows without running the probe again.
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await waitFor('the panel closed', async () => ((await layerTreeState(file)) === undefined ? true : undefined), 10_000);
  assert.equal(await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file)), file);
  const reopened = await layerTreeShown(file, 'the saved probe on reopen', (s) => s.probe !== undefined, 60_000);
  assert.equal(reopened.probe!.createdAt, probe.createdAt);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}, 180_000);
