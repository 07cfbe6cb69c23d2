// Composition root: builds the object graph once and registers every disposable.
// No logic lives here, and nothing here (or below) ever loads TensorFlow.js: training and
// even backend detection run in the trainer child process.
import * as vscode from 'vscode';
import { TrainerHost } from './trainerHost';
import { EnvironmentStore } from './environmentStore';
import { showEnvironment } from './commands/showEnvironment';
import { ExperimentsTreeProvider } from './experimentsTree';
import { DashboardViewProvider } from './dashboardView';

/** What the extension exports, for integration tests and other extensions. */
export interface TransferLabApi {
  trainers: Pick<TrainerHost, 'activePids' | 'onDidStartTrainer'>;
  environment: Pick<EnvironmentStore, 'state' | 'onDidChange'>;
}

export function activate(context: vscode.ExtensionContext): TransferLabApi {
  const output = vscode.window.createOutputChannel('Transfer Lab');
  const trainers = new TrainerHost(context.extensionPath, output);
  const environment = new EnvironmentStore();
  const experiments = new ExperimentsTreeProvider();
  const dashboard = new DashboardViewProvider(context.extensionUri, environment, () => experiments.count);

  context.subscriptions.push(
    output,
    trainers,
    environment,
    experiments,
    dashboard,
    experiments.onDidChangeTreeData(() => dashboard.refresh()),
    vscode.window.createTreeView('transferLab.experiments', { treeDataProvider: experiments, showCollapseAll: false }),
    vscode.window.registerWebviewViewProvider(DashboardViewProvider.viewId, dashboard),
    vscode.commands.registerCommand('transferLab.showEnvironment', () => showEnvironment(trainers, output, environment)),
    vscode.commands.registerCommand('transferLab.refreshExperiments', () => experiments.reload()),
  );
  return { trainers, environment };
}

export function deactivate(): void {
  // Everything is on context.subscriptions; VS Code disposes it (and so ends trainers).
}
