// Composition root: builds the object graph once and registers every disposable.
// No logic lives here, and nothing here (or below) ever loads TensorFlow.js: training,
// inspection and prediction run in trainer child processes.
import * as vscode from 'vscode';
import { TrainerHost } from './trainerHost';
import { EnvironmentStore } from './environmentStore';
import { showEnvironment } from './commands/showEnvironment';
import { ExperimentsTreeProvider, type TreeNode } from './experimentsTree';
import { RunManager } from './runManager';
import { RunIndex } from './runIndex';
import { OffThread } from './offThread';
import { registerRunCommands } from './commands/runCommands';
import { registerStatusBar } from './statusBar';
import { registerDashboard } from './dashboardPanel';
import { registerLayerTree } from './layerTreePanel';
import { registerWorkflows } from './workflows';
import { registerExperimentEditor } from './experimentEditor';
import { registerInstallNativeBackend, registerNativeBackendOffer } from './commands/installNativeBackend';
import { registerStudies } from './studies';
import type { Services } from './services';

/** What the extension exports, for integration tests and other extensions. */
export interface TransferLabApi {
  trainers: Pick<TrainerHost, 'activePids' | 'onDidStartTrainer'>;
  environment: Pick<EnvironmentStore, 'state' | 'onDidChange'>;
  runs: Pick<RunManager, 'active' | 'running' | 'onDidEvent' | 'onDidChangeRuns' | 'statusOf'>;
  runIndex: Pick<RunIndex, 'all' | 'get' | 'forExperiment' | 'refresh'>;
  treeView: vscode.TreeView<TreeNode>;
  /** How long activate() took (the benchmark reads it; TensorFlow is never loaded here). */
  activationMs: number;
}

export function activate(context: vscode.ExtensionContext): TransferLabApi {
  const started = performance.now();
  const output = vscode.window.createOutputChannel('Transfer Lab');
  const trainers = new TrainerHost(context.extensionPath, output, context.globalStorageUri.fsPath);
  const environment = new EnvironmentStore();
  const experiments = new ExperimentsTreeProvider();
  const runIndex = new RunIndex();
  const runs = new RunManager(trainers, context, output);
  experiments.attachRuns(runIndex, runs);
  const disk = OffThread.forExtension(context.extensionPath);
  const treeView = vscode.window.createTreeView('transferLab.experiments', { treeDataProvider: experiments, canSelectMany: true, showCollapseAll: true });

  context.subscriptions.push(
    output,
    trainers,
    environment,
    experiments,
    runIndex,
    runs,
    treeView,
    disk,
    // A run starting or ending rewrote its run.json: refresh without waiting for the watcher.
    runs.onDidChangeRuns(() => runIndex.scheduleRefresh()),
    // The trainer wrote its end to run.json before it said 'finished' (its process may still be tidying up).
    runs.onDidEvent(({ event }) => event.type === 'finished' && runIndex.scheduleRefresh()),
    vscode.commands.registerCommand('transferLab.showEnvironment', () => showEnvironment(trainers, output, environment)),
    vscode.commands.registerCommand('transferLab.refreshExperiments', async () => {
      await runIndex.refresh();
      await experiments.reload();
    }),
  );
  const services: Services = { context, output, trainers, runs, runIndex, environment, experiments, treeView, disk };
  registerRunCommands(services);
  registerStatusBar(services);
  registerDashboard(services);
  registerLayerTree(services);
  registerWorkflows(services);
  registerExperimentEditor(services);
  registerInstallNativeBackend(services);
  registerNativeBackendOffer(services);
  registerStudies(services);
  return { trainers, environment, runs, runIndex, treeView, activationMs: performance.now() - started };
}

export function deactivate(): void {
  // Everything is on context.subscriptions; VS Code disposes it (and so ends trainers).
}
