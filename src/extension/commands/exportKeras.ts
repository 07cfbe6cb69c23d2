// Export Model's formats other than the run's own TF.js files: Keras 3 model.keras and
// Keras .h5, written by the bundled CLI (`transfer-lab export`) in a child process, so
// TensorFlow.js and the HDF5 library never load in the extension host. The child is owned by
// the extension's subscriptions while it runs (closing VS Code ends it).
import * as vscode from 'vscode';
import * as path from 'node:path';
import { fork } from 'node:child_process';
import { readConfig } from '../config';
import { toDisposable } from '../disposable';
import type { Services } from '../services';

export type ExportFormat = 'tfjs' | 'keras' | 'h5';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'keras', 'h5'];

/** The files each Keras format writes (what may clash in the target folder). */
export const KERAS_FORMAT_FILES: Record<Exclude<ExportFormat, 'tfjs'>, string[]> = {
  keras: ['model.keras', 'labels.json', 'preprocessing.json', 'preprocess.py'],
  h5: ['model.h5', 'labels.json', 'preprocessing.json', 'preprocess.py'],
};

export async function askExportFormat(): Promise<ExportFormat | undefined> {
  const items: (vscode.QuickPickItem & { format: ExportFormat })[] = [
    {
      label: 'TensorFlow.js layers',
      description: 'model.json + weights.bin',
      detail: 'For tf.loadLayersModel in the browser or Node; a README with loading code',
      format: 'tfjs',
    },
    {
      label: 'Keras 3 (.keras)',
      description: 'model.keras',
      detail: 'keras.models.load_model in Keras 3 (TensorFlow 2.16+); with labels.json and preprocess.py',
      format: 'keras',
    },
    {
      label: 'Keras HDF5 (.h5)',
      description: 'model.h5',
      detail: "Keras's legacy format (tf_keras, older tools); with labels.json and preprocess.py",
      format: 'h5',
    },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Export Model: format', placeHolder: 'Which format?' });
  return pick?.format;
}

/** Runs `transfer-lab export` for a Keras format; resolves with the files written, rejects with the CLI's own message. */
export function exportKerasFiles(s: Services, runDir: string, targetDir: string, format: Exclude<ExportFormat, 'tfjs'>): Promise<string[]> {
  const config = readConfig();
  const cli = path.join(s.context.extensionPath, 'dist', 'cli.js');
  const cacheDir = config.cacheFolder ?? path.join(s.context.globalStorageUri.fsPath, 'cache');
  const args = ['export', runDir, '--out', targetDir, '--format', format, '--force', '--json', '--cache-dir', cacheDir];
  return new Promise((resolve, reject) => {
    const child = fork(cli, args, {
      execPath: config.nodePath || process.execPath,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const owner = toDisposable(() => child.kill());
    s.context.subscriptions.push(owner);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      s.output.append(t);
    });
    const settle = () => {
      const i = s.context.subscriptions.indexOf(owner);
      if (i >= 0) s.context.subscriptions.splice(i, 1);
    };
    child.on('error', (e) => {
      settle();
      reject(new Error(`could not start the exporter (${config.nodePath || process.execPath}): ${e.message}`));
    });
    child.on('exit', (code) => {
      settle();
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0) return resolve((JSON.parse(last) as { files: string[] }).files);
      const reason = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('transfer-lab: backend') && !/^(I0000|WARNING: All)/.test(l));
      reject(new Error(reason.slice(-3).join(' ') || `the exporter exited with code ${code}`));
    });
  });
}
