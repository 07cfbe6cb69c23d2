// Export Model's formats other than the run's own TF.js files: Keras 3 model.keras and
// Keras .h5, and TFLite / SavedModel (exportConverted.ts), written by the bundled CLI
// (`transfer-lab export`) in a child process, so TensorFlow.js, the HDF5 library and Python
// never load in the extension host. The child is owned by the extension's subscriptions while
// it runs (closing VS Code ends it), and ends when the progress notification is cancelled.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { fork } from 'node:child_process';
import { readConfig } from '../config';
import { toDisposable } from '../disposable';
import type { Services } from '../services';
import { CONVERTED_EXPORT_RECORD, CONVERTED_FORMATS, CONVERTED_MODEL_FILES, type ConvertedFormat } from '../../core/convertedExport';

export type ExportFormat = 'tfjs' | 'keras' | 'h5' | ConvertedFormat;

export const EXPORT_FORMATS: readonly ExportFormat[] = ['tfjs', 'keras', 'h5', ...CONVERTED_FORMATS];

const convertedFiles = (f: ConvertedFormat) => [CONVERTED_MODEL_FILES[f], 'labels.json', 'preprocessing.json', CONVERTED_EXPORT_RECORD];

/** The files each Keras format writes (what may clash in the target folder). */
export const KERAS_FORMAT_FILES: Record<Exclude<ExportFormat, 'tfjs'>, string[]> = {
  keras: ['model.keras', 'labels.json', 'preprocessing.json', 'preprocess.py'],
  h5: ['model.h5', 'labels.json', 'preprocessing.json', 'preprocess.py'],
  tflite: convertedFiles('tflite'),
  'tflite-int8': convertedFiles('tflite-int8'),
  savedmodel: convertedFiles('savedmodel'),
};

/** The formats TensorFlow's converter makes (a Python with TensorFlow runs it: transferLab.pythonPath). */
const CONVERTED_PICK_ITEMS: (vscode.QuickPickItem & { format: ConvertedFormat })[] = [
  {
    label: 'TensorFlow Lite (float32)',
    description: 'model.tflite',
    detail: "Android, iOS, edge devices; by TensorFlow's converter in a Python with TensorFlow, checked on the run's test images",
    format: 'tflite',
  },
  {
    label: 'TensorFlow Lite (int8 quantized)',
    description: 'model_int8.tflite',
    detail: 'About 4x smaller, integer-only (microcontrollers, Edge TPU); calibrated on training images, checked on the test images',
    format: 'tflite-int8',
  },
  {
    label: 'TensorFlow SavedModel',
    description: 'saved_model/',
    detail: 'TF Serving, TensorFlow in Python or C++; by TensorFlow in a Python with TensorFlow',
    format: 'savedmodel',
  },
];

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
    ...CONVERTED_PICK_ITEMS,
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Export Model: format', placeHolder: 'Which format?' });
  return pick?.format;
}

/** Runs `transfer-lab export` for a format other than tfjs; resolves with the files written, rejects with the CLI's own message. */
export function exportKerasFiles(
  s: Services,
  runDir: string,
  targetDir: string,
  format: Exclude<ExportFormat, 'tfjs'>,
  token?: vscode.CancellationToken,
): Promise<string[]> {
  const config = readConfig();
  const cli = path.join(s.context.extensionPath, 'dist', 'cli.js');
  const cacheDir = config.cacheFolder ?? path.join(s.context.globalStorageUri.fsPath, 'cache');
  const args = ['export', runDir, '--out', targetDir, '--format', format, '--force', '--json', '--cache-dir', cacheDir];
  if (config.pythonPath) args.push('--python', config.pythonPath);
  return new Promise((resolve, reject) => {
    const child = fork(cli, args, {
      execPath: config.nodePath || process.execPath,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const owner = toDisposable(() => child.kill());
    s.context.subscriptions.push(owner);
    const cancel = token?.onCancellationRequested(() => child.kill());
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      s.output.append(t);
    });
    const settle = () => {
      cancel?.dispose();
      const i = s.context.subscriptions.indexOf(owner);
      if (i >= 0) s.context.subscriptions.splice(i, 1);
    };
    child.on('error', (e) => {
      settle();
      reject(new Error(`could not start the exporter (${config.nodePath || process.execPath}): ${e.message}`));
    });
    child.on('exit', (code) => {
      settle();
      if (token?.isCancellationRequested) return reject(new vscode.CancellationError());
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0) return resolve((JSON.parse(last) as { files: string[] }).files);
      const reason = stderr.split('\n').filter((l) => l.trim() && !l.startsWith('transfer-lab: backend') && !/^(I0000|WARNING: All)/.test(l));
      reject(new Error(reason.slice(-3).join(' ') || `the exporter exited with code ${code}`));
    });
  });
}
