// Export Model: copies a succeeded run's model/ (model.json, weights.bin, labels.json,
// preprocessing.json, and a graph base when there is one) to a folder the user picks.
// Never replaces files in a non-empty folder without asking; never deletes anything.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRun, RUN_FILES } from '../../core/runStore';
import { describePixelTransform } from '../../core/preprocessing';
import { pythonSnippet, readPreprocessingFile, tfjsSnippet, transformOf, type PreprocessingFile } from '../../core/preprocessingFile';
import { pickRun, runDirFrom } from './runCommands';
import type { Services } from '../services';

export interface ExportOutcome {
  targetDir: string;
  files: string[];
}

const README = 'README.md';

function listFilesRecursive(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFilesRecursive(p, base) : [path.relative(base, p)];
  });
}

/** A README snippet: how to load the exported model in TF.js (and feed it in Python) like training did. */
export function loadingSnippet(modelDir: string): string {
  let pre: PreprocessingFile | undefined;
  try {
    const read = readPreprocessingFile(JSON.parse(fs.readFileSync(path.join(modelDir, 'preprocessing.json'), 'utf8')));
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

export async function exportModelCommand(s: Services, arg?: unknown, target?: unknown, overwrite?: boolean): Promise<ExportOutcome | undefined> {
  const runDir = runDirFrom(arg) ?? (await pickRun(s, 'Export the model of which run?', (st) => st === 'succeeded'));
  if (!runDir) return undefined;
  const record = readRun(runDir);
  const name = record.ok ? record.value.id : path.basename(runDir);
  const modelDir = path.join(runDir, RUN_FILES.model);
  if (record.ok && record.value.status !== 'succeeded') {
    void vscode.window.showWarningMessage(
      `Transfer Lab: run ${name} ${record.value.status === 'running' ? 'is still running' : `${record.value.status}`}; only a succeeded run has a complete model to export.`,
    );
    return undefined;
  }
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
    void vscode.window.showErrorMessage(`Transfer Lab: run ${name} has no model (${modelDir}/model.json is missing). Run the experiment again.`);
    return undefined;
  }

  let targetDir = typeof target === 'string' ? target : target instanceof vscode.Uri ? target.fsPath : undefined;
  if (!targetDir) {
    const picked = await vscode.window.showOpenDialog({
      title: `Export the model of ${name} to…`,
      openLabel: 'Export Here',
      canSelectFiles: false,
      canSelectFolders: true,
      canSelectMany: false,
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!picked?.[0]) return undefined;
    targetDir = picked[0].fsPath;
    // An empty folder is the natural target; a non-empty one gets a subfolder offered.
    if (fs.existsSync(targetDir) && fs.readdirSync(targetDir).length > 0) {
      const sub = path.join(targetDir, `${record.ok ? record.value.experiment.name : 'model'}-model`);
      const choice = await vscode.window.showWarningMessage(
        `${targetDir} is not empty. Export into a new subfolder ${path.basename(sub)}/, or into ${path.basename(targetDir)}/ itself (files with the same names are replaced)?`,
        { modal: true },
        'New Subfolder',
        'Replace Files',
      );
      if (!choice) return undefined;
      if (choice === 'New Subfolder') targetDir = sub;
      else overwrite = true;
    }
  }
  targetDir = path.resolve(targetDir);
  if (targetDir === modelDir || targetDir.startsWith(modelDir + path.sep)) {
    void vscode.window.showErrorMessage("Transfer Lab: pick a folder outside the run's own model/ folder.");
    return undefined;
  }
  const files = listFilesRecursive(modelDir);
  if (fs.existsSync(targetDir)) {
    if (!fs.statSync(targetDir).isDirectory()) {
      void vscode.window.showErrorMessage(`Transfer Lab: ${targetDir} is a file; pick a folder.`);
      return undefined;
    }
    const clashes = files.filter((f) => fs.existsSync(path.join(targetDir!, f)));
    if (fs.readdirSync(targetDir).length > 0 && overwrite !== true) {
      const answer = await vscode.window.showWarningMessage(
        `${targetDir} is not empty${clashes.length ? `; ${clashes.join(', ')} would be replaced` : ''}. Export anyway? Other files are left alone.`,
        { modal: true },
        'Export',
      );
      if (answer !== 'Export') return undefined;
    }
  }
  fs.mkdirSync(targetDir, { recursive: true });
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(targetDir, f)), { recursive: true });
    fs.copyFileSync(path.join(modelDir, f), path.join(targetDir, f));
  }
  s.output.appendLine(`[export] ${name}: copied ${files.join(', ')} to ${targetDir}`);
  const shown = vscode.workspace.asRelativePath(targetDir);
  void vscode.window
    .showInformationMessage(`Transfer Lab: exported the model of ${name} to ${shown} (${files.length} files).`, 'Reveal', 'Add README with Loading Code')
    .then(async (pick) => {
      if (pick === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(targetDir!, 'model.json')));
      if (pick === 'Add README with Loading Code') {
        const readme = path.join(targetDir!, README);
        if (fs.existsSync(readme)) {
          const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: loadingSnippet(modelDir) });
          await vscode.window.showTextDocument(doc);
          void vscode.window.showInformationMessage(`Transfer Lab: ${shown}/README.md exists, so the snippet opened in an untitled editor instead.`);
        } else {
          fs.writeFileSync(readme, loadingSnippet(modelDir));
          await vscode.window.showTextDocument(vscode.Uri.file(readme));
        }
      }
    });
  return { targetDir, files };
}
