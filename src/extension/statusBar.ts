// While a run goes: "epoch x/y · val 93.1%" in the status bar; a click opens its dashboard.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Services } from './services';

export function registerStatusBar(s: Services): void {
  const item = vscode.window.createStatusBarItem('transferLab.run', vscode.StatusBarAlignment.Left, 50);
  item.name = 'Transfer Lab run';
  const update = () => {
    const active = s.runs.active();
    void vscode.commands.executeCommand('setContext', 'transferLab.running', active.length > 0);
    const editor = vscode.window.activeTextEditor?.document.uri.fsPath;
    void vscode.commands.executeCommand('setContext', 'transferLab.activeEditorRunning', !!(editor && s.runs.running(editor)));
    if (active.length === 0) return item.hide();
    const run = active[0];
    const name = path.basename(run.experimentFile, '.tlexp.json');
    const epoch = run.lastEpoch;
    const progress = epoch
      ? `epoch ${epoch.epoch}/${epoch.epochs} · val ${(epoch.valAccuracy * 100).toFixed(1)}%`
      : run.lastBatch
        ? `epoch ${run.lastBatch.epoch} · batch ${run.lastBatch.batch}/${run.lastBatch.batches}`
        : (run.phase ?? 'starting');
    item.text = `$(sync~spin) ${name}: ${progress}${active.length > 1 ? ` (+${active.length - 1})` : ''}`;
    item.tooltip = `Transfer Lab: ${name} is training on ${run.backend ?? '…'}. Click for the dashboard.`;
    item.accessibilityInformation = { label: `Transfer Lab run ${name}, ${progress}` };
    item.command = { command: 'transferLab.openDashboard', title: 'Open Dashboard', arguments: [vscode.Uri.file(run.experimentFile)] };
    item.show();
  };
  s.context.subscriptions.push(
    item,
    s.runs.onDidChangeRuns(update),
    s.runs.onDidEvent(({ event }) => (event.type === 'epoch' || event.type === 'phase' || event.type === 'batch') && update()),
    vscode.window.onDidChangeActiveTextEditor(update),
  );
  update();
}
