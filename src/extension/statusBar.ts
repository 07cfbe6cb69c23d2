// While a run goes: "epoch x/y · val 93.1% · last (epoch x) · …" in the status bar; a click opens its dashboard.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Services } from './services';
import { Disposable } from './disposable';
import { testHooks } from './testHooks';
import { summarizeRun, summaryLine } from '../core/runSummary';

class RunStatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('transferLab.run', vscode.StatusBarAlignment.Left, 50));

  constructor(private readonly s: Services) {
    super();
    this.item.name = 'Transfer Lab run';
    const update = () => this.update();
    this._register(s.runs.onDidChangeRuns(update));
    this._register(
      s.runs.onDidEvent(({ event }) => (event.type === 'epoch' || event.type === 'phase' || event.type === 'batch' || event.type === 'finished') && update()),
    );
    this._register(vscode.window.onDidChangeActiveTextEditor(update));
    this.update();
  }

  get shown(): string | undefined {
    return this.visible ? this.item.text : undefined;
  }
  private visible = false;

  private update(): void {
    const { s, item } = this;
    const active = s.runs.active();
    void vscode.commands.executeCommand('setContext', 'transferLab.running', active.length > 0);
    const editor = vscode.window.activeTextEditor?.document.uri.fsPath;
    void vscode.commands.executeCommand('setContext', 'transferLab.activeEditorRunning', !!(editor && s.runs.running(editor)));
    // A run whose trainer reported its end is over, even while its process tidies up.
    const training = active.filter((r) => r.status === 'running');
    this.visible = training.length > 0;
    if (training.length === 0) return item.hide();
    const run = training[0];
    const name = path.basename(run.experimentFile, '.tlexp.json');
    // The same words as the CodeLens, the tree and the dashboards (core/runSummary.ts).
    const progress = run.lastEpoch
      ? summaryLine(summarizeRun({ valAccuracy: run.valAccuracy, live: run }))
      : run.lastBatch
        ? `epoch ${run.lastBatch.epoch} · batch ${run.lastBatch.batch}/${run.lastBatch.batches}`
        : (run.phase ?? 'starting');
    item.text = `$(sync~spin) ${name}: ${progress}${training.length > 1 ? ` (+${training.length - 1})` : ''}`;
    item.tooltip = `Transfer Lab: ${name} is training on ${run.backend ?? '…'}. Click for the dashboard.`;
    item.accessibilityInformation = { label: `Transfer Lab run ${name}, ${progress}` };
    item.command = { command: 'transferLab.openDashboard', title: 'Open Dashboard', arguments: [vscode.Uri.file(run.experimentFile)] };
    item.show();
  }
}

export function registerStatusBar(s: Services): void {
  const bar = new RunStatusBar(s);
  // What the status bar shows (hidden: undefined), for the tests that compare it with the other views.
  s.context.subscriptions.push(bar, ...testHooks(s.context, { 'transferLab.statusBarText': () => bar.shown }));
}
