// Export Model: copies a succeeded run's model/ (model.json, weights.bin, labels.json,
// preprocessing.json, and a graph base when there is one) to a folder the user names (created
// when new), with a README.md of loading code made from that preprocessing.json; or, as the
// user picks, writes it as Keras 3 model.keras or Keras .h5 (exportKeras.ts), or converts it
// to TFLite or SavedModel with TensorFlow (exportConverted.ts). Never
// replaces files in a non-empty folder without asking; never deletes anything.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readRunAsync, RUN_FILES, type RunRecord } from '../../core/runStore';
import { readPreprocessingFile, type PreprocessingFile } from '../../core/preprocessingFile';
import { exportReadme } from '../../core/exportReadme';
import { pickRun, runDirFrom } from './runCommands';
import { askExportFolder } from './exportTargetPrompt';
import { askExportFormat, EXPORT_FORMATS, exportKerasFiles, KERAS_FORMAT_FILES, type ExportFormat } from './exportKeras';
import { exportConvertedModel } from './exportConverted';
import { isNonEmptyDir, pathExists, pathKind } from '../pathChecks';
import type { Services } from '../services';
import { KERAS_RUN_MODEL, kerasRunModelMessage } from '../../core/kerasScript/kerasRunModel';

export interface ExportOutcome {
  targetDir: string;
  /** The model's files, copied from the run. */
  files: string[];
  /** The README.md written beside them; undefined when the folder had one already. */
  readme: string | undefined;
}

const README = 'README.md';

async function listFilesRecursive(dir: string, base = dir): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const lists = await Promise.all(
    entries.map((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? listFilesRecursive(p, base) : [path.relative(base, p)];
    }),
  );
  return lists.flat();
}

/** The README for the model in `dir`, from the preprocessing.json there (the one the user got). */
async function readmeFor(dir: string): Promise<string> {
  let pre: PreprocessingFile | undefined;
  try {
    const read = readPreprocessingFile(JSON.parse(await fs.readFile(path.join(dir, 'preprocessing.json'), 'utf8')));
    if (read.ok) pre = read.value;
  } catch {
    /* no or unreadable preprocessing.json: the README says so */
  }
  return exportReadme(pre);
}

/** The run to export: named, or picked among the succeeded ones; undefined (with a message) when it has no complete model. */
async function exportableRun(s: Services, arg: unknown): Promise<{ runDir: string; record: RunRecord | undefined; name: string } | undefined> {
  const runDir = (await runDirFrom(arg)) ?? (await pickRun(s, 'Export the model of which run?', (st) => st === 'succeeded'));
  if (!runDir) return undefined;
  const read = await readRunAsync(runDir);
  const record = read.ok ? read.value : undefined;
  const name = record ? record.id : path.basename(runDir);
  const modelDir = path.join(runDir, RUN_FILES.model);
  if (record && record.status !== 'succeeded') {
    void vscode.window.showWarningMessage(
      `Transfer Lab: run ${name} ${record.status === 'running' ? 'is still running' : `${record.status}`}; only a succeeded run has a complete model to export.`,
    );
    return undefined;
  }
  if (!(await pathExists(path.join(modelDir, 'model.json')))) {
    if (await pathExists(path.join(modelDir, KERAS_RUN_MODEL))) {
      void vscode.window.showErrorMessage(`Transfer Lab: ${kerasRunModelMessage(runDir, 'Export Model')}`);
      return undefined;
    }
    void vscode.window.showErrorMessage(`Transfer Lab: run ${name} has no model (${modelDir}/model.json is missing). Run the experiment again.`);
    return undefined;
  }
  return { runDir, record, name };
}

/** The folder the user names (a new one is created); a non-empty one is offered a new subfolder, or replacing files in it. */
async function askTarget(name: string, record: RunRecord | undefined, modelDir: string): Promise<{ targetDir: string; overwrite?: boolean } | undefined> {
  const folderName = `${record ? record.experiment.name : 'model'}-model`;
  const targetDir = await askExportFolder(name, folderName, modelDir);
  if (!targetDir) return undefined;
  // An empty folder is the natural target; a non-empty one gets a subfolder offered.
  if (!(await isNonEmptyDir(targetDir))) return { targetDir };
  const sub = path.join(targetDir, folderName);
  const choice = await vscode.window.showWarningMessage(
    `${targetDir} is not empty. Export into a new subfolder ${path.basename(sub)}/, or into ${path.basename(targetDir)}/ itself (files with the same names are replaced)?`,
    { modal: true },
    'New Subfolder',
    'Replace Files',
  );
  if (!choice) return undefined;
  return choice === 'New Subfolder' ? { targetDir: sub } : { targetDir, overwrite: true };
}

/** Whether the model's files may go to targetDir: not a file, and, when it is a non-empty folder, the user agreed. */
async function targetAccepted(targetDir: string, files: string[], overwrite: boolean | undefined): Promise<boolean> {
  const kind = await pathKind(targetDir);
  if (kind === 'file') {
    void vscode.window.showErrorMessage(`Transfer Lab: ${targetDir} is a file; pick a folder.`);
    return false;
  }
  if (kind === 'directory' && (await fs.readdir(targetDir)).length > 0 && overwrite !== true) {
    const clashes = (await Promise.all(files.map(async (f) => ((await pathExists(path.join(targetDir, f))) ? [f] : [])))).flat();
    const answer = await vscode.window.showWarningMessage(
      `${targetDir} is not empty${clashes.length ? `; ${clashes.join(', ')} would be replaced` : ''}. Export anyway? Other files are left alone.`,
      { modal: true },
      'Export',
    );
    if (answer !== 'Export') return false;
  }
  return true;
}

/**
 * README.md with the loading code, beside the model, from the preprocessing.json copied there;
 * never over a README that is already there (undefined then).
 */
async function writeReadme(targetDir: string, files: string[]): Promise<string | undefined> {
  const readme = path.join(targetDir, README);
  if (files.includes(README) || (await pathExists(readme))) return undefined;
  await fs.writeFile(readme, await readmeFor(targetDir));
  return readme;
}

/** Says where the model went, offering to reveal it and to open its README (an untitled one when the folder had its own). */
function announceExport(name: string, targetDir: string, files: string[], readme: string | undefined): void {
  const shown = vscode.workspace.asRelativePath(targetDir);
  const kept = readme ? '' : ` ${README} was there already, so it is kept`;
  void vscode.window
    .showInformationMessage(
      `Transfer Lab: exported the model of ${name} to ${shown} (${files.length} files and ${readme ? 'a README' : 'no README'}).${kept}`,
      'Reveal',
      'Open README',
    )
    .then(async (pick) => {
      if (pick === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(targetDir, 'model.json')));
      if (pick === 'Open README') {
        if (readme) await vscode.window.showTextDocument(vscode.Uri.file(readme));
        else await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: await readmeFor(targetDir) }));
      }
    });
}

/** The Keras formats: the CLI writes the files, the user hears where they went. */
async function exportAsKeras(s: Services, runDir: string, name: string, targetDir: string, format: 'keras' | 'h5'): Promise<ExportOutcome | undefined> {
  try {
    const files = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Transfer Lab: exporting ${name} for Keras` }, () =>
      exportKerasFiles(s, runDir, targetDir, format),
    );
    s.output.appendLine(`[export] ${name}: wrote ${files.join(', ')} to ${targetDir}`);
    void vscode.window
      .showInformationMessage(`Transfer Lab: exported the model of ${name} to ${vscode.workspace.asRelativePath(targetDir)} as ${files[0]}.`, 'Reveal')
      .then((pick) => (pick ? vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(targetDir, files[0]))) : undefined));
    return { targetDir, files, readme: undefined };
  } catch (e) {
    void vscode.window.showErrorMessage(`Transfer Lab: could not export ${name} for Keras: ${(e as Error).message}`);
    return undefined;
  }
}

export async function exportModelCommand(
  s: Services,
  arg?: unknown,
  target?: unknown,
  overwrite?: boolean,
  formatArg?: unknown,
): Promise<ExportOutcome | undefined> {
  const run = await exportableRun(s, arg);
  if (!run) return undefined;
  const { name } = run;
  // A script that names the target and no format gets the TF.js export it always got.
  const named = EXPORT_FORMATS.includes(formatArg as ExportFormat) ? (formatArg as ExportFormat) : target !== undefined ? 'tfjs' : undefined;
  const format = named ?? (await askExportFormat());
  if (!format) return undefined;
  const modelDir = path.join(run.runDir, RUN_FILES.model);
  const given = typeof target === 'string' ? target : target instanceof vscode.Uri ? target.fsPath : undefined;
  const chosen = given ? { targetDir: given } : await askTarget(name, run.record, modelDir);
  if (!chosen) return undefined;
  const targetDir = path.resolve(chosen.targetDir);
  if (targetDir === modelDir || targetDir.startsWith(modelDir + path.sep)) {
    void vscode.window.showErrorMessage("Transfer Lab: pick a folder outside the run's own model/ folder.");
    return undefined;
  }
  if (format !== 'tfjs') {
    if (!(await targetAccepted(targetDir, KERAS_FORMAT_FILES[format], chosen.overwrite ?? overwrite))) return undefined;
    if (format !== 'keras' && format !== 'h5') return exportConvertedModel(s, run.runDir, name, targetDir, format);
    return exportAsKeras(s, run.runDir, name, targetDir, format);
  }
  const files = await listFilesRecursive(modelDir);
  if (!(await targetAccepted(targetDir, files, chosen.overwrite ?? overwrite))) return undefined;
  await fs.mkdir(targetDir, { recursive: true });
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(targetDir, f)), { recursive: true });
    await fs.copyFile(path.join(modelDir, f), path.join(targetDir, f));
  }
  const readme = await writeReadme(targetDir, files);
  s.output.appendLine(`[export] ${name}: copied ${files.join(', ')} to ${targetDir}${readme ? ` and wrote ${README}` : ''}`);
  announceExport(name, targetDir, files, readme);
  return { targetDir, files, readme };
}
