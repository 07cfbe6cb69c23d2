// The Experiments tree: one item per experiment file (*.tlexp.json) in the workspace.
// The files are the source of truth; a watcher keeps this in-memory list honest.
import * as vscode from 'vscode';
import * as path from 'node:path';

export const EXPERIMENT_GLOB = '**/*.tlexp.json';

export class ExperimentsTreeProvider implements vscode.TreeDataProvider<vscode.Uri>, vscode.Disposable {
  private files: vscode.Uri[] = [];
  private loaded: Promise<void> | undefined;
  private readonly changed = new vscode.EventEmitter<vscode.Uri | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher(EXPERIMENT_GLOB);
    const reload = () => this.reload();
    this.disposables.push(watcher, watcher.onDidCreate(reload), watcher.onDidDelete(reload), watcher.onDidChange(reload));
  }

  get count(): number {
    return this.files.length;
  }

  reload(): Promise<void> {
    this.loaded = (async () => {
      const found = await vscode.workspace.findFiles(EXPERIMENT_GLOB, '**/node_modules/**');
      this.files = found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
      this.changed.fire(undefined);
    })();
    return this.loaded;
  }

  async getChildren(element?: vscode.Uri): Promise<vscode.Uri[]> {
    if (element) return [];
    await (this.loaded ?? this.reload());
    return this.files;
  }

  getTreeItem(uri: vscode.Uri): vscode.TreeItem {
    const item = new vscode.TreeItem(path.basename(uri.fsPath, '.tlexp.json'), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = uri;
    item.description = vscode.workspace.asRelativePath(path.dirname(uri.fsPath));
    item.tooltip = uri.fsPath;
    item.iconPath = new vscode.ThemeIcon('beaker');
    item.contextValue = 'experiment';
    item.command = { command: 'vscode.open', title: 'Open Experiment', arguments: [uri] };
    return item;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
