// Inline help in *.tlexp.json files: CodeLens (Run/Stop, Dashboard, Layers, the last run's
// result) and diagnostics beyond the JSON schema (validation with positions, a dataset
// folder that is missing or empty).
import * as vscode from 'vscode';
import * as path from 'node:path';
import { closest, parseExperimentText, resolveExperiment } from '../core/experimentValidation';
import { findCatalogEntry } from '../core/backboneCatalog';
import type { BackboneSpec, ResolvedExperiment } from '../core/experiment';
import { cacheDirOf } from './config';
import type { OffThread } from './offThread';
import type { InputProblem } from '../core/experiment';
import { jsonFieldAt, locateJsonPath, outlineJson } from '../core/jsonPositions';
import type { Services } from './services';
import { formatDuration } from './experimentsTree';
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

  /** At most one refresh a second, always trailing: a burst of epoch events ends in a refresh. */
  refresh(): void {
    if (this.isDisposed) return;
    this.pending ??= setTimeout(() => {
      this.pending = undefined;
      this.changed.fire();
    }, 1000);
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
    if (live) {
      const e = live.lastEpoch;
      return e ? `running: epoch ${e.epoch}/${e.epochs}, val ${(e.valAccuracy * 100).toFixed(1)}%` : `running: ${live.phase ?? 'starting'}`;
    }
    const last = this.s.runIndex.forExperiment(file)[0]?.record;
    if (!last) return undefined;
    if (last.status === 'failed') return `last: failed — ${last.failure?.message ?? 'see the run'}`.slice(0, 120);
    if (last.status === 'cancelled') return `last: cancelled ${ago(last.timings.endedAt)}`;
    const val = last.metrics.bestValAccuracy;
    return `last: ${typeof val === 'number' && Number.isFinite(val) ? `${(val * 100).toFixed(1)}% val acc` : last.status}, ${ago(last.timings.endedAt ?? last.timings.startedAt)}`;
  }
}

/** Where a JSON path (`train.epochs`) is in the text: from its key (or its nearest ancestor's) to the end of that line, else the first line. */
export function rangeOfPath(text: string, jsonPath: string, doc: vscode.TextDocument): vscode.Range {
  const field = locateJsonPath(outlineJson(text).fields, jsonPath);
  if (!field || field.path === '') return new vscode.Range(0, 0, 0, doc.lineAt(0).text.length);
  const start = doc.positionAt(field.offset);
  return new vscode.Range(start, doc.lineAt(start.line).range.end);
}

/** The inside of the string value of the field a diagnostic starts at (what a quick fix replaces). */
function stringValueRange(doc: vscode.TextDocument, d: vscode.Diagnostic): vscode.Range | undefined {
  const value = jsonFieldAt(outlineJson(doc.getText()).fields, doc.offsetAt(d.range.start))?.value;
  if (value?.type !== 'string') return undefined;
  return new vscode.Range(doc.positionAt(value.offset + 1), doc.positionAt(value.offset + value.length - 1));
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

/** Quick fixes where the fix is obvious. */
class ExperimentFixes implements vscode.CodeActionProvider {
  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== 'Transfer Lab' || typeof d.code !== 'string') continue;
      if (d.code.startsWith('layer:')) {
        const near = d.code.slice('layer:'.length);
        const value = stringValueRange(doc, d);
        if (!value) continue;
        const action = new vscode.CodeAction(`Change to '${near}'`, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(doc.uri, value, near);
        action.diagnostics = [d];
        action.isPreferred = true;
        actions.push(action);
      } else if (d.code === 'graph-fine-tune') {
        const value = stringValueRange(doc, d);
        if (!value) continue;
        const action = new vscode.CodeAction('Use feature-extraction', vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(doc.uri, value, 'feature-extraction');
        action.diagnostics = [d];
        actions.push(action);
      } else if (d.code === 'data.dir' && /does not exist/.test(d.message)) {
        const action = new vscode.CodeAction('Scaffold a dataset here', vscode.CodeActionKind.QuickFix);
        action.command = { command: 'transferLab.scaffoldDataset', title: 'Scaffold Dataset' };
        action.diagnostics = [d];
        actions.push(action);
      }
    }
    return actions;
  }
}

/** One problem as a diagnostic: at its line when it has one, else at its JSON path in the text. */
function toDiagnostic(doc: vscode.TextDocument, text: string, p: InputProblem, severity: vscode.DiagnosticSeverity): vscode.Diagnostic {
  const range = p.line !== undefined ? new vscode.Range(p.line - 1, (p.column ?? 1) - 1, p.line - 1, (p.column ?? 1) + 20) : rangeOfPath(text, p.path, doc);
  const d = new vscode.Diagnostic(range, `${p.path ? `${p.path}: ` : ''}${p.message}${p.hint ? ` ${p.hint}` : ''}`, severity);
  d.source = 'Transfer Lab';
  d.code = p.path || undefined;
  return d;
}

/** The checks of the text itself (parse, schema, resolution): instant. The dataset walk is separate (datasetDiagnostics). */
function diagnosticsFor(doc: vscode.TextDocument): vscode.Diagnostic[] {
  const text = doc.getText();
  const file = doc.uri.fsPath;
  const as = (severity: vscode.DiagnosticSeverity) => (p: InputProblem) => toDiagnostic(doc, text, p, severity);
  const parsed = parseExperimentText(text, file);
  if (!parsed.ok) return parsed.errors.map(as(vscode.DiagnosticSeverity.Error));
  const out = parsed.warnings.map(as(vscode.DiagnosticSeverity.Warning));
  const resolved = resolveExperiment(parsed.value, file);
  if (!resolved.ok) return [...out, ...resolved.errors.map(as(vscode.DiagnosticSeverity.Error))];
  lastResolved.set(doc.uri.toString(), resolved.value);
  out.push(...resolved.warnings.map(as(vscode.DiagnosticSeverity.Warning)));
  return out;
}

/** The dataset, checked without decoding anything: a folder walk, in the disk worker thread. */
async function datasetDiagnostics(doc: vscode.TextDocument, exp: ResolvedExperiment, disk: OffThread): Promise<vscode.Diagnostic[]> {
  const text = doc.getText();
  // The dataset's problems belong to data.dir unless they name another field.
  const as = (severity: vscode.DiagnosticSeverity) => (p: InputProblem) => toDiagnostic(doc, text, { ...p, path: p.path || 'data.dir' }, severity);
  const reply = await disk.checkDataset(exp.data.dir, { split: exp.data.split, seed: exp.data.seed });
  if (reply.missing) {
    const missing: InputProblem = {
      path: 'data.dir',
      message: `the dataset folder ${exp.data.dir} does not exist`,
      hint: 'Create it with Transfer Lab: Scaffold Dataset, or fix the path (relative to this file).',
    };
    return [as(vscode.DiagnosticSeverity.Error)(missing)];
  }
  return [...reply.errors.map(as(vscode.DiagnosticSeverity.Error)), ...reply.warnings.map(as(vscode.DiagnosticSeverity.Warning))];
}

/** The last valid resolved experiment per document, for the checks that need the backbone. */
const lastResolved = new Map<string, ResolvedExperiment>();

export function registerExperimentEditor(s: Services): void {
  const lens = new ExperimentCodeLens(s);
  const layers = new LayerNames(s);
  const collection = vscode.languages.createDiagnosticCollection('transferLab');
  const disk = s.disk;
  const timers = new Map<string, NodeJS.Timeout>();
  const check = (doc: vscode.TextDocument, delayMs = 400) => {
    if (!isExperiment(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    // Debounced: indexing a dataset folder on every keystroke would be wasted work.
    timers.set(
      key,
      setTimeout(() => {
        timers.delete(key);
        lastResolved.delete(key);
        const version = doc.version;
        const base = diagnosticsFor(doc);
        collection.set(doc.uri, base);
        const exp = lastResolved.get(key);
        if (!exp) return;
        // The dataset walk (a worker thread) and the layer names (a trainer process) are
        // added when known, never blocking typing; an answer for an older version is dropped.
        void (async () => {
          const dataset = await datasetDiagnostics(doc, exp, disk).catch((e: Error) => {
            s.output.appendLine(`Dataset check of ${doc.uri.fsPath} failed: ${e.message}`);
            return [];
          });
          if (doc.version !== version) return;
          collection.set(doc.uri, [...base, ...dataset]);
          const extra = await backboneDiagnostics(doc, exp, layers);
          if (doc.version === version && extra.length > 0) collection.set(doc.uri, [...base, ...dataset, ...extra]);
        })();
      }, delayMs),
    );
  };
  s.context.subscriptions.push(
    lens,
    collection,
    toDisposable(() => timers.forEach((t) => clearTimeout(t))),
    vscode.languages.registerCodeLensProvider(SELECTOR, lens),
    vscode.languages.registerCodeActionsProvider(SELECTOR, new ExperimentFixes(), { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    s.runs.onDidChangeRuns(() => lens.refresh()),
    s.runs.onDidEvent(({ event }) => (event.type === 'finished' ? lens.refreshNow() : event.type === 'epoch' && lens.refresh())),
    s.runIndex.onDidChange(() => lens.refresh()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => lens.refresh()),
    vscode.workspace.onDidOpenTextDocument((d) => check(d, 0)),
    vscode.workspace.onDidChangeTextDocument((e) => check(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => collection.delete(d.uri)),
  );
  for (const doc of vscode.workspace.textDocuments) check(doc, 0);
}
