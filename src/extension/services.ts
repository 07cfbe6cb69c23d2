// The object graph every feature module receives from the composition root (extension.ts).
import type * as vscode from 'vscode';
import type { TrainerHost } from './trainerHost';
import type { RunManager } from './runManager';
import type { RunIndex } from './runIndex';
import type { EnvironmentStore } from './environmentStore';
import type { ExperimentsTreeProvider, TreeNode } from './experimentsTree';
import type { OffThread } from './offThread';

export interface Services {
  context: vscode.ExtensionContext;
  output: vscode.OutputChannel;
  trainers: TrainerHost;
  runs: RunManager;
  runIndex: RunIndex;
  environment: EnvironmentStore;
  experiments: ExperimentsTreeProvider;
  treeView: vscode.TreeView<TreeNode>;
  /** Blocking disk work (dataset walks, catalog cache checks), in a worker thread: the host never waits on it. */
  disk: OffThread;
}
