// A TensorFlow.js layers model as a Keras 3 `model.keras`: the zip Keras 3's
// `model.save("model.keras")` writes (metadata.json, config.json, model.weights.h5), made
// with our own code, so `keras.models.load_model` reads it with no conversion step; or as
// Keras's legacy `model.h5`.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { kerasModelParts } from '../keras/kerasConfigWriter';
import { writeKerasWeights } from '../keras/kerasWeightsWriter';
import { writeZip } from '../keras/zipWriter';
import { writeKerasH5 } from '../keras/kerasH5Writer';

/** The Keras version whose file format is written (the one the round-trip test loads it with). */
export const KERAS_FORMAT_VERSION = '3.15.1';

/** "2026-12-03@01:09:17", as Keras dates its files. */
const kerasDate = (d: Date) => d.toISOString().slice(0, 19).replace('T', '@');

export async function writeKerasArchive(model: tfTypes.LayersModel, file: string): Promise<void> {
  const parts = kerasModelParts(model);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tl-keras-export-'));
  try {
    const weightsFile = path.join(tmp, 'model.weights.h5');
    await writeKerasWeights(weightsFile, parts);
    const metadata = { keras_version: KERAS_FORMAT_VERSION, date_saved: kerasDate(new Date()), written_by: 'Transfer Lab' };
    await writeZip(file, [
      { name: 'metadata.json', data: Buffer.from(JSON.stringify(metadata)) },
      { name: 'config.json', data: Buffer.from(JSON.stringify(parts.config)) },
      { name: 'model.weights.h5', data: await fs.readFile(weightsFile) },
    ]);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The same model as Keras's legacy HDF5 `model.h5` (loads in Keras 3 and in tf_keras). */
export async function writeKerasH5File(model: tfTypes.LayersModel, file: string): Promise<void> {
  await writeKerasH5(file, kerasModelParts(model), KERAS_FORMAT_VERSION);
}
