// Export Model: copies a succeeded run's model/ (model.json, weights.bin, labels.json,
// preprocessing.json, and a graph base when there is one) to a folder the user picks.
// Never replaces files in a non-empty folder without asking; never deletes anything.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readRunAsync, RUN_FILES, type RunRecord } from '../../core/runStore';
import { describePixelTransform } from '../../core/preprocessing';
import { pythonSnippet, readPreprocessingFile, tfjsSnippet, transformOf, type PreprocessingFile } from '../../core/preprocessingFile';
import { pickRun, runDirFrom } from './runCommands';
import { pickFolder } from './pickers';
import { isNonEmptyDir, pathExists, pathKind } from '../pathChecks';
import type { Services } from '../services';

export interface ExportOutcome {
  targetDir: string;
  files: string[];
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

/** A README snippet: how to load the exported model in TF.js (and feed it in Python) like training did. */
export async function loadingSnippet(modelDir: string): Promise<string> {
  let pre: PreprocessingFile | undefined;
  try {
    const read = readPreprocessingFile(JSON.parse(await fs.readFile(path.join(modelDir, 'preprocessing.json'), 'utf8')));
    if (read.ok) pre = read.value;
  } catch {
    /* no or unreadable preprocessing.json: generic snippet */
  }
  const [h, w] = pre?.inputSize ?? [224, 224];
  const feed = pre
    ? tfjsSnippet(pre)
    : [
        `let x = tf.image.resizeBilinear(img, [${h}, ${w}], false, true);`,
        'x = x.div(255); // preprocessing.json is missing: check what the model expects',
      ].join('\n');
  return [
    '# Exported Transfer Lab model',
    '',
    'A TensorFlow.js layers model with its labels and the preprocessing it was trained with.',
    '',
    '- `model.json`, `weights.bin`: load with `tf.loadLayersModel`.',
    '- `labels.json`: class names, in output order.',
    pre
      ? `- \`preprocessing.json\`: input ${h}x${w} RGB, resize \`${pre.resize}\` (${pre.interpolation}), pixels 0..255 preprocessed as Keras's \`${pre.mode}\` mode: ${describePixelTransform(transformOf(pre))}.`
      : `- \`preprocessing.json\`: missing; the input is ${h}x${w} RGB.`,
    ...(pre?.graphBase
      ? [`- The base is a graph model (\`${pre.graphBase.path}\`): load it with \`tf.loadGraphModel\` and feed its output to model.json.`]
      : []),
    '',
    '```js',
    "import * as tf from '@tensorflow/tfjs';",
    '',
    "const model = await tf.loadLayersModel('model.json'); // a URL, or tf.io.fileSystem(...) in Node",
    "const labels = await (await fetch('labels.json')).json();",
    'const probs = tf.tidy(() => {',
    '  const img = tf.browser.fromPixels(imageElement).toFloat();',
    ...feed.split('\n').map((l) => `  ${l}`),
    '  return model.predict(x.expandDims(0)).squeeze();',
    '});',
    'const p = await probs.data();',
    'const best = p.indexOf(Math.max(...p));',
    'console.log(labels[best], p[best]);',
    'probs.dispose();',
    '```',
    ...(pre
      ? ['', 'The same inputs in Python (TensorFlow and Keras 3), e.g. to check the model against Keras:', '', '```python', pythonSnippet(pre), '```']
      : []),
    '',
  ].join('\n');
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
    void vscode.window.showErrorMessage(`Transfer Lab: run ${name} has no model (${modelDir}/model.json is missing). Run the experiment again.`);
    return undefined;
  }
  return { runDir, record, name };
}

/** The folder the user picks; a non-empty one is offered a new subfolder, or replacing files in it. */
async function askTarget(name: string, record: RunRecord | undefined): Promise<{ targetDir: string; overwrite?: boolean } | undefined> {
  const targetDir = await pickFolder(`Export the model of ${name} to…`, 'Export Here');
  if (!targetDir) return undefined;
  // An empty folder is the natural target; a non-empty one gets a subfolder offered.
  if (!(await isNonEmptyDir(targetDir))) return { targetDir };
  const sub = path.join(targetDir, `${record ? record.experiment.name : 'model'}-model`);
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

/** Says where the model went, offering to reveal it or to add a README with the loading code (never over an existing one). */
function announceExport(name: string, modelDir: string, targetDir: string, files: string[]): void {
  const shown = vscode.workspace.asRelativePath(targetDir);
  void vscode.window
    .showInformationMessage(`Transfer Lab: exported the model of ${name} to ${shown} (${files.length} files).`, 'Reveal', 'Add README with Loading Code')
    .then(async (pick) => {
      if (pick === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(targetDir, 'model.json')));
      if (pick === 'Add README with Loading Code') {
        const readme = path.join(targetDir, README);
        if (await pathExists(readme)) {
          const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: await loadingSnippet(modelDir) });
          await vscode.window.showTextDocument(doc);
          void vscode.window.showInformationMessage(`Transfer Lab: ${shown}/README.md exists, so the snippet opened in an untitled editor instead.`);
        } else {
          await fs.writeFile(readme, await loadingSnippet(modelDir));
          await vscode.window.showTextDocument(vscode.Uri.file(readme));
        }
      }
    });
}

export async function exportModelCommand(s: Services, arg?: unknown, target?: unknown, overwrite?: boolean): Promise<ExportOutcome | undefined> {
  const run = await exportableRun(s, arg);
  if (!run) return undefined;
  const { name } = run;
  const modelDir = path.join(run.runDir, RUN_FILES.model);
  const given = typeof target === 'string' ? target : target instanceof vscode.Uri ? target.fsPath : undefined;
  const chosen = given ? { targetDir: given } : await askTarget(name, run.record);
  if (!chosen) return undefined;
  const targetDir = path.resolve(chosen.targetDir);
  if (targetDir === modelDir || targetDir.startsWith(modelDir + path.sep)) {
    void vscode.window.showErrorMessage("Transfer Lab: pick a folder outside the run's own model/ folder.");
    return undefined;
  }
  const files = await listFilesRecursive(modelDir);
  if (!(await targetAccepted(targetDir, files, chosen.overwrite ?? overwrite))) return undefined;
  await fs.mkdir(targetDir, { recursive: true });
  for (const f of files) {
    await fs.mkdir(path.dirname(path.join(targetDir, f)), { recursive: true });
    await fs.copyFile(path.join(modelDir, f), path.join(targetDir, f));
  }
  s.output.appendLine(`[export] ${name}: copied ${files.join(', ')} to ${targetDir}`);
  announceExport(name, modelDir, targetDir, files);
  return { targetDir, files };
}
