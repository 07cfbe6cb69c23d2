// The compact Dashboard webview view in the Transfer Lab sidebar. Until runs exist it shows
// the training environment (backend, versions, memory) so a user sees what will train.
import * as vscode from 'vscode';
import { DASHBOARD_VIEW_PROTOCOL, parseDashboardViewRequest, type DashboardViewRun, type DashboardViewState } from '../core/dashboardViewMessages';
import type { EnvironmentStore } from './environmentStore';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { webviewInbox } from './webviewInbox';

export class DashboardViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'transferLab.dashboard';
  private view: vscode.WebviewView | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly environment: EnvironmentStore,
    private readonly countExperiments: () => number,
    private readonly currentRun: () => DashboardViewRun | undefined = () => undefined,
  ) {
    this.disposables.push(environment.onDidChange(() => this.post()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'dashboardView', 'Transfer Lab Dashboard');
    // The view is resolved again each time it is shown after being hidden and disposed: its
    // listeners live with it, not with the provider (which would collect one set per resolve).
    const listeners: vscode.Disposable[] = [];
    const read = webviewInbox('Dashboard view', parseDashboardViewRequest);
    listeners.push(
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
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
        for (const d of listeners) d.dispose();
      }),
    );
  }

  refresh(): void {
    this.post();
  }

  private post(): void {
    if (!this.view) return;
    const state = this.environment.state;
    const message: DashboardViewState = {
      type: 'environment',
      protocol: DASHBOARD_VIEW_PROTOCOL,
      report: state && 'report' in state ? state.report : undefined,
      failure: state && 'failure' in state ? state.failure : undefined,
      experiments: this.countExperiments(),
      run: this.currentRun(),
    };
    void this.view.webview.postMessage(message);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
