// The layer tree beside the code: the backbone's layers grouped by block, frozen/trainable
// and the cut as the experiment file says. Moving the boundary or the cut edits the file
// (an undoable edit); the panel re-renders from the file, which stays the source of truth.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { loadExperimentText, parseExperimentText } from '../core/experimentValidation';
import type { LayerSummary } from '../core/layerSummary';
import { freezeView } from '../core/freezeView';
import { editsFor, type ExperimentChange } from '../core/experimentEdits';
import { parseLayerTreeRequest, type LayerTreeMessage } from '../core/layerTreeMessages';
import type { ExperimentFile } from '../core/experiment';
import { experimentFileFrom } from './commands/runCommands';
import { cacheDirOf } from './config';
import { webviewHtml, webviewOptions } from './webviewHtml';
import type { Services } from './services';

class LayerTreePanel implements vscode.Disposable {
  private summary: LayerSummary | undefined;
  private summaryKey = '';
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly file: string,
    private readonly s: Services,
    private readonly onDispose: () => void,
  ) {
    panel.webview.options = webviewOptions(s.context.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, s.context.extensionUri, 'layerTree', 'Transfer Lab Layers');
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)),
      vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.fsPath === file && this.refresh()),
    );
  }

  private post(m: LayerTreeMessage): void {
    void this.panel.webview.postMessage(m);
  }

  private async document(): Promise<vscode.TextDocument> {
    return vscode.workspace.openTextDocument(vscode.Uri.file(this.file));
  }

  /** Re-reads the experiment (from the editor buffer, saved or not) and re-renders. */
  async refresh(): Promise<void> {
    const doc = await this.document();
    const parsed = parseExperimentText(doc.getText(), this.file);
    if (!parsed.ok) return this.post({ type: 'error', message: `${path.basename(this.file)}: ${parsed.errors[0].message}. Fix the file to see the layers.` });
    const exp: ExperimentFile = parsed.value;
    const resolved = loadExperimentText(doc.getText(), this.file);
    if (!resolved.ok) return this.post({ type: 'error', message: resolved.errors.map((e) => `${e.path}: ${e.message}`).join('\n') });
    const { cutAt: _cut, ...backboneWithoutCut } = resolved.value.backbone;
    const key = JSON.stringify(backboneWithoutCut);
    if (!this.summary || key !== this.summaryKey) {
      this.post({ type: 'loading', experiment: exp.name });
      // Without a cut so every layer is listed; the cut is shown, not applied.
      const result = await this.s.trainers.inspect(backboneWithoutCut, path.dirname(this.file), cacheDirOf(this.s.context));
      if (!result.ok) return this.post({ type: 'error', message: `Cannot load the backbone: ${result.outcome.reason}${result.outcome.hint ? ` ${result.outcome.hint}` : ''}` });
      this.summary = result.value;
      this.summaryKey = key;
    }
    const cutAt = exp.backbone.cutAt ?? this.summary.cutAt;
    this.post({ type: 'state', experiment: exp.name, summary: this.summary, cutAt, strategy: exp.strategy, view: freezeView(this.summary.rows, cutAt, exp.strategy) });
  }

  /** Applies a change to the experiment file as an undoable edit. Returns whether it changed. */
  async change(change: ExperimentChange): Promise<boolean> {
    const doc = await this.document();
    const edits = editsFor(doc.getText(), change);
    if (edits.length === 0) return false;
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
    const ok = await vscode.workspace.applyEdit(edit);
    if (ok) await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: true, preview: false });
    return ok;
  }

  private async receive(raw: unknown): Promise<void> {
    const names = new Set(this.summary?.rows.map((r) => r.name) ?? []);
    const request = parseLayerTreeRequest(raw, names);
    if (!request) return;
    if (request.type === 'ready') return this.refresh();
    if (request.type === 'freezeAll') await this.change({ kind: 'freezeAll' });
    else if (request.type === 'trainFrom') await this.change({ kind: 'trainFrom', layer: request.layer });
    else await this.change({ kind: 'cutAt', layer: request.layer });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.onDispose();
  }
}

export function registerLayerTree(s: Services): void {
  const panels = new Map<string, LayerTreePanel>();
  s.context.subscriptions.push(
    { dispose: () => panels.forEach((p) => p.panel.dispose()) },
    vscode.commands.registerCommand('transferLab.showLayers', async (arg?: unknown) => {
      const file = experimentFileFrom(arg);
      if (!file) {
        void vscode.window.showInformationMessage('Transfer Lab: open an experiment file (*.tlexp.json) or pick one in the Experiments view to see its layers.');
        return undefined;
      }
      const existing = panels.get(file);
      if (existing) {
        existing.panel.reveal(vscode.ViewColumn.Beside, true);
        return file;
      }
      const panel = vscode.window.createWebviewPanel('transferLab.layers', `Layers: ${path.basename(file, '.tlexp.json')}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true });
      panels.set(file, new LayerTreePanel(panel, file, s, () => panels.delete(file)));
      return file;
    }),
    // Test hook: the same path the webview's buttons take.
    vscode.commands.registerCommand('transferLab.layerTree.change', (file: string, change: ExperimentChange) => panels.get(file)?.change(change) ?? false),
  );
}
