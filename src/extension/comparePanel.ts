// Compare Runs: a panel beside the code with the selected runs' curves overlaid and a table
// of their config differences and final metrics. Reads run folders (the source of truth),
// sends the view a CompareState, follows changes of those folders, and restores after a
// reload from the run folders it showed.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { readMetricsAsync, readRunAsync, type MetricRecord, type RunRecord } from '../core/runStore';
import { buildCompareState, parseCompareViewMessage, type CompareState, type CompareViewMessage } from '../core/compareMessages';
import { loadWebviewHtml, webviewOptions } from './webviewHtml';
import { webviewInbox } from './webviewInbox';
import { Disposable, toDisposable } from './disposable';
import { WebviewPanelOwner } from './webviewPanelOwner';
import { runDirFrom } from './commands/runCommands';
import { pathExists } from './pathChecks';
import type { Services } from './services';

export const COMPARE_VIEW_TYPE = 'transferLab.compare';

/** What the panel last sent and heard (the test hook command returns it). */
export interface CompareSnapshot {
  runDirs: string[];
  posted: CompareState[];
  received: CompareViewMessage[];
  visible: boolean;
}

class ComparePanel extends WebviewPanelOwner {
  readonly snapshot: CompareSnapshot;
  private state: CompareState | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Counts the loads started: only the latest may set the state (reads finish in any order). */
  private loads = 0;
  /** The view said 'ready': a state loaded after that is posted, since no other 'ready' will ask for it. */
  private viewReady = false;
  private readonly read = webviewInbox(
    'Compare Runs',
    (raw) => parseCompareViewMessage(raw, this.runDirs.length),
    (line) => this.s.output.appendLine(line),
  );

  constructor(
    private readonly s: Services,
    panel: vscode.WebviewPanel,
    private runDirs: string[],
    onDispose: () => void,
  ) {
    super(panel, onDispose);
    this.snapshot = { runDirs, posted: [], received: [], visible: true };
    this._register(toDisposable(() => (this.snapshot.visible = false)));
    this._register(toDisposable(() => clearTimeout(this.refreshTimer)));
    const { extensionUri } = s.context;
    panel.webview.options = webviewOptions(extensionUri);
    // The shared shell links media/compare.css itself.
    void loadWebviewHtml(panel.webview, extensionUri, 'compare', 'Compare Runs', this, panel, (l) => s.output.appendLine(l));
    this._register(panel.onDidChangeViewState((e) => (this.snapshot.visible = e.webviewPanel.visible)));
    this._register(panel.webview.onDidReceiveMessage((raw) => this.receive(raw)));
    // A compared run still running (or rewritten) refreshes the view.
    this._register(s.runIndex.onDidChange(() => this.scheduleRefresh()));
    this._register(s.runs.onDidEvent(({ event }) => event.type === 'epoch' && this.scheduleRefresh()));
    void this.load().then((latest) => latest && this.viewReady && this.post());
  }

  async show(runDirs: string[]): Promise<void> {
    this.runDirs = runDirs;
    this.snapshot.runDirs = runDirs;
    if (await this.load()) this.post();
    if (!this.isDisposed) this.panel.reveal(vscode.ViewColumn.Beside);
  }

  /**
   * Reads the compared runs without blocking and makes them the state. Returns false, having
   * changed nothing, when a newer load started meanwhile (it wins) or the panel was closed.
   */
  private async load(): Promise<boolean> {
    const load = ++this.loads;
    // A deleted run (its folder gone) drops out of the comparison; with none left the panel closes.
    const present = await Promise.all(this.runDirs.map((dir) => pathExists(dir)));
    if (load !== this.loads || this.isDisposed) return false;
    const runDirs = (this.runDirs = this.runDirs.filter((_, i) => present[i]));
    this.snapshot.runDirs = runDirs;
    if (runDirs.length === 0) {
      this.panel.dispose();
      return false;
    }
    const reads = await Promise.all(
      runDirs.map(async (dir) => {
        const record = await readRunAsync(dir);
        return { dir, record, metrics: record.ok ? (await readMetricsAsync(dir)).records : [] };
      }),
    );
    if (load !== this.loads || this.isDisposed) return false;
    const runs: { record: RunRecord; metrics: MetricRecord[] }[] = [];
    const problems: string[] = [];
    for (const { dir, record, metrics } of reads) {
      if (record.ok) runs.push({ record: record.value, metrics });
      else problems.push(`${path.basename(dir)}: ${record.errors[0].message}`);
    }
    if (problems.length) void vscode.window.showWarningMessage(`Transfer Lab: some runs cannot be compared: ${problems.join('; ')}`);
    this.state = { ...buildCompareState(runs), runDirs };
    this.panel.title = `Compare: ${runs.map((r) => r.record.experiment.name).join(' vs ')}`.slice(0, 80);
    return true;
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer || this.isDisposed) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.load().then((latest) => latest && this.post());
    }, 500);
  }

  private post(): void {
    if (!this.state || this.isDisposed) return;
    this.snapshot.posted.push(this.state);
    void this.panel.webview.postMessage(this.state);
  }

  private receive(raw: unknown): void {
    const message = this.read(raw);
    if (!message) return; // never trust the webview
    this.snapshot.received.push(message);
    if (message.type === 'ready') {
      this.viewReady = true;
      this.post();
    }
    if (message.type === 'open-dashboard') void vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(this.runDirs[message.run]));
  }
}

/** Run folders from what VS Code passes: (clicked, selected[]) from the tree, Uris, strings. */
export async function runDirsFrom(arg: unknown, selected: unknown): Promise<string[]> {
  const list = Array.isArray(selected) && selected.length > 0 ? selected : Array.isArray(arg) ? arg : arg !== undefined ? [arg] : [];
  const dirs = (await Promise.all(list.map((a) => runDirFrom(a)))).filter((d): d is string => d !== undefined);
  return [...new Set(dirs)];
}

export class CompareRuns extends Disposable {
  private current: ComparePanel | undefined;
  private lastSnapshot: CompareSnapshot | undefined;

  constructor(private readonly s: Services) {
    super();
    // The open panel goes with this (closing it disposes the ComparePanel through onDidDispose).
    this._register(toDisposable(() => this.current?.panel.dispose()));
    this._register(
      vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const dirs = (state as { runDirs?: unknown } | undefined)?.runDirs;
          const candidates = Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string') : [];
          const readable = await Promise.all(candidates.map(async (d) => (await readRunAsync(d)).ok));
          const runDirs = candidates.filter((_, i) => readable[i]);
          if (runDirs.length === 0) {
            panel.dispose();
            return;
          }
          this.attach(panel, runDirs);
        },
      }),
    );
  }

  get snapshot(): CompareSnapshot | undefined {
    return this.current?.snapshot ?? this.lastSnapshot;
  }

  async command(arg?: unknown, selected?: unknown): Promise<CompareSnapshot | undefined> {
    let dirs = await runDirsFrom(arg, selected);
    if (dirs.length < 2) dirs = (await this.pickRuns(dirs)) ?? [];
    if (dirs.length < 2) return undefined;
    if (this.current) await this.current.show(dirs);
    else {
      const panel = vscode.window.createWebviewPanel(
        COMPARE_VIEW_TYPE,
        'Compare Runs',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
        { ...webviewOptions(this.s.context.extensionUri), retainContextWhenHidden: false },
      );
      this.attach(panel, dirs);
    }
    return this.current?.snapshot;
  }

  private attach(panel: vscode.WebviewPanel, runDirs: string[]): void {
    this.current?.panel.dispose();
    const created: ComparePanel = new ComparePanel(this.s, panel, runDirs, () => {
      this.lastSnapshot = created.snapshot;
      if (this.current === created) this.current = undefined;
    });
    this.current = created;
  }

  private async pickRuns(preselected: string[]): Promise<string[] | undefined> {
    await this.s.runIndex.refresh();
    const runs = this.s.runIndex.all();
    if (runs.length < 2) {
      void vscode.window.showInformationMessage(
        `Transfer Lab: comparing needs at least two runs; this workspace has ${runs.length}. Run an experiment (or another strategy) first.`,
      );
      return undefined;
    }
    const items = runs.map((e) => ({
      label: e.record.id,
      description: `${e.record.experiment.name} · ${e.record.config.strategy.kind} · ${e.record.status}${typeof e.record.metrics.bestValAccuracy === 'number' && Number.isFinite(e.record.metrics.bestValAccuracy) ? ` · val ${(e.record.metrics.bestValAccuracy * 100).toFixed(1)}%` : ''}`,
      picked: preselected.includes(e.dir),
      dir: e.dir,
    }));
    const picks = await vscode.window.showQuickPick(items, {
      canPickMany: true,
      title: 'Transfer Lab: Compare Runs',
      placeHolder: 'Pick two or more runs to compare (Space to select)',
      matchOnDescription: true,
    });
    if (!picks) return undefined;
    if (picks.length < 2) {
      void vscode.window.showInformationMessage('Transfer Lab: pick at least two runs to compare.');
      return undefined;
    }
    return picks.map((p) => p.dir);
  }
}
