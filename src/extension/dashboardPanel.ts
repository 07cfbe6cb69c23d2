// Dashboards: a panel beside the code per run (live curves, then the evaluation), restored
// after a window reload by a serializer, and the compact view in the sidebar.
import * as vscode from 'vscode';
import { testHooks } from './testHooks';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readMetricsAsync, readRunAsync, type RunRecord } from '../core/runStore';
import * as v from 'valibot';
import type { EvaluationReport } from '../core/metrics';
import { EvaluationReportSchema, type RunEvent } from '../core/runEvents';
import { versioned, type Unversioned } from '../core/messageProtocol';
import { CurveFeed, DASHBOARD_PROTOCOL, decimate, parseDashboardRequest, type CurvePoint, type DashboardCurves } from '../core/dashboardMessages';
import type { DashboardHeader, DashboardMessage, WrongImage } from '../core/dashboardMessages';
import { batchX, historyCurves, ownBaseRate } from '../core/dashboardCurves';
import { DashboardViewProvider } from './dashboardView';
import { SidebarRunFollower } from './sidebarRunFollower';
import { webviewInbox } from './webviewInbox';
import { experimentFileFrom, pickRun, runDirFrom } from './commands/runCommands';
import { loadWebviewHtml } from './webviewHtml';
import { Disposable, toDisposable } from './disposable';
import { WebviewPanelOwner } from './webviewPanelOwner';
import { pathExists } from './pathChecks';
import { ChartReports, type ChartsReport } from './chartReports';
import { summarizeRun, summaryLabels } from '../core/runSummary';
import type { Services } from './services';

export const DASHBOARD_VIEW_TYPE = 'transferLab.dashboard.panel';
/** Points sent when a panel opens; more are decimated (min/max kept) so messages stay small. */
const INITIAL_POINTS = 4000;
const FLUSH_MS = 200;

class DashboardPanel extends WebviewPanelOwner {
  private readonly feed = new CurveFeed();
  private timer: NodeJS.Timeout | undefined;
  /** Points the webview says it has drawn (a test hook and a sanity check). */
  renderedPoints = 0;
  outOfOrderPoints = 0;
  postedPoints = 0;
  /** run.json as last read, and the evaluation: re-read only when the run starts or ends. */
  private record: RunRecord | undefined;
  private evaluation: EvaluationReport | undefined;
  /** What the webview's charts hold (a test hook asks). */
  readonly chartReports = new ChartReports();
  private readonly read = webviewInbox('Dashboard', parseDashboardRequest, (line) => this.s.output.appendLine(line));

  constructor(
    panel: vscode.WebviewPanel,
    readonly runDir: string,
    private readonly s: Services,
    onDispose: () => void,
  ) {
    super(panel, onDispose);
    this._register(toDisposable(() => clearTimeout(this.timer)));
    void this.load();
    this._register(panel.webview.onDidReceiveMessage((raw: unknown) => this.receive(raw)));
    this._register(s.runs.onDidEvent(({ run, event }) => run.runDir && path.resolve(run.runDir) === path.resolve(runDir) && this.onEvent(event)));
  }

  /** The webview's options and HTML, once run.json (read without blocking) says where the run's dataset is. */
  private async load(): Promise<void> {
    const record = await readRunAsync(this.runDir);
    if (this.isDisposed) return;
    const { extensionUri } = this.s.context;
    const datasetRoot = record.ok ? record.value.dataset?.root : undefined;
    this.panel.webview.options = {
      enableScripts: true,
      // Thumbnails of misclassified images come from the run's dataset folder, nothing wider.
      localResourceRoots: [
        vscode.Uri.joinPath(extensionUri, 'dist', 'webview'),
        vscode.Uri.joinPath(extensionUri, 'media'),
        ...(datasetRoot ? [vscode.Uri.file(datasetRoot)] : []),
      ],
    };
    await loadWebviewHtml(this.panel.webview, extensionUri, 'dashboard', 'Transfer Lab Dashboard', this, this.panel, (l) => this.s.output.appendLine(l));
  }

  private receive(raw: unknown): void {
    const request = this.read(raw);
    if (!request) return;
    if (request.type === 'ready') void this.sendInit();
    else if (request.type === 'rendered') {
      this.renderedPoints = request.points;
      this.outOfOrderPoints = request.outOfOrder;
    } else if (request.type === 'charts') this.chartReports.receive(request);
    else if (request.type === 'reveal' && this.isWrongImage(request.path))
      void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(request.path));
  }

  private isWrongImage(p: string): boolean {
    return this.evaluation?.mostConfidentlyWrong.some((w) => w.path === p) ?? false;
  }

  /**
   * What the header shows. run.json and metrics.jsonl are read (asynchronously: the extension
   * host never waits on the disk) only when the live state cannot say: at the start, when the
   * run starts or ends, and for a run with no live trainer; not on every epoch.
   */
  private async header(reread: boolean): Promise<DashboardHeader> {
    const live = this.s.runs.byRunDir(this.runDir);
    if (reread || !this.record) {
      const read = await readRunAsync(this.runDir);
      this.record = read.ok ? read.value : undefined;
    }
    const r = this.record;
    // A finished run has no live state: its progress and validation accuracies are on disk.
    const e = live?.lastEpoch;
    const valAccuracy = live ? live.valAccuracy : await epochValAccuracyOf(this.runDir);
    const summary = summarizeRun({ record: r, valAccuracy, live });
    return {
      runId: r?.id ?? path.basename(this.runDir),
      experiment: r?.experiment.name ?? '',
      status: live?.status ?? r?.status ?? 'running',
      backend: live?.backend ?? r?.backend ?? '',
      epoch: summary.epoch,
      epochs: summary.epochs,
      etaSeconds: e?.etaSeconds,
      imagesPerSec: live?.lastBatch?.imagesPerSec ?? e?.imagesPerSec,
      learningRate: e?.learningRate,
      valAccuracy: summary.last?.value,
      accuracy: summaryLabels(summary),
      message:
        live?.message ??
        (live?.status === 'running' ? live.phase : undefined) ??
        (r?.failure ? `${r.failure.message}${r.failure.hint ? ` ${r.failure.hint}` : ''}` : undefined),
    };
  }

  private async readEvaluation(): Promise<EvaluationReport | undefined> {
    try {
      // Checked like a message: the webview refuses an init whose evaluation does not fit the schema.
      const parsed = v.safeParse(EvaluationReportSchema, JSON.parse(await fs.promises.readFile(path.join(this.runDir, 'eval.json'), 'utf8')));
      return parsed.success ? parsed.output : undefined;
    } catch {
      return undefined;
    }
  }

  private wrongImages(evaluation: EvaluationReport): WrongImage[] {
    return evaluation.mostConfidentlyWrong.map((w) => ({ ...w, uri: this.panel.webview.asWebviewUri(vscode.Uri.file(w.path)).toString() }));
  }

  private async sendInit(): Promise<void> {
    const curves = historyCurves((await readMetricsAsync(this.runDir)).records);
    this.feed.history(curves);
    for (const key of Object.keys(curves) as (keyof DashboardCurves)[]) curves[key] = decimate(curves[key], INITIAL_POINTS);
    const evaluation = (this.evaluation = await this.readEvaluation());
    const header = await this.header(true);
    this.postedPoints = Object.values(curves).reduce((n, c) => n + c.length, 0);
    const checkpointMetric = this.record?.config.train.checkpointMetric;
    this.post({
      type: 'init',
      header,
      curves,
      evaluation,
      wrong: evaluation ? this.wrongImages(evaluation) : undefined,
      runDir: this.runDir,
      checkpointMetric,
    });
    this.flush(); // live points that arrived while the webview loaded and are newer than the history
  }

  private onEvent(event: RunEvent): void {
    const push = (key: keyof DashboardCurves, p: CurvePoint) => this.feed.push(key, p);
    switch (event.type) {
      case 'batch': {
        const x = batchX(event.epoch, event.batch, event.batches);
        push('batchLoss', { x, y: event.loss });
        push('batchAccuracy', { x, y: event.accuracy });
        push('learningRate', { x, y: event.learningRate });
        const base = ownBaseRate(event.learningRate, event.baseLearningRate);
        if (base !== undefined) push('baseLearningRate', { x, y: base });
        break;
      }
      case 'epoch': {
        const x = event.epoch;
        push('epochLoss', { x, y: event.loss });
        push('epochAccuracy', { x, y: event.accuracy });
        push('valLoss', { x, y: event.valLoss });
        push('valAccuracy', { x, y: event.valAccuracy });
        void this.postHeader(false);
        break;
      }
      case 'evaluation':
        this.evaluation = event.report;
        this.post({ type: 'evaluation', evaluation: event.report, wrong: this.wrongImages(event.report) });
        break;
      case 'finished':
      case 'run-started':
        void this.postHeader(true);
        break;
      case 'phase':
        void this.postHeader(false);
        break;
      default:
        break;
    }
    // Batched: a few messages per second however fast the trainer reports.
    if (!this.isDisposed) this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const curves = this.feed.take();
    const count = Object.values(curves).reduce((n, c) => n + (c?.length ?? 0), 0);
    if (count === 0) return;
    this.postedPoints += count;
    this.post({ type: 'append', curves });
  }

  describeCharts(): void {
    this.post({ type: 'describe-charts' });
  }

  private async postHeader(reread: boolean): Promise<void> {
    this.post({ type: 'header', header: await this.header(reread) });
  }

  private post(message: Unversioned<DashboardMessage>): void {
    // A read that ends after the panel closed has nowhere to go.
    if (!this.isDisposed) void this.panel.webview.postMessage(versioned<DashboardMessage>(DASHBOARD_PROTOCOL, message));
  }
}

/** Validation accuracy per epoch (x = the epoch) from metrics.jsonl: what best and last are computed from. */
async function epochValAccuracyOf(runDir: string): Promise<{ x: number; y: number }[]> {
  const curve: { x: number; y: number }[] = [];
  for (const m of (await readMetricsAsync(runDir)).records) if (m.kind === 'epoch') curve.push({ x: m.epoch, y: m.val_accuracy ?? NaN });
  return curve;
}

export class DashboardPanels extends Disposable implements vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, DashboardPanel>();

  constructor(private readonly s: Services) {
    super();
    // Closing each panel disposes its DashboardPanel (through onDidDispose).
    this._register(toDisposable(() => [...this.panels.values()].forEach((p) => p.panel.dispose())));
    // A run deleted (Delete Run, or its folder removed on disk) closes its dashboard: it would show what is gone.
    this._register(s.runIndex.onDidChange(() => void this.closeDeleted()));
  }

  private async closeDeleted(): Promise<void> {
    for (const dashboard of [...this.panels.values()]) {
      if (!(await pathExists(dashboard.runDir))) dashboard.panel.dispose();
    }
  }

  /** Opens (or reveals) the dashboard of a run folder beside the code. */
  async open(runDir: string): Promise<DashboardPanel> {
    const key = path.resolve(runDir);
    let title = '';
    if (!this.panels.has(key)) {
      const record = await readRunAsync(runDir);
      title = `Dashboard: ${record.ok ? record.value.id : path.basename(runDir)}`;
    }
    // Looked up after the read: the same run may have been opened meanwhile.
    const existing = this.panels.get(key);
    if (existing) {
      existing.panel.reveal(vscode.ViewColumn.Beside, true);
      return existing;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      title,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      { enableScripts: true, retainContextWhenHidden: true },
    );
    return this.attach(panel, key);
  }

  private attach(panel: vscode.WebviewPanel, runDir: string): DashboardPanel {
    panel.iconPath = vscode.Uri.joinPath(this.s.context.extensionUri, 'media', 'activity.svg');
    const dashboard = new DashboardPanel(panel, runDir, this.s, () => this.panels.delete(runDir));
    this.panels.set(runDir, dashboard);
    return dashboard;
  }

  /** Restores a panel after a window reload, from the run folder the webview remembered. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const runDir = (state as { runDir?: unknown } | undefined)?.runDir;
    if (typeof runDir !== 'string' || !(await pathExists(path.join(runDir, 'run.json')))) {
      panel.dispose();
      return;
    }
    this.attach(panel, path.resolve(runDir));
  }

  /** Test hook: what the charts of a run's open panel hold and drew, from the webview. */
  async charts(runDir: string): Promise<ChartsReport | undefined> {
    const p = this.panels.get(path.resolve(runDir));
    return p?.chartReports.request(() => p.describeCharts());
  }

  /** Test hook: what each open panel has posted and rendered. */
  stats(): { runDir: string; posted: number; rendered: number; outOfOrder: number }[] {
    return [...this.panels.values()].map((p) => ({ runDir: p.runDir, posted: p.postedPoints, rendered: p.renderedPoints, outOfOrder: p.outOfOrderPoints }));
  }
}

/** A run folder for whatever the command got: run, experiment (its running or latest run), or nothing. */
async function resolveRunDir(s: Services, arg: unknown): Promise<string | undefined> {
  const direct = await runDirFrom(arg);
  if (direct) return direct;
  const file = experimentFileFrom(arg);
  if (file) {
    const live = s.runs.running(file);
    if (live) {
      // A run that has just started names its folder in its first event.
      for (let i = 0; i < 100 && !live.runDir && s.runs.running(file); i++) await new Promise((r) => setTimeout(r, 100));
      if (live.runDir) return live.runDir;
    }
    await s.runIndex.refresh();
    const latest = s.runIndex.forExperiment(file)[0];
    if (latest) return latest.dir;
    void vscode.window.showInformationMessage(`Transfer Lab: ${path.basename(file)} has no runs yet. Run it first.`);
    return undefined;
  }
  const active = s.runs.active().find((r) => r.runDir);
  return active?.runDir ?? pickRun(s, 'Open the dashboard of which run?');
}

export function registerDashboard(s: Services): DashboardPanels {
  const follower = new SidebarRunFollower(s.runs, s.runIndex, s.treeView);
  const view = new DashboardViewProvider(
    s.context.extensionUri,
    s.environment,
    () => s.experiments.count,
    () => follower.current(),
  );
  const panels = new DashboardPanels(s);
  s.context.subscriptions.push(
    follower,
    view,
    panels,
    follower.onDidChange(() => view.refresh()),
    s.experiments.onDidChangeTreeData(() => view.refresh()),
    vscode.window.registerWebviewViewProvider(DashboardViewProvider.viewId, view),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, panels),
    vscode.commands.registerCommand('transferLab.openDashboard', async (arg?: unknown) => {
      const runDir = await resolveRunDir(s, arg);
      if (!runDir) return undefined;
      await panels.open(runDir);
      return runDir;
    }),
    // What each open dashboard has drawn, and what the sidebar view was last sent.
    ...testHooks(s.context, {
      'transferLab.dashboardStats': () => panels.stats(),
      'transferLab.dashboardViewState': () => view.lastState,
      'transferLab.dashboardCharts': (runDir: string) => panels.charts(runDir),
    }),
  );
  return panels;
}
