// New Experiment: a four-step wizard (dataset, backbone, strategy, name) with Back, that
// writes `<name>.tlexp.json` with relative paths and the validator's defaults, and opens it.
// The backbone step lists the catalog by family (../backbonePicker.ts) and says "offline"
// for a backbone that is not downloaded when its host cannot be reached, before anything is
// written. The strategy step explains the four classic situations and recommends one from
// the dataset's images per class, with the backbone's own cut and unfreeze layers
// (core/strategyAdvisor.ts, from the shipped topology's stages).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCatalogEntry, type BackboneCatalogEntry } from '../../core/backboneCatalog';
import { indexDataset, isImageFile } from '../../core/datasetIndex';
import { EXPERIMENT_DEFAULTS, formatProblem, validateExperiment } from '../../core/experimentValidation';
import type { BackboneSpec, ExperimentFile, StrategySpec } from '../../core/experiment';
import { allSituations, describeSituation, suggestTraining, type DataSimilarity, type StrategyAdvice } from '../../core/strategyAdvisor';
import { MultiStepInput, type InputStep } from '../multiStepInput';
import type { Services } from '../services';
import { cacheDirOf } from '../config';
import { backboneItems, catalogAvailability, checkOffline, ReachabilityProbes } from '../backbonePicker';
import { shippedTopologyLayers } from '../shippedTopology';

/** Answers that skip the wizard (tests and scripts). Paths may be absolute or workspace-relative. */
export interface NewExperimentArgs {
  dataset: string;
  /** A catalog id, or a backbone spec. */
  backbone: string | BackboneSpec;
  /** A strategy, or a situation's similarity to let the advisor choose. */
  strategy: StrategySpec | { advise: DataSimilarity };
  name: string;
  /** Folder for the file; default: the dataset's workspace folder (or the dataset's parent). */
  folder?: string;
}

const TOTAL_STEPS = 4;
const TITLE = 'Transfer Lab: New Experiment';
const SKIP_DIRS = new Set(['node_modules', '.git', '.transferlab', 'out', 'dist', '.vscode', '__pycache__', '.venv', 'venv']);
const SPLIT_DIRS = new Set(['train', 'val', 'validation', 'test']);

export interface DatasetCandidate {
  dir: string;
  layout: 'folders' | 'presplit';
  classes: number;
  /** Images counted while looking (capped per folder). */
  sampleImages: number;
}

/** Lists up to `maxEntries` entries of a folder (never throws). */
function listDir(dir: string, maxEntries = 2000): fs.Dirent[] {
  try {
    const out: fs.Dirent[] = [];
    const handle = fs.opendirSync(dir);
    try {
      for (let e = handle.readSync(); e && out.length < maxEntries; e = handle.readSync()) out.push(e);
    } finally {
      handle.closeSync();
    }
    return out;
  } catch {
    return [];
  }
}

/** Images directly in a folder, counting at most `cap`. */
function countImages(dir: string, cap = 200): number {
  let n = 0;
  for (const e of listDir(dir, 5000)) {
    if (e.isFile() && isImageFile(e.name) && ++n >= cap) break;
  }
  return n;
}

/** What a folder looks like: a dataset (and which layout), or not. */
export function looksLikeDataset(dir: string): DatasetCandidate | undefined {
  const subdirs = listDir(dir).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
  const splits = subdirs.filter((e) => SPLIT_DIRS.has(e.name.toLowerCase()));
  if (splits.some((s) => s.name.toLowerCase() === 'train')) {
    const train = splits.find((s) => s.name.toLowerCase() === 'train')!;
    const classes = listDir(path.join(dir, train.name)).filter((e) => e.isDirectory() && !e.name.startsWith('.'));
    const images = classes.reduce((n, c) => n + countImages(path.join(dir, train.name, c.name), 50), 0);
    if (classes.length >= 2 && images > 0) return { dir, layout: 'presplit', classes: classes.length, sampleImages: images };
    return undefined;
  }
  if (subdirs.length < 2) return undefined;
  let withImages = 0;
  let images = 0;
  for (const c of subdirs.slice(0, 200)) {
    const n = countImages(path.join(dir, c.name), 50);
    if (n > 0) withImages++;
    images += n;
  }
  return withImages >= 2 && withImages >= subdirs.length / 2 ? { dir, layout: 'folders', classes: subdirs.length, sampleImages: images } : undefined;
}

/** Datasets under the roots, breadth-first, limited in depth and folders visited so it stays fast. */
export function findDatasets(roots: string[], maxDepth = 4, maxFolders = 3000): DatasetCandidate[] {
  const found: DatasetCandidate[] = [];
  const queue = roots.map((r) => ({ dir: r, depth: 0 }));
  let visited = 0;
  while (queue.length > 0 && visited < maxFolders && found.length < 50) {
    const { dir, depth } = queue.shift()!;
    visited++;
    const candidate = looksLikeDataset(dir);
    if (candidate) {
      found.push(candidate);
      continue; // not inside a dataset
    }
    if (depth >= maxDepth) continue;
    for (const e of listDir(dir)) {
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) queue.push({ dir: path.join(dir, e.name), depth: depth + 1 });
    }
  }
  return found.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/** Average training images per class, as the experiment's default split would make them. */
export function trainImagesPerClass(dir: string): { perClass: number; smallest: { name: string; count: number }; classes: number } | undefined {
  const D = EXPERIMENT_DEFAULTS.data;
  const indexed = indexDataset(dir, { split: { ...D.split }, seed: D.seed });
  if (!indexed.ok || indexed.value.classes.length === 0) return undefined;
  const counts = indexed.value.classes.map((c) => ({ name: c, count: indexed.value.counts[c].train }));
  const total = counts.reduce((n, c) => n + c.count, 0);
  const smallest = counts.reduce((a, b) => (b.count < a.count ? b : a));
  return { perClass: total / counts.length, smallest, classes: counts.length };
}

export function validExperimentName(name: string, folder: string): string | undefined {
  if (name.trim() === '') return 'Give the experiment a name, e.g. flowers-mobilenet.';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    return 'Use letters, digits, dots, dashes and underscores only (it becomes the file name), starting with a letter or digit.';
  if (name.length > 80) return 'Keep the name under 80 characters.';
  const file = path.join(folder, `${name}.tlexp.json`);
  if (fs.existsSync(file)) return `${vscode.workspace.asRelativePath(file)} already exists; pick another name.`;
  return undefined;
}

const posix = (p: string) => p.split(path.sep).join('/');

/** Where the experiment file goes: the dataset's workspace folder, else the folder above the dataset. */
function experimentFolderFor(dataset: string): string {
  const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dataset));
  return ws?.uri.fsPath ?? path.dirname(dataset);
}

function resolvePath(p: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return path.isAbsolute(p) ? p : path.resolve(root, p);
}

/** The experiment object the wizard writes: only what the user chose; defaults left to the validator. */
export function buildExperiment(a: {
  name: string;
  datasetDir: string;
  folder: string;
  backbone: BackboneSpec;
  strategy: StrategySpec;
  description?: string;
  trainImages?: number;
}): ExperimentFile {
  const rel = (p: string) => {
    const r = path.relative(a.folder, p);
    return r === '' ? '.' : posix(r);
  };
  const backbone: BackboneSpec =
    'path' in a.backbone ? { ...a.backbone, path: path.isAbsolute(a.backbone.path) ? rel(a.backbone.path) : a.backbone.path } : { ...a.backbone };
  const D = EXPERIMENT_DEFAULTS;
  const training = suggestTraining(a.trainImages, D.train);
  const description = [a.description, `Training: ${training.reason}.`].filter(Boolean).join(' ');
  const exp: ExperimentFile = {
    name: a.name,
    description,
    data: { dir: rel(a.datasetDir), split: { ...D.data.split }, seed: D.data.seed },
    backbone,
    strategy: a.strategy,
    head: { pooling: D.head.pooling, dense: [...D.head.dense], dropout: D.head.dropout },
    train: { epochs: training.epochs, batchSize: training.batchSize, optimizer: D.train.optimizer, learningRate: D.train.learningRate.adam },
  };
  return exp;
}

function backboneEntryOf(spec: BackboneSpec): BackboneCatalogEntry | undefined {
  return 'catalog' in spec ? findCatalogEntry(spec.catalog) : undefined;
}

/** What the advisor needs of the backbone: its format and family, and its layers where a topology ships. */
async function advisorInputOf(s: Services, spec: BackboneSpec) {
  const entry = backboneEntryOf(spec);
  return {
    format: entry?.format ?? ('layers' as const),
    family: entry?.family,
    layers: entry ? await shippedTopologyLayers(s.context.extensionPath, entry) : undefined,
  };
}

/** Writes the file (never over an existing one) and opens it. */
async function writeExperiment(s: Services, exp: ExperimentFile, folder: string): Promise<vscode.Uri | undefined> {
  const checked = validateExperiment(exp);
  if (!checked.ok) {
    // A bug in the wizard, not a user error: say so with the details.
    void vscode.window.showErrorMessage(`Transfer Lab: the new experiment is not valid: ${checked.errors.map((e) => formatProblem(e)).join(' ')}`);
    return undefined;
  }
  const file = path.join(folder, `${exp.name}.tlexp.json`);
  fs.mkdirSync(folder, { recursive: true });
  try {
    fs.writeFileSync(file, JSON.stringify(exp, null, 2) + '\n', { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    void vscode.window.showErrorMessage(
      code === 'EEXIST' ? `Transfer Lab: ${file} already exists; pick another name.` : `Transfer Lab: cannot write ${file} (${code ?? e}).`,
    );
    return undefined;
  }
  s.output.appendLine(`[new experiment] wrote ${file}`);
  const uri = vscode.Uri.file(file);
  await vscode.window.showTextDocument(uri, { preview: false });
  void s.experiments.reload();
  return uri;
}

export async function newExperimentCommand(s: Services, args?: NewExperimentArgs): Promise<vscode.Uri | undefined> {
  if (args && typeof args === 'object' && 'dataset' in args) return fromArgs(s, args);
  return wizard(s);
}

async function fromArgs(s: Services, a: NewExperimentArgs): Promise<vscode.Uri | undefined> {
  const datasetDir = resolvePath(a.dataset);
  const folder = a.folder ? resolvePath(a.folder) : experimentFolderFor(datasetDir);
  const backbone: BackboneSpec = typeof a.backbone === 'string' ? { catalog: a.backbone } : a.backbone;
  const nameProblem = validExperimentName(a.name, folder);
  if (nameProblem) {
    void vscode.window.showErrorMessage(`Transfer Lab: ${nameProblem}`);
    return undefined;
  }
  let strategy: StrategySpec;
  if ('advise' in a.strategy) {
    const stats = trainImagesPerClass(datasetDir);
    const advice = allSituations({ imagesPerClass: stats?.perClass, ...(await advisorInputOf(s, backbone)) }).find(
      (x) => x.recommended && x.advice.situation.endsWith((a.strategy as { advise: DataSimilarity }).advise),
    )!.advice;
    strategy = advice.strategy;
    if (advice.cutAt) backbone.cutAt = advice.cutAt;
  } else {
    strategy = a.strategy;
  }
  const stats = trainImagesPerClass(datasetDir);
  return writeExperiment(
    s,
    buildExperiment({ name: a.name, datasetDir, folder, backbone, strategy, trainImages: stats && Math.round(stats.perClass * stats.classes) }),
    folder,
  );
}

// ---------------------------------------------------------------------------------------
// The wizard
// ---------------------------------------------------------------------------------------

interface WizardState {
  datasetDir?: string;
  stats?: ReturnType<typeof trainImagesPerClass>;
  backbone?: BackboneSpec;
  advice?: StrategyAdvice;
  name?: string;
  /** The user cancelled from a dialog in the middle of a step. */
  cancelled?: boolean;
}

type DatasetItem = vscode.QuickPickItem & { dir?: string; browse?: boolean };
type StrategyItem = vscode.QuickPickItem & { advice?: StrategyAdvice };

async function wizard(s: Services): Promise<vscode.Uri | undefined> {
  const state: WizardState = {};
  const roots = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const probes = new ReachabilityProbes();

  const pickDataset: InputStep = async (input) => {
    const found = findDatasets(roots);
    const items: DatasetItem[] = found.map((c) => ({
      label: `$(folder) ${vscode.workspace.asRelativePath(c.dir)}`,
      description: `${c.classes} classes · ${c.layout === 'presplit' ? 'train/val/test' : 'folder per class'}`,
      dir: c.dir,
    }));
    items.push({ label: '$(folder-opened) Browse…', description: 'a dataset folder anywhere on disk', browse: true });
    const active = state.datasetDir ? items.find((i) => i.dir === state.datasetDir) : undefined;
    const pick = await input.pick({
      title: TITLE,
      step: 1,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem: active,
      placeholder:
        found.length > 0
          ? 'Dataset: a folder with a folder per class, or train/ val/ test/'
          : 'No datasets found in the workspace: browse for one (or run Scaffold Dataset first)',
    });
    let dir = pick.dir;
    if (pick.browse) {
      const chosen = await input.outside(() =>
        vscode.window.showOpenDialog({
          title: 'Dataset folder',
          openLabel: 'Use This Dataset',
          canSelectFiles: false,
          canSelectFolders: true,
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        }),
      );
      dir = chosen[0]?.fsPath;
    }
    if (!dir) return pickDataset;
    const stats = trainImagesPerClass(dir);
    if (!stats) {
      const go = await input.outside(() =>
        vscode.window.showWarningMessage(
          `Transfer Lab: ${dir} does not look like a dataset yet (no class folders with images). Use it anyway?`,
          { modal: true },
          'Use Anyway',
        ),
      );
      if (go !== 'Use Anyway') return pickDataset;
    }
    state.datasetDir = dir;
    state.stats = stats;
    return pickBackbone;
  };

  const pickBackbone: InputStep = async (input) => {
    const availability = catalogAvailability(cacheDirOf(s.context));
    probes.warm(availability);
    const items = backboneItems(availability);
    const current = state.backbone && 'catalog' in state.backbone ? items.find((i) => i.label === (state.backbone as { catalog: string }).catalog) : undefined;
    const pick = await input.pick({
      title: TITLE,
      step: 2,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem: current,
      matchOnDetail: true,
      placeholder: 'Backbone: the pretrained network to start from',
    });
    if (pick.entry) {
      // Offline and not downloaded: say so now, before anything is written.
      const choice = await checkOffline(pick.entry, availability, probes, (show) => input.outside(() => show().then((a) => a ?? 'cancel')));
      if (choice === 'pick') return pickBackbone;
      if (choice === 'cancel') {
        state.cancelled = true;
        return;
      }
    }
    if (pick.spec) state.backbone = pick.spec;
    else if (pick.ask === 'file') {
      const chosen = await input.outside(() =>
        vscode.window.showOpenDialog({
          title: 'Backbone model file',
          openLabel: 'Use This Model',
          canSelectMany: false,
          filters: {
            'Keras or TF.js model': ['keras', 'h5', 'hdf5', 'json'],
            'Keras 3 (.keras)': ['keras'],
            'Keras HDF5 (.h5)': ['h5', 'hdf5'],
            'TF.js model.json': ['json'],
          },
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        }),
      );
      if (!chosen[0]) return pickBackbone;
      state.backbone = { path: chosen[0].fsPath };
    } else {
      const url = await input.text({
        title: TITLE,
        step: 2,
        totalSteps: TOTAL_STEPS,
        value: state.backbone && 'url' in state.backbone ? state.backbone.url : '',
        prompt: 'URL of a TF.js model.json (layers or graph model)',
        placeholder: 'https://example.com/my-model/model.json',
        validate: (v) => {
          try {
            const u = new URL(v.trim());
            return u.protocol === 'https:' || u.protocol === 'http:' ? undefined : 'Use an http(s) URL.';
          } catch {
            return 'Not a URL: give the full address of a model.json, starting with https://.';
          }
        },
      });
      state.backbone = { url: url.trim() };
    }
    return pickStrategy;
  };

  const pickStrategy: InputStep = async (input) => {
    const entry = backboneEntryOf(state.backbone!);
    const advisor = await advisorInputOf(s, state.backbone!);
    const format = advisor.format;
    const perClass = state.stats?.perClass;
    const situations = allSituations({ imagesPerClass: perClass, ...advisor });
    const shown = format === 'graph' ? situations.filter((x) => x.recommended && x.advice.situation.endsWith('similar')) : situations;
    const items: StrategyItem[] = [];
    const countText =
      perClass === undefined
        ? 'images per class unknown'
        : `${Math.round(perClass)} training images per class${state.stats && state.stats.smallest.count < perClass * 0.5 ? ` (smallest: ${state.stats.smallest.name}, ${state.stats.smallest.count})` : ''}`;
    items.push({ label: `Your dataset: ${countText}`, kind: vscode.QuickPickItemKind.Separator });
    shown.forEach(({ advice, recommended }, i) => {
      if (i === 2) items.push({ label: 'Other situations', kind: vscode.QuickPickItemKind.Separator });
      items.push({
        label: `${recommended ? '$(star-full) ' : ''}${advice.title}`,
        description: `${recommended ? 'recommended if your data is ' : 'if your data is '}${advice.situation.endsWith('similar') ? 'similar' : 'different'} · ${describeSituation(advice.situation)}`,
        detail: advice.reason,
        advice,
      });
    });
    if (format !== 'graph') {
      items.push({ label: 'Baseline', kind: vscode.QuickPickItemKind.Separator });
      items.push({
        label: 'Train from scratch',
        description: 'random weights, same architecture',
        detail: 'No transfer: a baseline to compare against (needs much more data to do well).',
        advice: { situation: 'large-different', strategy: { kind: 'scratch' }, title: 'Train from scratch', reason: '' },
      });
    }
    const similarTo = entry ? entry.trainedOn.split(' (')[0] : 'what the backbone was trained on';
    const pick = await input.pick({
      title: TITLE,
      step: 3,
      totalSteps: TOTAL_STEPS,
      items,
      activeItem: items.find((i) => i.advice && i.advice.title === state.advice?.title) ?? items.find((i) => i.advice),
      matchOnDetail: true,
      placeholder:
        format === 'graph'
          ? 'Strategy: this backbone is a graph model, so feature extraction only'
          : `Strategy: is your data similar to ${similarTo}? Pick the matching situation`,
    });
    state.advice = pick.advice!;
    return pickName;
  };

  const pickName: InputStep = async (input) => {
    const folder = experimentFolderFor(state.datasetDir!);
    const b = state.backbone!;
    const backboneName = 'catalog' in b ? b.catalog.replace(/_/g, '-') : 'path' in b ? path.basename(path.dirname(b.path)) : 'url-model';
    const strategyName = { 'feature-extraction': 'features', 'fine-tune': 'finetune', scratch: 'scratch' }[state.advice!.strategy.kind];
    let suggestion = `${path.basename(state.datasetDir!)}-${backboneName}-${strategyName}`.replace(/[^A-Za-z0-9._-]/g, '-');
    for (let i = 2; fs.existsSync(path.join(folder, `${suggestion}.tlexp.json`)); i++) suggestion = suggestion.replace(/-\d+$/, '') + `-${i}`;
    state.name = await input.text({
      title: TITLE,
      step: 4,
      totalSteps: TOTAL_STEPS,
      value: state.name ?? suggestion,
      prompt: `Experiment name: the file ${vscode.workspace.asRelativePath(folder)}/<name>.tlexp.json. Epochs, batch size and the rest get defaults you can edit in the file.`,
      validate: (v) => validExperimentName(v.trim(), folder),
    });
  };

  const finished = await MultiStepInput.run(pickDataset);
  if (!finished || state.cancelled || !state.datasetDir || !state.backbone || !state.advice || !state.name) return undefined;
  const folder = experimentFolderFor(state.datasetDir);
  const backbone: BackboneSpec = { ...state.backbone };
  if (state.advice.cutAt) backbone.cutAt = state.advice.cutAt;
  const exp = buildExperiment({
    name: state.name.trim(),
    datasetDir: state.datasetDir,
    folder,
    backbone,
    strategy: state.advice.strategy,
    description: state.advice.reason ? `${state.advice.title}: ${describeSituation(state.advice.situation).toLowerCase()}.` : undefined,
    trainImages: state.stats && Math.round(state.stats.perClass * state.stats.classes),
  });
  return writeExperiment(s, exp, folder);
}
