// Export a run's model for Keras: model.keras (Keras 3) or model.h5 (Keras's legacy HDF5
// format) with labels.json, the preprocessing.json it was trained with and preprocess.py,
// into a folder. Reads the run's model/ folder (the TF.js export every run writes).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { readPreprocessingFile, type PreprocessingFile } from '../../core/preprocessingFile';
import { loadBackbone } from '../backboneLoader';
import { KerasExportError } from '../keras/kerasLayerMap';
import { writeKerasArchive, writeKerasH5File } from './kerasArchive';
import { preprocessPy } from './preprocessPy';

export type KerasExportFormat = 'keras' | 'h5';

export const KERAS_EXPORT_FILES: Record<KerasExportFormat, string> = { keras: 'model.keras', h5: 'model.h5' };

export interface KerasExportResult {
  targetDir: string;
  /** Written, relative to targetDir. */
  files: string[];
}

async function readJson(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch (e) {
    throw new KerasExportError(`${file}: cannot read ${what} (${e instanceof Error ? e.message : String(e)}). Run the experiment again.`);
  }
}

/** The run's (or model folder's) labels and preprocessing; refuses a graph-model base, which has no Keras form. */
async function readModelDir(modelDir: string): Promise<{ labels: unknown; pre: PreprocessingFile }> {
  const labels = await readJson(path.join(modelDir, 'labels.json'), 'the class labels');
  const read = readPreprocessingFile(await readJson(path.join(modelDir, 'preprocessing.json'), 'the preprocessing'));
  if (!read.ok) throw new KerasExportError(`${modelDir}/preprocessing.json: ${read.error}. Run the experiment again.`);
  if (read.value.graphBase)
    throw new KerasExportError(
      `${modelDir}: the base is a TF.js graph model (${read.value.graphBase.path}), which has no Keras layers to write. Use a Keras or layers backbone for a Keras export, or export as TF.js layers.`,
    );
  return { labels, pre: read.value };
}

/** Writes the Keras export of the model in `modelDir` (a run's model/ folder) to `targetDir` (created when new). */
export async function exportKeras(
  modelDir: string,
  targetDir: string,
  format: KerasExportFormat,
  loader: { installRoot: string; cacheDir: string },
): Promise<KerasExportResult> {
  const { labels, pre } = await readModelDir(modelDir);
  const loaded = await loadBackbone({ path: path.join(modelDir, 'model.json') }, loader);
  if (loaded.kind !== 'layers') throw new KerasExportError(`${modelDir}/model.json: not a TF.js layers model; only layers models have a Keras form.`);
  const modelFile = KERAS_EXPORT_FILES[format];
  await fs.mkdir(targetDir, { recursive: true });
  // Written under a temporary name and renamed: a model file that is there is always complete.
  const partial = path.join(targetDir, `.${modelFile}.partial`);
  try {
    if (format === 'keras') await writeKerasArchive(loaded.model, partial);
    else await writeKerasH5File(loaded.model, partial);
    await fs.rename(partial, path.join(targetDir, modelFile));
  } finally {
    loaded.model.dispose();
    await fs.rm(partial, { force: true });
  }
  await fs.writeFile(path.join(targetDir, 'labels.json'), JSON.stringify(labels, null, 2));
  await fs.writeFile(path.join(targetDir, 'preprocessing.json'), JSON.stringify(pre, null, 2));
  await fs.writeFile(path.join(targetDir, 'preprocess.py'), preprocessPy(pre, modelFile));
  return { targetDir, files: [modelFile, 'labels.json', 'preprocessing.json', 'preprocess.py'] };
}
