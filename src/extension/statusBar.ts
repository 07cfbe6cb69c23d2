// While a run goes: "epoch x/y · val 93.1%" in the status bar; a click opens its dashboard.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Services } from './services';
import { Disposable } from './disposable';

class RunStatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('transferLab.run', vscode.StatusBarAlignment.Left, 50));

  constructor(private readonly s: Services) {
    super();
    this.item.name = 'Transfer Lab run';
    const update = () => this.update();
    this._register(s.runs.onDidChangeRuns(update));
    this._register(s.runs.onDidEvent(({ event }) => (event.type === 'epoch' || event.type === 'phase' || event.type === 'batch') && update()));
    this._register(vscode.window.onDidChangeActiveTextEditor(update));
    this.update();
  }

  private update(): void {
    const { s, item } = this;
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
  }
}

export function registerStatusBar(s: Services): void {
  s.context.subscriptions.push(new RunStatusBar(s));
}
