// TFLite (float32, int8) and SavedModel exports of a run, through TensorFlow's own converter: our
// Keras writer makes model.keras (and the preprocess.py beside it) in a temporary folder, then
// media/python/convert_tflite.py converts it in a Python with TensorFlow, calibrating int8 on the
// run's training images and checking the result on its test split, both preprocessed by that
// preprocess.py. The split is our own dataset index's, so these are the run's images.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { indexDataset } from '../../core/datasetIndex';
import { kerasSplits } from '../../core/kerasScript/jobFile';
import { readRunAsync, RUN_FILES } from '../../core/runStore';
import {
  accuracyDropped,
  CONVERTED_EXPORT_RECORD,
  CONVERTED_MODEL_FILES,
  ConverterResultSchema,
  type ConvertedExport,
  type ConvertedFormat,
  type ConverterResult,
} from '../../core/convertedExport';
import { KerasExportError } from '../keras/kerasLayerMap';
import { exportKeras } from './kerasExport';
import { findTensorflowPython } from './pythonFinder';

/** Training images int8 calibration draws (seeded), as TensorFlow's guide suggests: a few hundred. */
export const CALIBRATION_IMAGES = 200;

export interface ConvertOptions {
  installRoot: string;
  cacheDir: string;
  /** transferLab.pythonPath / --python; undefined: python3, then python, on PATH. */
  python?: string;
  /** Lines of the converter's own output (its progress), as they come. */
  onLog?: (line: string) => void;
}

export interface ConvertedResult {
  files: string[];
  record: ConvertedExport;
}

/** The run folder of a run's model/ folder, with its record and the split its training used. */
async function runAndSplits(modelDir: string) {
  const runDir = path.dirname(modelDir);
  const read = await readRunAsync(runDir);
  if (path.basename(modelDir) !== RUN_FILES.model || !read.ok)
    throw new KerasExportError(
      `${modelDir}: not a run's model folder. The TFLite and SavedModel exports need the run folder: its training images calibrate int8 and its test split checks the conversion.`,
    );
  const data = read.value.config.data;
  const indexed = indexDataset(data.dir, { split: data.split, seed: data.seed });
  if (!indexed.ok)
    throw new KerasExportError(
      `${runDir}: the run's dataset ${data.dir} cannot be read (${indexed.errors.map((e) => e.message).join('; ')}). Put the data back where the run found it.`,
    );
  return { runDir, record: read.value, splits: kerasSplits(indexed.value), seed: data.seed };
}

/** Runs the converter, awaited; stops it when this process is told to stop. Resolves with its result line. */
function runConverter(python: string, args: string[], onLog: (line: string) => void): Promise<ConverterResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
    const stop = () => child.kill();
    process.once('SIGTERM', stop);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
      for (const l of t.split('\n')) if (/^(INFO|Converting|Estimated)/.test(l.trim())) onLog(l.trim());
    });
    child.on('error', (e) => reject(new KerasExportError(`could not start ${python}: ${e.message}`)));
    child.on('close', (code, signal) => {
      process.removeListener('SIGTERM', stop);
      if (signal) return reject(new KerasExportError(`the converter (${python}) was stopped (${signal})`));
      const last = stdout.trim().split('\n').pop() ?? '';
      const parsed = code === 0 ? v.safeParse(ConverterResultSchema, safeJson(last)) : undefined;
      if (parsed?.success) return resolve(parsed.output);
      const tail = stderr.trim().split('\n').slice(-6).join('\n');
      reject(new KerasExportError(`TensorFlow's converter failed (${python}, exit code ${code}):\n${tail || last}`));
    });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Converts the model of the run whose model/ folder is `modelDir`; writes the model, labels.json, preprocessing.json and export.json to `out`. */
export async function exportConverted(modelDir: string, out: string, format: ConvertedFormat, opts: ConvertOptions): Promise<ConvertedResult> {
  const { runDir, record, splits, seed } = await runAndSplits(modelDir);
  const found = await findTensorflowPython(opts.python);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-convert-'));
  const modelFile = CONVERTED_MODEL_FILES[format];
  try {
    await exportKeras(modelDir, tmp, 'keras', { installRoot: opts.installRoot, cacheDir: opts.cacheDir });
    await fs.writeFile(path.join(tmp, 'splits.json'), JSON.stringify(splits));
    const converted = path.join(tmp, modelFile);
    const script = path.join(opts.installRoot, 'media', 'python', 'convert_tflite.py');
    const args = [script, '--keras', path.join(tmp, 'model.keras'), '--preprocess', path.join(tmp, 'preprocess.py'), '--splits', path.join(tmp, 'splits.json')];
    args.push('--data-root', splits.dataset.root, '--format', format, '--out', converted, '--calibration', String(CALIBRATION_IMAGES), '--seed', String(seed));
    const result = await runConverter(found.python, args, opts.onLog ?? (() => undefined));
    await fs.mkdir(out, { recursive: true });
    // The model goes in whole or not at all: a SavedModel folder from before is replaced, not merged.
    await fs.rm(path.join(out, modelFile), { recursive: true, force: true });
    await fs.cp(converted, path.join(out, modelFile), { recursive: true });
    for (const f of ['labels.json', 'preprocessing.json']) await fs.copyFile(path.join(tmp, f), path.join(out, f));
    const accuracy = {
      testCount: result.testCount,
      original: record.metrics.accuracy ?? null,
      keras: result.kerasAccuracy,
      converted: result.convertedAccuracy,
    };
    const exported: ConvertedExport = {
      format: 'transfer-lab-export',
      version: 1,
      exportFormat: format,
      modelFile,
      run: runDir,
      python: found.python,
      tensorflow: result.tensorflow,
      keras: result.keras,
      accuracy,
      flagged: accuracyDropped(accuracy),
      ...(format === 'tflite-int8' ? { calibrationImages: Math.min(CALIBRATION_IMAGES, splits.splits.train.length) } : {}),
    };
    await fs.writeFile(path.join(out, CONVERTED_EXPORT_RECORD), `${JSON.stringify(exported, null, 2)}\n`);
    return { files: [modelFile, 'labels.json', 'preprocessing.json', CONVERTED_EXPORT_RECORD], record: exported };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
