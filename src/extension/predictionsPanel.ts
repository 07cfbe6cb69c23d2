// The Predictions panel (host side): shows one prediction set (images, top-k bars, the model,
// a folder's accuracy) and the recent ones; takes drops and picks. It only renders and relays:
// the Predictions controller (predictions.ts) decides what runs.
import * as vscode from 'vscode';
import * as path from 'node:path';
import {
  PREDICTIONS_PROTOCOL,
  parsePredictionsRequest,
  type PredictionSet,
  type PredictionsRequest,
  type PredictionsState,
  type HistoryItem,
} from '../core/predictionsMessages';
import { loadWebviewHtml, webviewOptions } from './webviewHtml';
import { webviewInbox } from './webviewInbox';
import { toDisposable } from './disposable';
import { WebviewPanelOwner } from './webviewPanelOwner';
import type { ReadyWatch } from './webviewReadyWatch';

export const PREDICTIONS_VIEW_TYPE = 'transferLab.predictions';

/** What the panel last sent and heard (the test hook command returns it). */
export interface PredictionsSnapshot {
  posted: PredictionsState[];
  received: PredictionsRequest[];
  visible: boolean;
}

export function createPredictionsWebviewPanel(extensionUri: vscode.Uri): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(
    PREDICTIONS_VIEW_TYPE,
    'Predictions',
    { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false },
    { ...webviewOptions(extensionUri), retainContextWhenHidden: false },
  );
}

export class PredictionsPanel extends WebviewPanelOwner {
  readonly snapshot: PredictionsSnapshot = { posted: [], received: [], visible: true };
  private roots: vscode.Uri[];
  private viewReady = false;
  /** The page's load, and its watch (webviewReadyWatch.ts). */
  private readonly page: Promise<ReadyWatch | undefined>;
  private last: { current?: PredictionSet; history: HistoryItem[] } = { history: [] };
  private readonly read = webviewInbox(
    'Predictions',
    (raw) => parsePredictionsRequest(raw, this.last.current?.rows.length ?? 0),
    (line) => this.log(line),
  );

  constructor(
    panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly onRequest: (request: PredictionsRequest) => void,
    private readonly log: (line: string) => void,
    onDispose: () => void,
  ) {
    super(panel, onDispose);
    this.roots = [...(webviewOptions(extensionUri).localResourceRoots ?? [])];
    panel.webview.options = { ...webviewOptions(extensionUri), localResourceRoots: this.roots };
    this.page = loadWebviewHtml(panel.webview, extensionUri, 'predictions', 'Predictions', this, panel, log);
    this._register(toDisposable(() => (this.snapshot.visible = false)));
    this._register(panel.onDidChangeViewState((e) => (this.snapshot.visible = e.webviewPanel.visible)));
    this._register(panel.webview.onDidReceiveMessage((raw) => this.receive(raw)));
  }

  /**
   * Lets the webview load images from these folders. A new root re-sets the webview's options,
   * which reloads it; it then says 'ready' and gets the state again.
   */
  allow(folders: readonly string[]): void {
    const known = new Set(this.roots.map((r) => r.fsPath));
    const added = [...new Set(folders)].filter((f) => !known.has(f) && ![...known].some((k) => f.startsWith(k + path.sep)));
    if (added.length === 0) return;
    this.roots = [...this.roots, ...added.map((f) => vscode.Uri.file(f))];
    this.panel.webview.options = { ...webviewOptions(this.extensionUri), localResourceRoots: this.roots };
    // A reload in code-server can lose the page's script (net::ERR_ABORTED): watch it as the first load.
    void this.page.then((watch) => watch?.rearm());
  }

  show(current: PredictionSet | undefined, history: HistoryItem[]): void {
    this.last = { current, history };
    // The images' folders (a restored panel's too), so the webview may show them.
    if (current) this.allow(current.rows.map((r) => r.root ?? path.dirname(r.file)));
    if (this.viewReady) this.post();
  }

  reveal(): void {
    if (!this.isDisposed) this.panel.reveal(vscode.ViewColumn.Beside, false);
  }

  private post(): void {
    if (this.isDisposed) return;
    const { current, history } = this.last;
    const state: PredictionsState = {
      type: 'state',
      protocol: PREDICTIONS_PROTOCOL,
      current,
      images: current?.rows.map((r) => (r.error ? '' : this.panel.webview.asWebviewUri(vscode.Uri.file(r.file)).toString())) ?? [],
      history,
    };
    this.snapshot.posted.push(state);
    if (this.snapshot.posted.length > 50) this.snapshot.posted.splice(0, this.snapshot.posted.length - 50);
    void this.panel.webview.postMessage(state);
  }

  private receive(raw: unknown): void {
    const request = this.read(raw);
    if (!request) return; // never trust the webview
    this.snapshot.received.push(request);
    if (request.type === 'ready') {
      this.viewReady = true;
      this.post();
    }
    if (request.type === 'open-image') {
      const row = this.last.current?.rows[request.row];
      if (row) void vscode.commands.executeCommand('vscode.open', vscode.Uri.file(row.file), { viewColumn: vscode.ViewColumn.Active, preview: true });
    }
    this.onRequest(request);
  }
}
