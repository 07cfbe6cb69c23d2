// The file New Experiment writes (`<name>.tlexp.json`): what goes in it, where it goes, a
// valid name for it, and the write itself, which never replaces an existing file.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { findCatalogEntry, type BackboneCatalogEntry } from '../../core/backboneCatalog';
import { EXPERIMENT_DEFAULTS, formatProblem, validateExperiment } from '../../core/experimentValidation';
import type { BackboneSpec, ExperimentFile, StrategySpec } from '../../core/experiment';
import { suggestTraining } from '../../core/strategyAdvisor';
import type { Services } from '../services';
import { shippedTopologyLayers } from '../shippedTopology';
import { localModelLayers } from '../localModelLayers';
import { pathExists } from '../pathChecks';
import { cacheDirOf } from '../config';
import type { LayerRef } from '../../core/layerBlocks';

export async function validExperimentName(name: string, folder: string): Promise<string | undefined> {
  if (name.trim() === '') return 'Give the experiment a name, e.g. flowers-mobilenet.';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    return 'Use letters, digits, dots, dashes and underscores only (it becomes the file name), starting with a letter or digit.';
  if (name.length > 80) return 'Keep the name under 80 characters.';
  const file = path.join(folder, `${name}.tlexp.json`);
  if (await pathExists(file)) return `${vscode.workspace.asRelativePath(file)} already exists; pick another name.`;
  return undefined;
}

const posix = (p: string) => p.split(path.sep).join('/');

/** Where the experiment file goes: the dataset's workspace folder, else the folder above the dataset. */
export function experimentFolderFor(dataset: string): string {
  const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dataset));
  return ws?.uri.fsPath ?? path.dirname(dataset);
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

export function backboneEntryOf(spec: BackboneSpec): BackboneCatalogEntry | undefined {
  return 'catalog' in spec ? findCatalogEntry(spec.catalog) : undefined;
}

/** What the advisor needs of the backbone: its format and family, and its layers where a topology ships or a local model.json has one. */
export async function advisorInputOf(s: Services, spec: BackboneSpec) {
  const entry = backboneEntryOf(spec);
  const local = 'path' in spec ? await localModelLayers(resolveInWorkspace(spec.path), (file) => kerasFileLayers(s, file)) : undefined;
  return {
    format: entry?.format ?? ('layers' as const),
    family: entry?.family,
    layers: entry ? await shippedTopologyLayers(s.context.extensionPath, entry) : local,
  };
}

/**
 * A Keras file's layers, listed by a trainer (a few seconds for a large model, hence the
 * progress). When it cannot be read the wizard goes on without layer choices and says why; the
 * run reports the same problem, naming the file, when it loads it.
 */
async function kerasFileLayers(s: Services, file: string): Promise<LayerRef[] | undefined> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Transfer Lab: reading the layers of ${path.basename(file)}…` },
    () => s.trainers.inspect({ path: file }, path.dirname(file), cacheDirOf(s.context)),
  );
  if (!result.ok) {
    const { reason, hint } = result.outcome;
    s.output.appendLine(`[new experiment] cannot list the layers of ${file}: ${reason}${hint ? ` ${hint}` : ''}`);
    void vscode.window.showWarningMessage(
      `Transfer Lab: cannot read the layers of ${path.basename(file)}: ${reason.replace(/\.?$/, '.')} No layer can be chosen for a cut; the run will report this too.`,
    );
    return undefined;
  }
  const layers = result.value.rows.map(({ name, className, inbound }) => ({ name, className, inbound }));
  return layers.length > 0 ? layers : undefined;
}

/** A path as the user gave it: absolute, or relative to the first workspace folder. */
export function resolveInWorkspace(p: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return path.isAbsolute(p) ? p : path.resolve(root, p);
}

/** Writes the file (never over an existing one) and opens it. */
export async function writeExperiment(s: Services, exp: ExperimentFile, folder: string): Promise<vscode.Uri | undefined> {
  const checked = validateExperiment(exp);
  if (!checked.ok) {
    // A bug in the wizard, not a user error: say so with the details.
    void vscode.window.showErrorMessage(`Transfer Lab: the new experiment is not valid: ${checked.errors.map((e) => formatProblem(e)).join(' ')}`);
    return undefined;
  }
  const file = path.join(folder, `${exp.name}.tlexp.json`);
  await fs.mkdir(folder, { recursive: true });
  try {
    await fs.writeFile(file, JSON.stringify(exp, null, 2) + '\n', { flag: 'wx' });
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
