// transfer-lab export <run-or-model> --out DIR [--format keras|h5|tfjs|tflite|tflite-int8|savedmodel]
// [--python PATH] [--force]: a run's model for use elsewhere. keras: Keras 3 model.keras; h5:
// Keras's legacy HDF5 model.h5 (both with labels.json, preprocessing.json and preprocess.py);
// tfjs: the TF.js layers model as the run keeps it, with a README of loading code; tflite,
// tflite-int8, savedmodel: converted by TensorFlow in a Python that has it, with export.json
// (the test accuracy before and after). Never replaces files without --force.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { resolveModelDir } from '../engine/predict';
import { exportKeras, KERAS_EXPORT_FILES, type KerasExportFormat } from '../engine/export/kerasExport';
import { KerasExportError } from '../engine/keras/kerasLayerMap';
import { readPreprocessingFile } from '../core/preprocessingFile';
import { exportReadme } from '../core/exportReadme';
import { CONVERTED_FORMATS, CONVERTED_MODEL_FILES, CONVERTED_EXPORT_RECORD, describeAccuracy, type ConvertedFormat } from '../core/convertedExport';
import { exportConverted } from '../engine/export/tensorflowConvert';
import { PythonNotFoundError } from '../engine/export/pythonFinder';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, loadCliBackend, type CliContext } from './context';

const FORMATS = ['keras', 'h5', 'tfjs', ...CONVERTED_FORMATS] as const;
type ExportFormat = (typeof FORMATS)[number];

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** The TF.js export: the run's model/ folder as it is, and a README.md made from its preprocessing.json. */
async function exportTfjs(modelDir: string, out: string): Promise<string[]> {
  const names = await fs.readdir(modelDir);
  await fs.mkdir(out, { recursive: true });
  for (const n of names) await fs.cp(path.join(modelDir, n), path.join(out, n), { recursive: true });
  const read = readPreprocessingFile(JSON.parse(await fs.readFile(path.join(modelDir, 'preprocessing.json'), 'utf8')) as unknown);
  await fs.writeFile(path.join(out, 'README.md'), exportReadme(read.ok ? read.value : undefined));
  return [...names, 'README.md'];
}

const isConverted = (f: ExportFormat): f is ConvertedFormat => (CONVERTED_FORMATS as readonly string[]).includes(f);

/** A TensorFlow conversion; the converter's progress lines go to stderr (stdout stays parseable). */
function convert(ctx: CliContext, modelDir: string, out: string, format: ConvertedFormat, python: string | undefined) {
  return exportConverted(modelDir, out, format, { installRoot: ctx.installRoot, cacheDir: ctx.cacheDir, python, onLog: (l) => ctx.err(l) });
}

function plannedFiles(format: ExportFormat, modelDirNames: string[]): string[] {
  if (format === 'tfjs') return [...modelDirNames, 'README.md'];
  if (isConverted(format)) return [CONVERTED_MODEL_FILES[format], 'labels.json', 'preprocessing.json', CONVERTED_EXPORT_RECORD];
  return [KERAS_EXPORT_FILES[format], 'labels.json', 'preprocessing.json', 'preprocess.py'];
}

export async function exportCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [target, ...extra] = args.positionals;
  const outOption = args.options.get('out');
  if (!target || extra.length > 0) throw new UsageError('export: give one run folder (or model folder)');
  if (!outOption) throw new UsageError('export: --out DIR names the folder to write (created when new)');
  const format = (args.options.get('format') ?? 'keras') as ExportFormat;
  if (!FORMATS.includes(format)) throw new UsageError(`export --format: '${format}' is not one of ${FORMATS.join(', ')}`);
  const out = path.resolve(outOption);
  let modelDir: string;
  try {
    modelDir = resolveModelDir(target);
  } catch (e) {
    ctx.err((e as Error).message);
    return EXIT.badInput;
  }
  if (out === modelDir || out.startsWith(modelDir + path.sep))
    throw new UsageError(`export --out: pick a folder outside the run's own model folder (${modelDir})`);
  const clashes = [];
  for (const f of plannedFiles(format, await fs.readdir(modelDir))) if (await exists(path.join(out, f))) clashes.push(f);
  if (clashes.length > 0 && !args.flags.has('force')) {
    ctx.err(`${out} already has ${clashes.join(', ')}: pass --force to replace them, or pick another --out folder.`);
    return EXIT.badInput;
  }
  let files: string[];
  let conversion: Awaited<ReturnType<typeof convert>>['record'] | undefined;
  if (format === 'tfjs') files = await exportTfjs(modelDir, out);
  else {
    await loadCliBackend(ctx);
    try {
      if (isConverted(format)) ({ files, record: conversion } = await convert(ctx, modelDir, out, format, args.options.get('python')));
      else files = (await exportKeras(modelDir, out, format as KerasExportFormat, { installRoot: ctx.installRoot, cacheDir: ctx.cacheDir })).files;
    } catch (e) {
      if (!(e instanceof KerasExportError || e instanceof PythonNotFoundError)) throw e;
      ctx.err(e.message);
      return EXIT.badInput;
    }
  }
  if (ctx.json)
    ctx.out(JSON.stringify({ format, modelDir, out, files, ...(conversion ? { accuracy: conversion.accuracy, flagged: conversion.flagged } : {}) }));
  else ctx.out(`exported ${modelDir} as ${format} to ${out}: ${files.join(', ')}${conversion ? `; ${describeAccuracy(conversion)}` : ''}`);
  return EXIT.ok;
}
