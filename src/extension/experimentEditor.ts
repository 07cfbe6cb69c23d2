// Inline help in *.tlexp.json files: CodeLens (Run/Stop, Dashboard, Layers, the last run's
// result) and diagnostics beyond the JSON schema (validation with positions, a dataset
// folder that is missing or empty).
import * as vscode from 'vscode';
import * as path from 'node:path';
import { closest } from '../core/experimentValidation';
import { findCatalogEntry } from '../core/backboneCatalog';
import type { BackboneSpec, ResolvedExperiment } from '../core/experiment';
import { cacheDirOf } from './config';
import { checkDataset, checkText, rangeOfPath, toDiagnostics } from './experimentDiagnostics';
import { ExperimentFixes } from './experimentQuickFixes';
import type { Services } from './services';
import { formatDuration } from './experimentsTree';
import { summarizeRun, summaryLine } from '../core/runSummary';
import { Disposable, toDisposable } from './disposable';

const SELECTOR: vscode.DocumentSelector = { pattern: '**/*.tlexp.json' };
const isExperiment = (doc: vscode.TextDocument) => doc.uri.scheme === 'file' && doc.uri.fsPath.endsWith('.tlexp.json');

function ago(iso: string | undefined): string {
  if (!iso) return '';
  return `${formatDuration(Math.max(0, Date.now() - Date.parse(iso)))} ago`;
}

class ExperimentCodeLens extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly s: Services) {
    super();
    this._register(toDisposable(() => clearTimeout(this.pending)));
  }

  private pending: NodeJS.Timeout | undefined;

  /** At most a few refreshes a second, always trailing: a burst of epoch events ends in a refresh, and the lens keeps up with the status bar. */
  refresh(): void {
    if (this.isDisposed) return;
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, 250);
  }

  /** Now: a run's end should show at once, not after the throttle. */
  refreshNow(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.changed.fire();
  }

  /** The file's run while it trains; a run that sent 'finished' is over even if its process
   *  has not exited yet (it is still tidying up). */
  private training(file: string) {
    const live = this.s.runs.running(file);
    return live?.status === 'running' ? live : undefined;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const uri = doc.uri;
    const live = this.training(uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    if (!vscode.workspace.isTrusted) {
      lenses.push(
        new vscode.CodeLens(top, {
          title: '$(shield) Training disabled in Restricted Mode',
          command: 'workbench.trust.manage',
          tooltip: 'Trust this workspace to train and load models',
        }),
      );
    } else if (live) {
      lenses.push(new vscode.CodeLens(top, { title: '$(debug-stop) Stop', command: 'transferLab.stopRun', arguments: [uri] }));
    } else {
      lenses.push(new vscode.CodeLens(top, { title: '$(play) Run', command: 'transferLab.runExperiment', arguments: [uri] }));
    }
    if (vscode.workspace.isTrusted)
      lenses.push(
        new vscode.CodeLens(top, { title: '$(graph-scatter) Study', command: 'transferLab.runStudy', arguments: [uri], tooltip: 'Run Data-Efficiency Study' }),
      );
    lenses.push(
      new vscode.CodeLens(top, { title: '$(graph-line) Dashboard', command: 'transferLab.openDashboard', arguments: [uri] }),
      new vscode.CodeLens(top, { title: '$(list-tree) Layers', command: 'transferLab.showLayers', arguments: [uri] }),
    );
    const status = this.statusText(uri.fsPath);
    if (status) lenses.push(new vscode.CodeLens(top, { title: status, command: 'transferLab.openDashboard', arguments: [uri] }));
    return lenses;
  }

  private statusText(file: string): string | undefined {
    const live = this.training(file);
    // The same words as the status bar, the tree and the dashboards (core/runSummary.ts).
    if (live) return live.lastEpoch ? `running: ${summaryLine(summarizeRun({ valAccuracy: live.valAccuracy, live }))}` : `running: ${live.phase ?? 'starting'}`;
    const last = this.s.runIndex.forExperiment(file)[0];
    if (!last) return undefined;
    // The trainer's status event wins over a run.json the index has not re-read yet.
    const record = { ...last.record, status: this.s.runs.statusOf(last.dir) ?? last.record.status };
    if (record.status === 'failed') return `last: failed — ${record.failure?.message ?? 'see the run'}`.slice(0, 120);
    if (record.status === 'cancelled') return `last: cancelled ${ago(record.timings.endedAt)}`;
    if (record.status === 'running') return 'last: running in another window';
    const line = summaryLine(summarizeRun({ record, valAccuracy: [] }));
    return `last: ${line || record.status}, ${ago(record.timings.endedAt ?? record.timings.startedAt)}`;
  }
}

/**
 * Layer names per backbone, loaded once by a trainer process (never in the extension host),
 * only in a trusted workspace: loading a model runs what the workspace names.
 */
class LayerNames {
  private readonly known = new Map<string, Promise<string[] | undefined>>();
  constructor(private readonly s: Services) {}
  get(backbone: BackboneSpec, baseDir: string): Promise<string[] | undefined> | undefined {
    if (!vscode.workspace.isTrusted) return undefined;
    const { cutAt: _cut, ...spec } = backbone;
    const key = JSON.stringify(spec);
    let names = this.known.get(key);
    if (!names) {
      names = this.s.trainers.inspect(spec, baseDir, cacheDirOf(this.s.context)).then((r) => (r.ok ? r.value.rows.map((row) => row.name) : undefined));
      this.known.set(key, names);
    }
    return names;
  }
}

/** Checks that need the backbone: layer names that do not exist; a graph model asked to fine-tune. */
async function backboneDiagnostics(doc: vscode.TextDocument, exp: ResolvedExperiment, layers: LayerNames): Promise<vscode.Diagnostic[]> {
  const text = doc.getText();
  const out: vscode.Diagnostic[] = [];
  const catalog = 'catalog' in exp.backbone ? findCatalogEntry(exp.backbone.catalog) : undefined;
  if (catalog?.format === 'graph' && exp.strategy.kind !== 'feature-extraction') {
    const d = new vscode.Diagnostic(
      rangeOfPath(text, 'strategy.kind', doc),
      `strategy.kind: ${catalog.id} is a graph model, which cannot be ${exp.strategy.kind === 'scratch' ? 'trained from scratch' : 'fine-tuned'}. Use "feature-extraction", or a layers model (MobileNet v1/v2) to fine-tune.`,
      vscode.DiagnosticSeverity.Error,
    );
    d.source = 'Transfer Lab';
    d.code = 'graph-fine-tune';
    out.push(d);
    return out;
  }
  const named: [string, string | undefined][] = [
    ['backbone.cutAt', exp.backbone.cutAt],
    ['strategy.unfreezeFrom', exp.strategy.kind === 'fine-tune' ? exp.strategy.unfreezeFrom : undefined],
  ];
  if (!named.some(([, v]) => v)) return out;
  const names = await layers.get(exp.backbone, path.dirname(doc.uri.fsPath));
  if (!names || names.length === 0) return out;
  for (const [field, value] of named) {
    if (!value || names.includes(value)) continue;
    const near = closest(value, names);
    const d = new vscode.Diagnostic(
      rangeOfPath(text, field, doc),
      `${field}: the backbone has no layer '${value}'.${near ? ` Did you mean '${near}'?` : ''} Show Layers lists them.`,
      vscode.DiagnosticSeverity.Error,
    );
    d.source = 'Transfer Lab';
    d.code = near ? `layer:${near}` : 'layer';
    out.push(d);
  }
  return out;
}

export function registerExperimentEditor(s: Services): void {
  const lens = new ExperimentCodeLens(s);
  const layers = new LayerNames(s);
  const collection = vscode.languages.createDiagnosticCollection('transferLab');
  const disk = s.disk;
  const timers = new Map<string, NodeJS.Timeout>();
  const fixes = new ExperimentFixes();
  const check = (doc: vscode.TextDocument, delayMs = 400) => {
    if (!isExperiment(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    // Debounced: indexing a dataset folder on every keystroke would be wasted work.
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        const version = doc.version;
        const text = checkText(doc.getText(), doc.uri.fsPath);
        let found = text.found;
        const show = (extra: vscode.Diagnostic[] = []) => {
          fixes.remember(
            doc.uri,
            found.map((f) => f.problem),
          );
          collection.set(doc.uri, [...toDiagnostics(doc, found), ...extra]);
        };
        show();
        if (!text.dataset) return;
        const dataset = text.dataset;
        // The dataset walk (a worker thread) and the layer names (a trainer process) are
        // added when known, never blocking typing; an answer for an older version is dropped.
        void (async () => {
          const datasetFound = await checkDataset(dataset, disk).catch((e: Error) => {
            s.output.appendLine(`Dataset check of ${doc.uri.fsPath} failed: ${e.message}`);
            return [];
          });
          if (doc.version !== version) return;
          found = [...found, ...datasetFound];
          show();
          if (!text.resolved) return;
          const extra = await backboneDiagnostics(doc, text.resolved, layers);
          if (doc.version === version && extra.length > 0) show(extra);
        })();
      }, delayMs),
    );
  };
  s.context.subscriptions.push(
    lens,
    collection,
    toDisposable(() => timers.forEach((t) => clearTimeout(t))),
    vscode.languages.registerCodeLensProvider(SELECTOR, lens),
    vscode.languages.registerCodeActionsProvider(SELECTOR, fixes, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    s.runs.onDidChangeRuns(() => lens.refresh()),
    s.runs.onDidEvent(({ event }) => (event.type === 'finished' ? lens.refreshNow() : event.type === 'epoch' && lens.refresh())),
    s.runIndex.onDidChange(() => lens.refresh()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => lens.refresh()),
    vscode.workspace.onDidOpenTextDocument((d) => check(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => check(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      collection.delete(d.uri);
      fixes.forget(d.uri);
    }),
  );
  for (const doc of vscode.workspace.textDocuments) check(doc, 0);
}
