// Export: one TF.js layers model (base + head, loadable with tf.loadLayersModel), labels and
// the preprocessing it needs. Written to a temporary folder and renamed into place, so a
// `model/` folder that exists is always complete.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type * as tfTypes from '@tensorflow/tfjs';
import type { PreprocessingFile } from '../core/preprocessingFile';
import { tf } from './tf';

/** preprocessing.json (version 2; see core/preprocessingFile.ts): everything `predict` needs to feed the model as training did. */
export type Preprocessing = PreprocessingFile;

export async function saveLayersModel(model: tfTypes.LayersModel, dir: string): Promise<void> {
  const t = tf();
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    t.io.withSaveHandler(async (artifacts) => {
      const weightsFile = 'weights.bin';
      const manifest = [{ paths: [weightsFile], weights: artifacts.weightSpecs ?? [] }];
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${t.version_layers} (Transfer Lab)`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: manifest,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      };
      const data = artifacts.weightData as ArrayBuffer;
      fs.writeFileSync(path.join(dir, weightsFile), new Uint8Array(data));
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }),
  );
}

async function saveGraphModel(model: tfTypes.GraphModel, dir: string): Promise<void> {
  const t = tf();
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    t.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData as ArrayBuffer;
      fs.writeFileSync(path.join(dir, 'weights.bin'), new Uint8Array(data));
      const json = {
        format: 'graph-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology,
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
    }),
  );
}

/**
 * Writes model.json + weights.bin + labels.json + preprocessing.json into `targetDir`
 * atomically: everything goes to a sibling temp folder first, then one rename.
 */
export async function exportModel(
  model: tfTypes.LayersModel,
  labels: string[],
  preprocessing: Preprocessing,
  targetDir: string,
  graphBase?: tfTypes.GraphModel,
): Promise<void> {
  const parent = path.dirname(targetDir);
  const tmp = path.join(parent, `.${path.basename(targetDir)}.partial-${randomBytes(4).toString('hex')}`);
  try {
    await saveLayersModel(model, tmp);
    if (graphBase && preprocessing.graphBase) await saveGraphModel(graphBase, path.join(tmp, path.dirname(preprocessing.graphBase.path)));
    fs.writeFileSync(path.join(tmp, 'labels.json'), JSON.stringify(labels, null, 2));
    fs.writeFileSync(path.join(tmp, 'preprocessing.json'), JSON.stringify(preprocessing, null, 2));
    fs.rmSync(targetDir, { recursive: true, force: true });
    fs.renameSync(tmp, targetDir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
