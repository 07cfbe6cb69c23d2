// Scaffold Dataset: a new dataset folder from class names, or an existing folder-per-class
// dataset split into train/ val/ test/ (copied by default; moving only on an explicit,
// warned choice). Either way the user sees the counts per class and split afterwards.
// Never deletes or overwrites user files (datasetScaffold.ts enforces it).
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { SplitCounts } from '../../core/datasetTypes';
import { scaffoldDataset, splitDatasetOnDisk } from '../../core/datasetScaffold';
import { formatProblem, EXPERIMENT_DEFAULTS } from '../../core/experimentValidation';
import type { InputProblem } from '../../core/experiment';
import type { Services } from '../services';
import { isNonEmptyDir, pathExists, pathKind } from '../pathChecks';
import { pickFolder } from './pickers';

/** Arguments that skip the questions (tests and scripts). */
export type ScaffoldArgs =
  | { mode: 'new'; dir: string; classes: string[]; splits?: boolean }
  | { mode: 'split'; source: string; dest?: string; val?: number; test?: number; seed?: number; move?: boolean };

export interface ScaffoldOutcome {
  dir: string;
  /** Images per class and split (all zero for a new dataset). */
  counts: Record<string, SplitCounts>;
  readme: string | undefined;
}

const workspaceRoot = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;

function resolveInput(p: string): string {
  const root = workspaceRoot();
  return path.isAbsolute(p) ? p : path.resolve(root ?? process.cwd(), p);
}

function parseClassNames(text: string): string[] {
  return text
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

function reportProblems(s: Services, what: string, problems: InputProblem[], file?: string): void {
  s.output.appendLine(`[scaffold] ${what}:`);
  for (const p of problems) s.output.appendLine(`  ${formatProblem(p, file)}`);
}

export async function scaffoldDatasetCommand(s: Services, args?: ScaffoldArgs): Promise<ScaffoldOutcome | undefined> {
  const chosen = args ?? (await askScaffold());
  if (!chosen) return undefined;
  return chosen.mode === 'new' ? createNew(s, chosen) : splitExisting(s, chosen, args !== undefined);
}

async function askScaffold(): Promise<ScaffoldArgs | undefined> {
  const mode = await vscode.window.showQuickPick(
    [
      {
        label: '$(new-folder) New dataset from class names',
        detail: 'Creates a folder per class (optionally inside train/ val/ test/) and a README of counts. Then drop your images in.',
        mode: 'new' as const,
      },
      {
        label: '$(split-horizontal) Split an existing folder-per-class dataset into train/val/test',
        detail: 'Copies the images into a new folder with train/ val/ test/ class folders; your original folder is left as it is.',
        mode: 'split' as const,
      },
    ],
    { title: 'Transfer Lab: Scaffold Dataset', placeHolder: 'What do you want to do?', ignoreFocusOut: true },
  );
  if (!mode) return undefined;
  return mode.mode === 'new' ? askNew() : askSplit();
}

async function askNew(): Promise<ScaffoldArgs | undefined> {
  const root = workspaceRoot();
  const where = await vscode.window.showInputBox({
    title: 'New dataset (1/3): folder',
    prompt: root ? 'Dataset folder, relative to the workspace (or an absolute path). It must be new or empty.' : 'Absolute path of the new dataset folder.',
    value: 'datasets/my-dataset',
    ignoreFocusOut: true,
    validateInput: async (v) => {
      if (v.trim() === '') return 'Give a folder name, e.g. datasets/flowers.';
      if (!root && !path.isAbsolute(v)) return 'No folder is open: give an absolute path.';
      const full = resolveInput(v.trim());
      if ((await pathKind(full)) === 'file') return `${full} is a file; pick a folder name.`;
      return undefined;
    },
  });
  if (where === undefined) return undefined;
  const classes = await vscode.window.showInputBox({
    title: 'New dataset (2/3): class names',
    prompt: 'Class names, separated by commas (each becomes a folder).',
    placeHolder: 'cats, dogs, birds',
    ignoreFocusOut: true,
    validateInput: (v) => (parseClassNames(v).length < 2 ? 'Give at least two class names, separated by commas.' : undefined),
  });
  if (classes === undefined) return undefined;
  const layout = await vscode.window.showQuickPick(
    [
      { label: 'One folder per class', detail: "Transfer Lab splits train/val/test itself, reproducibly from the experiment's seed.", splits: false },
      { label: 'train/ val/ test/, each with the class folders', detail: 'You decide which image goes to which split.', splits: true },
    ],
    { title: 'New dataset (3/3): layout', ignoreFocusOut: true },
  );
  if (!layout) return undefined;
  return { mode: 'new', dir: where.trim(), classes: parseClassNames(classes), splits: layout.splits };
}

async function askSplit(): Promise<ScaffoldArgs | undefined> {
  const source = await pickFolder('Folder-per-class dataset to split', 'Split This Folder');
  if (!source) return undefined;
  const defaultDest = `${source}-split`;
  const dest = await vscode.window.showInputBox({
    title: 'Split dataset: destination',
    prompt: 'New folder for train/ val/ test/ (must not exist yet, or be empty).',
    value: defaultDest,
    ignoreFocusOut: true,
    validateInput: async (v) => {
      const full = resolveInput(v.trim());
      if ((await pathKind(full)) === 'file' || (await isNonEmptyDir(full))) return `${full} exists and is not empty; splitting never overwrites files.`;
      if (full === source || full.startsWith(source + path.sep)) return 'The destination must be outside the source folder.';
      return undefined;
    },
  });
  if (dest === undefined) return undefined;
  const D = EXPERIMENT_DEFAULTS.data.split;
  const fractions = await vscode.window.showInputBox({
    title: 'Split dataset: fractions',
    prompt: 'Validation and test fractions of each class, e.g. "0.2, 0.1" (the rest trains).',
    value: `${D.val}, ${D.test}`,
    ignoreFocusOut: true,
    validateInput: (v) => {
      const f = parseFractions(v);
      return f ? undefined : 'Two numbers from 0 up to 1, separated by a comma, that leave images for training, e.g. 0.2, 0.1.';
    },
  });
  if (fractions === undefined) return undefined;
  const { val, test } = parseFractions(fractions)!;
  const how = await vscode.window.showQuickPick(
    [
      { label: '$(copy) Copy the images', description: 'recommended', detail: 'Your original folder stays exactly as it is.', move: false },
      { label: '$(warning) Move the images', detail: 'Empties the original class folders. Only if you have a backup or no space for a copy.', move: true },
    ],
    { title: 'Split dataset: copy or move?', ignoreFocusOut: true },
  );
  if (!how) return undefined;
  if (how.move) {
    const sure = await vscode.window.showWarningMessage(
      `Move every image out of ${path.basename(source)}/ into ${path.basename(dest)}/? The original class folders are emptied (nothing is deleted, but the files leave their folders).`,
      { modal: true },
      'Move Images',
    );
    if (sure !== 'Move Images') return undefined;
  }
  return { mode: 'split', source, dest: dest.trim(), val, test, move: how.move };
}

export function parseFractions(text: string): { val: number; test: number } | undefined {
  const parts = text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);
  if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n) || n < 0 || n >= 1)) return undefined;
  if (parts[0] + parts[1] >= 1) return undefined;
  return { val: parts[0], test: parts[1] };
}

async function createNew(s: Services, a: Extract<ScaffoldArgs, { mode: 'new' }>): Promise<ScaffoldOutcome | undefined> {
  const dir = resolveInput(a.dir);
  const result = await scaffoldDataset(dir, a.classes, { splits: a.splits });
  if (!result.ok) {
    reportProblems(s, `could not create ${dir}`, result.errors);
    void vscode.window.showErrorMessage(`Transfer Lab: ${result.errors.map((e) => formatProblem(e)).join(' ')}`);
    return undefined;
  }
  if (result.warnings.length > 0) reportProblems(s, dir, result.warnings);
  const counts = Object.fromEntries(a.classes.map((c) => [c, { train: 0, val: 0, test: 0 }]));
  const readme = path.join(dir, 'README.md');
  s.output.appendLine(`[scaffold] created ${dir}: ${a.classes.length} classes (${a.classes.join(', ')})${a.splits ? ' in train/ val/ test/' : ''}`);
  void showReadme(readme);
  void vscode.window
    .showInformationMessage(
      `Transfer Lab: created ${vscode.workspace.asRelativePath(dir)} with ${a.classes.length} class folders${a.splits ? ' in train/ val/ test/' : ''}. Put images in each class folder, then run New Experiment.`,
      'Reveal in Explorer',
      'New Experiment',
    )
    .then((pick) => {
      if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
      if (pick === 'New Experiment') void vscode.commands.executeCommand('transferLab.newExperiment');
    });
  return { dir, counts, readme: (await pathExists(readme)) ? readme : undefined };
}

async function splitExisting(s: Services, a: Extract<ScaffoldArgs, { mode: 'split' }>, scripted: boolean): Promise<ScaffoldOutcome | undefined> {
  const source = resolveInput(a.source);
  const dest = resolveInput(a.dest ?? `${source}-split`);
  const D = EXPERIMENT_DEFAULTS.data;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Transfer Lab: ${a.move ? 'moving' : 'copying'} images into ${path.basename(dest)}/…` },
    () =>
      splitDatasetOnDisk(source, dest, { val: a.val ?? D.split.val, test: a.test ?? D.split.test }, a.seed ?? D.seed, a.move ? 'move' : 'copy', (dir, opts) =>
        s.disk.run({ task: 'index', dir, opts }),
      ),
  );
  if (!result.ok) {
    reportProblems(s, `could not split ${source}`, result.errors);
    void vscode.window.showErrorMessage(`Transfer Lab: ${result.errors.map((e) => formatProblem(e)).join(' ')}`);
    return undefined;
  }
  const v = result.value;
  s.output.appendLine(`[scaffold] ${a.move ? 'moved' : 'copied'} ${v.files} images from ${source} into ${dest}`);
  s.output.appendLine(`  ${'class'.padEnd(24)} train   val  test`);
  for (const cls of v.classes) {
    const c = v.counts[cls];
    s.output.appendLine(`  ${cls.padEnd(24)} ${String(c.train).padStart(5)} ${String(c.val).padStart(5)} ${String(c.test).padStart(5)}`);
  }
  if (v.skipped.length > 0) {
    s.output.appendLine(`  ${v.skipped.length} file(s) left where they were:`);
    for (const k of v.skipped.slice(0, 50)) s.output.appendLine(`    ${k.path}: ${k.reason}`);
  }
  if (result.warnings.length > 0) reportProblems(s, 'warnings', result.warnings);
  const totals = v.classes.reduce((t, c) => ({ train: t.train + v.counts[c].train, val: t.val + v.counts[c].val, test: t.test + v.counts[c].test }), {
    train: 0,
    val: 0,
    test: 0,
  });
  const readme = path.join(dest, 'README.md');
  if (!scripted) void showReadme(readme);
  void vscode.window
    .showInformationMessage(
      `Transfer Lab: ${a.move ? 'moved' : 'copied'} ${v.files} images of ${v.classes.length} classes into ${vscode.workspace.asRelativePath(dest)}: train ${totals.train}, val ${totals.val}, test ${totals.test}.${v.skipped.length ? ` ${v.skipped.length} file(s) skipped (see the output).` : ''}`,
      'New Experiment on It',
      'Reveal in Explorer',
      'Show Counts',
    )
    .then((pick) => {
      // The wizard lists the workspace's datasets, this one among them.
      if (pick === 'New Experiment on It') void vscode.commands.executeCommand('transferLab.newExperiment');
      if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dest));
      if (pick === 'Show Counts') s.output.show(true);
    });
  return { dir: dest, counts: v.counts, readme: (await pathExists(readme)) ? readme : undefined };
}

async function showReadme(file: string): Promise<void> {
  if (!(await pathExists(file))) return;
  // The Markdown preview when available, else the file itself.
  try {
    await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.file(file));
  } catch {
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  }
}
