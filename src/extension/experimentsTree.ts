// The Experiments tree: experiment files (*.tlexp.json) in the workspace, each with its
// runs (newest first). Files are the source of truth; watchers and run events keep it live.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { RunEntry } from '../core/runStore';
import type { RunIndex } from './runIndex';
import type { RunManager, LiveRun } from './runManager';
import { Disposable } from './disposable';
import { runLabel, shortDate } from '../core/runLabel';
import { groupRunsByStudy } from '../core/studyGrouping';
import { listRunsAsync } from '../core/runStore';
import type { StudyIndex } from './studyIndex';
import type { StudyRunner } from './studyRunner';
import { studyItem } from './studyTreeItem';
import { summarizeRun, summaryLabels } from '../core/runSummary';

export const EXPERIMENT_GLOB = '**/*.tlexp.json';

export type ExperimentNode = { kind: 'experiment'; uri: vscode.Uri };
/** `study`: the study folder the run is a cell of (it is shown under the study, not the experiment). */
export type RunNode = { kind: 'run'; dir: string; entry?: RunEntry; live?: LiveRun; experiment: vscode.Uri; study?: string };
/** A data-efficiency study of the experiment: its cells' runs are its children. */
export type StudyNode = { kind: 'study'; dir: string; experiment: vscode.Uri };
export type TreeNode = ExperimentNode | RunNode | StudyNode;

const STATUS_ICON: Record<string, vscode.ThemeIcon> = {
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  succeeded: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  cancelled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
};

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

export class ExperimentsTreeProvider extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private files: vscode.Uri[] = [];
  private loaded: Promise<void> | undefined;
  private readonly changed = this._register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private runIndex: RunIndex | undefined;
  private runManager: RunManager | undefined;

  constructor() {
    super();
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(EXPERIMENT_GLOB));
    const reload = () => void this.reload();
    this._register(watcher.onDidCreate(reload));
    this._register(watcher.onDidDelete(reload));
  }

  /** Runs come from the index (files) and the manager (live trainers). */
  attachRuns(index: RunIndex, manager: RunManager): void {
    this.runIndex = index;
    this.runManager = manager;
    const refresh = () => this.changed.fire(undefined);
    this._register(index.onDidChange(refresh));
    this._register(manager.onDidChangeRuns(refresh));
    this._register(manager.onDidEvent(({ event }) => (event.type === 'epoch' || event.type === 'finished') && refresh()));
  }

  private studies: StudyIndex | undefined;
  private studyRunner: StudyRunner | undefined;

  /** Studies come from their study.json files (the index) and the runner (live trainers). */
  attachStudies(index: StudyIndex, runner: StudyRunner): void {
    this.studies = index;
    this.studyRunner = runner;
    this._register(index.onDidChange(() => this.changed.fire(undefined)));
    this._register(runner.onDidChange(() => this.changed.fire(undefined)));
  }

  get count(): number {
    return this.files.length;
  }

  get experimentFiles(): vscode.Uri[] {
    return this.files;
  }

  reload(): Promise<void> {
    this.loaded = (async () => {
      const found = await vscode.workspace.findFiles(EXPERIMENT_GLOB, '**/node_modules/**');
      this.files = found.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
      this.changed.fire(undefined);
    })();
    return this.loaded;
  }

  async getChildren(element?: TreeNode): Promise<TreeNode[]> {
    if (!element) {
      await (this.loaded ?? this.reload());
      return this.files.map((uri) => ({ kind: 'experiment', uri }));
    }
    if (element.kind === 'run') return [];
    if (element.kind === 'study') return this.studyChildren(element);
    const file = element.uri.fsPath;
    const studies = this.studies?.forExperiment(file) ?? [];
    // Cells' runs live in their study's folder; any listed beside the experiment's runs go under their study too.
    const entries = groupRunsByStudy(this.runIndex?.forExperiment(file) ?? [], studies).loose;
    const studyNodes: StudyNode[] = studies.map((st) => ({ kind: 'study', dir: st.dir, experiment: element.uri }));
    const live = this.runManager?.running(file);
    const nodes: RunNode[] = entries.map((entry) => ({
      kind: 'run',
      dir: entry.dir,
      entry,
      experiment: element.uri,
      live: live?.runDir === entry.dir ? live : undefined,
    }));
    // A run that has started but whose run.json the index has not read yet.
    if (live?.runDir && !nodes.some((n) => n.dir === live.runDir)) nodes.unshift({ kind: 'run', dir: live.runDir, live, experiment: element.uri });
    return [...studyNodes, ...nodes];
  }

  /** A study's cell runs, newest first: the run folders in the study folder. */
  private async studyChildren(node: StudyNode): Promise<RunNode[]> {
    const listing = await listRunsAsync(node.dir);
    return listing.runs.map((entry) => ({ kind: 'run', dir: entry.dir, entry, experiment: node.experiment, study: node.dir }));
  }

  getParent(element: TreeNode): TreeNode | undefined {
    if (element.kind === 'run' && element.study) return { kind: 'study', dir: element.study, experiment: element.experiment };
    return element.kind === 'experiment' ? undefined : { kind: 'experiment', uri: element.experiment };
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'study') return studyItem(node, this.studies?.get(node.dir), this.studyRunner?.byStudyDir(node.dir));
    return node.kind === 'experiment' ? this.experimentItem(node) : this.runItem(node);
  }

  private experimentItem(node: ExperimentNode): vscode.TreeItem {
    const running = this.runManager?.running(node.uri.fsPath);
    const runs = this.runIndex?.forExperiment(node.uri.fsPath).length ?? 0;
    const studies = this.studies?.forExperiment(node.uri.fsPath).length ?? 0;
    const item = new vscode.TreeItem(
      path.basename(node.uri.fsPath, '.tlexp.json'),
      runs + studies > 0 || running ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `experiment:${node.uri.fsPath}`;
    item.resourceUri = node.uri;
    item.description = running ? 'running…' : vscode.workspace.asRelativePath(path.dirname(node.uri.fsPath));
    item.tooltip = `${node.uri.fsPath}\n${runs} run(s)${studies ? `, ${studies} stud${studies === 1 ? 'y' : 'ies'}` : ''}`;
    item.iconPath = new vscode.ThemeIcon('beaker');
    item.contextValue = running ? 'experiment.running' : 'experiment';
    item.command = { command: 'vscode.open', title: 'Open Experiment', arguments: [node.uri] };
    return item;
  }

  private runItem(node: RunNode): vscode.TreeItem {
    const record = node.entry?.record;
    const live = node.live;
    // The trainer's status event wins over a run.json the index has not re-read yet (no spinner after Stop).
    const status = this.runManager?.statusOf(node.dir) ?? record?.status ?? live?.status ?? 'running';
    // The label and the tooltip in the same words as the CodeLens, the status bar and the dashboards (core/runSummary.ts).
    const summary = summarizeRun({ record: record && { ...record, status }, valAccuracy: live?.valAccuracy ?? [], live: live && { ...live, status } });
    const item = new vscode.TreeItem(runLabel(record?.config.strategy.kind, summary), vscode.TreeItemCollapsibleState.None);
    item.id = `run:${node.dir}`;
    item.iconPath = STATUS_ICON[status] ?? STATUS_ICON.running;
    item.contextValue = `run.${status}`;
    // The date first: the label says strategy and score, the run id is in the tooltip.
    const started = record?.timings?.startedAt ?? (live ? new Date(live.startedAt).toISOString() : undefined);
    const parts: string[] = started ? [shortDate(started)] : [];
    const labels = summaryLabels(summary);
    const duration = record?.timings?.durationMs ?? (live ? Date.now() - live.startedAt : undefined);
    if (typeof duration === 'number') parts.push(formatDuration(duration));
    const backend = record?.backend ?? live?.backend;
    if (backend) parts.push(backend);
    item.description = parts.join(' · ');
    const config = record?.config;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendMarkdown(
      `**${record?.experiment.name ?? path.basename(node.dir)}** — ${status}\n\nrun \`${record?.id ?? live?.runId ?? path.basename(node.dir)}\`\n\n`,
    );
    if (config) {
      const b = config.backbone;
      const backbone = 'catalog' in b ? b.catalog : 'path' in b ? path.basename(b.path) : b.url;
      tooltip.appendMarkdown(
        `- backbone: \`${backbone}\`${b.cutAt ? ` cut at \`${b.cutAt}\`` : ''}\n- strategy: ${config.strategy.kind}\n- epochs ${config.train.epochs}, batch ${config.train.batchSize}, ${config.train.optimizer} ${config.train.learningRate}\n`,
      );
    }
    for (const label of [labels.last, labels.best, labels.evaluation, labels.weights]) if (label) tooltip.appendMarkdown(`- ${label}\n`);
    if (record?.failure) tooltip.appendMarkdown(`\n$(error) ${record.failure.message}${record.failure.hint ? ` — ${record.failure.hint}` : ''}\n`);
    item.tooltip = tooltip;
    item.command = { command: 'transferLab.openDashboard', title: 'Open Dashboard', arguments: [vscode.Uri.file(node.dir)] };
    return item;
  }
}
