// The Study panel: a study's accuracy and training time against images per class, the sentence
// on where transfer stops paying off, and its cells. Reads study.json (the source of truth) when
// it changes on disk or the study's trainer reports a cell, sends the view a StudyState, and
// restores after a window reload from the study folder it showed.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { STUDY_FILE } from '../core/studyFile';
import { parseStudyViewMessage, type StudyState, type StudyViewMessage } from '../core/studyMessages';
import { buildStudyState } from '../core/studyView';
import { loadWebviewHtml, webviewOptions } from './webviewHtml';
import { webviewInbox } from './webviewInbox';
import { Disposable, toDisposable } from './disposable';
import { WebviewPanelOwner } from './webviewPanelOwner';
import { readStudyAsync } from './studyIndex';
import type { StudyRunner } from './studyRunner';

export const STUDY_VIEW_TYPE = 'transferLab.study';

/** What a panel last sent and heard (the test hook returns it). */
export interface StudySnapshot {
  studyDir: string;
  posted: StudyState[];
  rendered: Extract<StudyViewMessage, { type: 'rendered' }>[];
  problem?: string;
}

class StudyPanel extends WebviewPanelOwner {
  readonly snapshot: StudySnapshot;
  private state: StudyState | undefined;
  private runDirs: (string | null)[] = [];
  private viewReady = false;
  private loads = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly read = webviewInbox(
    'Study',
    (raw) => parseStudyViewMessage(raw, this.runDirs.length),
    (line) => this.output.appendLine(line),
  );

  constructor(
    panel: vscode.WebviewPanel,
    readonly studyDir: string,
    extensionUri: vscode.Uri,
    private readonly runner: StudyRunner,
    private readonly output: vscode.OutputChannel,
    onDispose: () => void,
  ) {
    super(panel, onDispose);
    this.snapshot = { studyDir, posted: [], rendered: [] };
    this._register(toDisposable(() => clearTimeout(this.timer)));
    panel.webview.options = webviewOptions(extensionUri);
    void loadWebviewHtml(panel.webview, extensionUri, 'study', 'Study', this, panel, (l) => output.appendLine(l));
    this._register(panel.webview.onDidReceiveMessage((raw) => this.receive(raw)));
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(studyDir), STUDY_FILE)));
    for (const on of [watcher.onDidChange, watcher.onDidCreate]) this._register(on(() => this.scheduleLoad()));
    // The trainer's events arrive before the file watcher's (and say whether the study is live).
    this._register(runner.onDidChange((live) => live.studyDir && path.resolve(live.studyDir) === path.resolve(studyDir) && this.scheduleLoad()));
    void this.load();
  }

  private scheduleLoad(): void {
    if (this.timer || this.isDisposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.load();
    }, 100);
  }

  /** Reads study.json and posts it; only the latest of overlapping reads counts. */
  private async load(): Promise<void> {
    const load = ++this.loads;
    const read = await readStudyAsync(this.studyDir);
    if (load !== this.loads || this.isDisposed) return;
    if (!read.ok) {
      this.snapshot.problem = read.error;
      void vscode.window.showWarningMessage(`Transfer Lab: cannot show the study: ${read.error}`);
      return;
    }
    const study = read.value;
    this.runDirs = study.cells.map((c) => (c.runId ? path.join(this.studyDir, c.runId) : null));
    this.state = buildStudyState(this.studyDir, study, this.runner.byStudyDir(this.studyDir) !== undefined);
    this.panel.title = `Study: ${study.experimentName}`;
    if (this.viewReady) this.post();
  }

  private post(): void {
    if (!this.state || this.isDisposed) return;
    this.snapshot.posted.push(this.state);
    void this.panel.webview.postMessage(this.state);
  }

  /** The webview's message handler (the test hook calls it too). */
  receive(raw: unknown): StudyViewMessage | undefined {
    const message = this.read(raw);
    if (!message) return undefined; // never trust the webview
    if (message.type === 'ready') {
      this.viewReady = true;
      this.post();
    } else if (message.type === 'rendered') this.snapshot.rendered.push(message);
    else if (message.type === 'open-run') {
      const dir = this.runDirs[message.cell];
      if (dir) void vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(dir));
      else void vscode.window.showInformationMessage('Transfer Lab: that cell has not run yet.');
    }
    return message;
  }
}

export class StudyPanels extends Disposable implements vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, StudyPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly runner: StudyRunner,
    private readonly output: vscode.OutputChannel,
  ) {
    super();
    this._register(toDisposable(() => [...this.panels.values()].forEach((p) => p.panel.dispose())));
  }

  /** Opens (or reveals) the panel of a study folder. */
  open(studyDir: string): StudySnapshot {
    const dir = path.resolve(studyDir);
    const existing = this.panels.get(dir);
    if (existing) {
      existing.panel.reveal(undefined, true);
      return existing.snapshot;
    }
    const panel = vscode.window.createWebviewPanel(
      STUDY_VIEW_TYPE,
      'Study',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      webviewOptions(this.extensionUri),
    );
    return this.attach(panel, dir).snapshot;
  }

  /** After a window reload: the webview kept its study folder in its state. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const dir = (state as { studyDir?: unknown } | undefined)?.studyDir;
    if (typeof dir !== 'string' || this.panels.has(path.resolve(dir)) || !(await readStudyAsync(dir)).ok) {
      panel.dispose();
      return;
    }
    this.attach(panel, path.resolve(dir));
  }

  snapshot(studyDir: string): StudySnapshot | undefined {
    return this.panels.get(path.resolve(studyDir))?.snapshot;
  }

  /** Test hook: hands `raw` to the panel's message handler as if its webview had posted it. */
  receive(studyDir: string, raw: unknown): StudyViewMessage | 'refused' | 'no panel' {
    const panel = this.panels.get(path.resolve(studyDir));
    return panel ? (panel.receive(raw) ?? 'refused') : 'no panel';
  }

  private attach(panel: vscode.WebviewPanel, dir: string): StudyPanel {
    const created = new StudyPanel(panel, dir, this.extensionUri, this.runner, this.output, () => this.panels.get(dir) === created && this.panels.delete(dir));
    this.panels.set(dir, created);
    return created;
  }
}
