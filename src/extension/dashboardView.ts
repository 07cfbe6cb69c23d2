// The compact Dashboard webview view in the Transfer Lab sidebar. Until runs exist it shows
// the training environment (backend, versions, memory) so a user sees what will train.
import * as vscode from 'vscode';
import { DASHBOARD_VIEW_PROTOCOL, parseDashboardViewRequest, type DashboardViewRun, type DashboardViewState } from '../core/dashboardViewMessages';
import type { EnvironmentStore } from './environmentStore';
import { loadWebviewHtml, webviewOptions } from './webviewHtml';
import { webviewInbox } from './webviewInbox';
import { Disposable, DisposableStore, toDisposable } from './disposable';

export class DashboardViewProvider extends Disposable implements vscode.WebviewViewProvider {
  static readonly viewId = 'transferLab.dashboard';
  private view: vscode.WebviewView | undefined;
  /** The state last built (a test hook reads it) and whether a resolved view was sent it. */
  lastState: { state: DashboardViewState; posted: boolean } | undefined;
  /** The listeners of the view now resolved: they live with it, not with the provider. */
  private viewListeners: DisposableStore | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly environment: EnvironmentStore,
    private readonly countExperiments: () => number,
    private readonly currentRun: () => DashboardViewRun | undefined = () => undefined,
  ) {
    super();
    this._register(environment.onDidChange(() => this.post()));
    this._register(toDisposable(() => this.viewListeners?.dispose()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    // The view is resolved again each time it is shown after being hidden and disposed (and
    // may be before the old one said so): the previous view's listeners go now, so one set
    // lives at a time instead of one per resolve.
    this.viewListeners?.dispose();
    const listeners = (this.viewListeners = new DisposableStore());
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    void loadWebviewHtml(view.webview, this.extensionUri, 'dashboardView', 'Transfer Lab Dashboard', listeners, view);
    const read = webviewInbox('Dashboard view', parseDashboardViewRequest);
    listeners.add(
      view.webview.onDidReceiveMessage((raw: unknown) => {
        const request = read(raw);
        if (!request) return; // Anything else from a webview is ignored, never trusted.
        if (request.type === 'ready') this.post();
        // Only run folders this view itself showed are passed on.
        else
          void vscode.commands.executeCommand(
            request.command,
            ...(request.runDir && request.runDir === this.currentRun()?.runDir ? [vscode.Uri.file(request.runDir)] : []),
          );
      }),
    );
    listeners.add(
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
        listeners.dispose();
      }),
    );
  }

  refresh(): void {
    this.post();
  }

  private post(): void {
    const state = this.environment.state;
    const message: DashboardViewState = {
      type: 'environment',
      protocol: DASHBOARD_VIEW_PROTOCOL,
      report: state && 'report' in state ? state.report : undefined,
      failure: state && 'failure' in state ? state.failure : undefined,
      experiments: this.countExperiments(),
      run: this.currentRun(),
    };
    this.lastState = { state: message, posted: !!this.view };
    if (this.view) void this.view.webview.postMessage(message);
  }
}
