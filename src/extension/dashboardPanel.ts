// Dashboards: the compact view in the sidebar (and, to come, the panel beside the code).
import * as vscode from 'vscode';
import { DashboardViewProvider } from './dashboardView';
import type { Services } from './services';

export function registerDashboard(s: Services): void {
  const view = new DashboardViewProvider(s.context.extensionUri, s.environment, () => s.experiments.count);
  s.context.subscriptions.push(
    view,
    s.experiments.onDidChangeTreeData(() => view.refresh()),
    vscode.window.registerWebviewViewProvider(DashboardViewProvider.viewId, view),
  );
}
