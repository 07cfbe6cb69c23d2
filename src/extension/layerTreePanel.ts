// The layer tree beside the code: the backbone's layers grouped by block, frozen/trainable
// and the cut as the experiment file says. Moving the boundary or the cut edits the file
// (an undoable edit in its editor, left unsaved like any edit); the panel re-renders from
// the document, which stays the source of truth, also when the user edits the JSON by hand.
import * as vscode from 'vscode';
import { testHooks } from './testHooks';
import * as path from 'node:path';
import { loadExperimentText, parseExperimentText } from '../core/experimentValidation';
import type { LayerSummary } from '../core/layerSummary';
import { changeNotice, editsFor, type ExperimentChange } from '../core/experimentEdits';
import { buildLayerTree, LAYER_TREE_PROTOCOL, parseLayerTreeRequest, type LayerTreeMessage } from '../core/layerTreeMessages';
import { versioned, type Unversioned } from '../core/messageProtocol';
import { experimentFileFrom, pickExperiment } from './commands/runCommands';
import { cacheDirOf } from './config';
import { loadWebviewHtml, webviewOptions } from './webviewHtml';
import { webviewInbox } from './webviewInbox';
import { WebviewPanelOwner } from './webviewPanelOwner';
import type { Services } from './services';
import type { ProbeFile } from '../core/probeFile';
import { probesDirOf, readSavedProbe, runProbeInTrainer } from './layerProbe';
import { ChartReports } from './chartReports';

const VIEW_TYPE = 'transferLab.layers';

/** What handling one webview message did (returned to tests through the test hook). */
export type ReceiveOutcome = 'refused' | 'rendered' | 'changed' | 'unchanged' | 'failed';

class LayerTreePanel extends WebviewPanelOwner {
  private summary: LayerSummary | undefined;
  private summaryKey = '';
  /** The layer probe shown in the column (a saved probe.json, or the one just run), for the experiment and backbone of `probeKey`. */
  private probe: ProbeFile | undefined;
  private probeKey = '';
  /** Layer names must be layers of the table shown: anything else is refused before it can touch the file. */
  private readonly read = webviewInbox(
    'Layers',
    (raw) => parseLayerTreeRequest(raw, new Set(this.summary?.rows.map((r) => r.name) ?? [])),
    (line) => this.s.output.appendLine(line),
  );
  private refreshing: Promise<void> | undefined;
  private again = false;
  /** The last message posted, for tests and for re-sending. */
  last: LayerTreeMessage | undefined;
  /** The last notice posted (a test hook). */
  lastNotice: string | undefined;
  /** What the webview's probe chart holds (a test hook asks). */
  readonly chartReports = new ChartReports();
  /** The change whose notice said "unsaved", until the file is saved. */
  private unsavedChange: ExperimentChange | undefined;

  constructor(
    panel: vscode.WebviewPanel,
    readonly file: string,
    private readonly s: Services,
    onDispose: () => void,
  ) {
    super(panel, onDispose);
    panel.webview.options = webviewOptions(s.context.extensionUri);
    void loadWebviewHtml(panel.webview, s.context.extensionUri, 'layerTree', `Layers: ${path.basename(file, '.tlexp.json')}`, this, panel, (l) =>
      s.output.appendLine(l),
    );
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => void this.receive(raw)));
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document.uri.fsPath === file && e.contentChanges.length > 0) void this.refresh();
      }),
    );
    // Saved by another program (or reverted): the document follows the disk.
    this._register(
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d.uri.fsPath !== file) return;
        // The notice of a change said "unsaved": now it is not.
        if (this.unsavedChange) this.post({ type: 'notice', level: 'info', message: changeNotice(path.basename(file), this.unsavedChange, false) });
        this.unsavedChange = undefined;
        void this.refresh();
      }),
    );
    void this.refresh();
  }

  private post(unversioned: Unversioned<LayerTreeMessage>): void {
    const m = versioned<LayerTreeMessage>(LAYER_TREE_PROTOCOL, unversioned);
    if (m.type === 'notice') this.lastNotice = m.message;
    else if (m.type !== 'probe-status' && m.type !== 'describe-charts') this.last = m;
    if (!this.isDisposed) void this.panel.webview.postMessage(m);
  }

  private document(): Thenable<vscode.TextDocument> {
    return vscode.workspace.openTextDocument(vscode.Uri.file(this.file));
  }

  /** Re-reads the experiment (the editor's text, saved or not) and re-renders; coalesces bursts of typing. */
  refresh(force = false): Promise<void> {
    if (force) this.summaryKey = '';
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          await this.render();
        } while (this.again && !this.isDisposed);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  private async render(): Promise<void> {
    const base = path.basename(this.file);
    let text: string;
    try {
      text = (await this.document()).getText();
    } catch (e) {
      return this.post({ type: 'error', file: this.file, message: `Cannot open ${base}: ${(e as Error).message}`, retry: true });
    }
    const parsed = parseExperimentText(text, this.file);
    if (!parsed.ok) {
      const p = parsed.errors[0];
      return this.post({
        type: 'error',
        file: this.file,
        message: `${base}${p.path ? ` (${p.path})` : ''}: ${p.message}.${p.hint ? ` ${p.hint}` : ''} The layers show again once the file is valid.`,
        retry: false,
      });
    }
    const exp = parsed.value;
    const resolved = loadExperimentText(text, this.file);
    if (!resolved.ok) {
      // Layer names are only checked against the table shown; other problems block the view.
      const blocking = resolved.errors.filter((e) => e.path !== 'backbone.cutAt' && e.path !== 'strategy.unfreezeFrom');
      if (blocking.length > 0) {
        const lines = blocking.map((e) => `${e.path || base}: ${e.message}${e.hint ? ` ${e.hint}` : ''}`);
        return this.post({
          type: 'error',
          experiment: exp.name,
          file: this.file,
          message: `${base} has ${blocking.length === 1 ? 'a problem' : 'problems'}:\n${lines.join('\n')}`,
          retry: false,
        });
      }
    }
    // The layer table is listed without a cut, so every layer shows; the cut is drawn, not applied.
    const { cutAt: _cut, ...backbone } = resolved.ok ? resolved.value.backbone : exp.backbone;
    const key = JSON.stringify(backbone);
    if (!this.summary || key !== this.summaryKey) {
      this.post({ type: 'loading', experiment: exp.name, file: this.file });
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Transfer Lab: loading the layers of ${exp.name}'s backbone…` },
        () => this.s.trainers.inspect(backbone, path.dirname(this.file), cacheDirOf(this.s.context)),
      );
      if (this.isDisposed) return;
      if (!result.ok) {
        this.summary = undefined;
        const { reason, hint } = result.outcome;
        return this.post({
          type: 'error',
          experiment: exp.name,
          file: this.file,
          message: `Cannot load the backbone of ${base}: ${reason.replace(/\.?$/, '.')}${hint ? ` ${hint}` : ''}`,
          retry: true,
        });
      }
      this.summary = result.value;
      this.summaryKey = key;
    }
    const probeKey = `${exp.name}\n${key}`;
    if (probeKey !== this.probeKey) {
      this.probeKey = probeKey;
      this.probe = await readSavedProbe(this.s, this.file, exp.name, backbone);
      if (this.isDisposed) return;
    }
    this.post(
      buildLayerTree({ file: this.file, experiment: exp.name, summary: this.summary, cutAt: exp.backbone.cutAt, strategy: exp.strategy, probe: this.probe }),
    );
  }

  /** Runs the layer probe of the saved experiment file in a trainer, then shows it per block (and keeps it as probe.json). */
  private async runProbe(): Promise<ReceiveOutcome> {
    const name = path.basename(this.file, '.tlexp.json');
    this.post({ type: 'probe-status', running: true, message: 'Starting the probe…' });
    const r = await runProbeInTrainer(
      this.s,
      { experimentFile: this.file, probesDir: probesDirOf(this.file) },
      `Transfer Lab: probing the layers of ${name}`,
      (message) => this.post({ type: 'probe-status', running: true, message }),
    );
    if (this.isDisposed) return 'failed';
    if (!r.ok) {
      this.post({ type: 'probe-status', running: false, message: r.message });
      return 'failed';
    }
    this.probe = r.probe;
    this.post({ type: 'probe-status', running: false, message: `Probed in ${(r.probe.timings.totalMs / 1000).toFixed(1)} s. ${r.probe.advice.title}.` });
    await this.refresh();
    return 'rendered';
  }

  /** Applies a change to the experiment file as one undoable edit in its document (not saved). */
  async change(change: ExperimentChange): Promise<'changed' | 'unchanged' | 'failed'> {
    const doc = await this.document();
    const result = editsFor(doc.getText(), change);
    if (!result.ok) {
      this.post({ type: 'notice', level: 'error', message: `Not changed: ${result.message}.` });
      return 'failed';
    }
    if (result.edits.length === 0) return 'unchanged';
    const edit = new vscode.WorkspaceEdit();
    for (const e of result.edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
    if (!(await vscode.workspace.applyEdit(edit))) {
      this.post({ type: 'notice', level: 'error', message: `Could not edit ${path.basename(this.file)} (is it read-only?).` });
      return 'failed';
    }
    // Show the change where the user can read, save or undo it, without taking focus.
    if (!vscode.window.visibleTextEditors.some((e) => e.document === doc)) {
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, preserveFocus: true, preview: false });
    }
    this.unsavedChange = doc.isDirty ? change : undefined;
    this.post({ type: 'notice', level: 'info', message: changeNotice(path.basename(this.file), change, doc.isDirty) });
    return 'changed';
  }

  /** The webview's message handler: every message is validated before anything happens. */
  async receive(raw: unknown): Promise<ReceiveOutcome> {
    const request = this.read(raw);
    if (!request) return 'refused';
    switch (request.type) {
      case 'ready':
        if (this.last) this.post(this.last);
        else await this.refresh();
        return 'rendered';
      case 'retry':
        await this.refresh(true);
        return 'rendered';
      case 'open-file':
        await vscode.window.showTextDocument(await this.document(), { viewColumn: vscode.ViewColumn.One, preview: false });
        return 'rendered';
      case 'freeze-all':
        return this.change({ kind: 'freezeAll' });
      case 'train-from':
        if (this.summary?.kind !== 'layers' || !this.summary.fineTunable) return 'refused';
        // A layer the Keras rewrite split trains from its first part, so its weights train too.
        return this.change({ kind: 'trainFrom', layer: request.layer });
      case 'cut-at':
        return this.change({ kind: 'cutAt', layer: request.layer });
      case 'probe':
        return this.runProbe();
      case 'charts':
        this.chartReports.receive(request);
        return 'rendered';
    }
  }

  /** Test hook: what the panel's charts hold and drew, from the webview. */
  charts(): ReturnType<ChartReports['request']> {
    return this.chartReports.request(() => this.post({ type: 'describe-charts' }));
  }
}

export function registerLayerTree(s: Services): void {
  const panels = new Map<string, LayerTreePanel>();
  const open = (panel: vscode.WebviewPanel, file: string) => {
    const p = new LayerTreePanel(panel, file, s, () => panels.delete(file));
    panels.set(file, p);
    return p;
  };
  s.context.subscriptions.push(
    { dispose: () => [...panels.values()].forEach((p) => p.panel.dispose()) },
    vscode.commands.registerCommand('transferLab.showLayers', async (arg?: unknown) => {
      const file =
        experimentFileFrom(arg) ??
        (await pickExperiment(
          s,
          'Show the layers of which experiment?',
          'Transfer Lab: no experiment files (*.tlexp.json) in this workspace to show the layers of.',
        ));
      if (!file) return undefined;
      const existing = panels.get(file);
      if (existing) {
        existing.panel.reveal(undefined, true);
        return file;
      }
      const panel = vscode.window.createWebviewPanel(
        VIEW_TYPE,
        `Layers: ${path.basename(file, '.tlexp.json')}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, retainContextWhenHidden: true },
      );
      open(panel, file);
      return file;
    }),
    // After a window reload: the webview kept the experiment file's path in its state.
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      async deserializeWebviewPanel(panel, state: unknown) {
        const file = (state as { file?: unknown } | undefined)?.file;
        if (typeof file !== 'string' || !file.endsWith('.tlexp.json') || panels.has(file)) {
          panel.dispose();
          return;
        }
        open(panel, file);
      },
    }),
    // The webview's message handler itself, and what the panel last showed.
    ...testHooks(s.context, {
      'transferLab.layerTree.receive': (file: string, raw: unknown) => panels.get(file)?.receive(raw) ?? 'refused',
      'transferLab.layerTree.state': (file: string) => panels.get(file)?.last,
      'transferLab.layerTree.notice': (file: string) => panels.get(file)?.lastNotice,
      'transferLab.layerTree.charts': (file: string) => panels.get(file)?.charts(),
    }),
  );
}
