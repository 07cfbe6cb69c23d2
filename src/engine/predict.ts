// Prediction with an exported model: exactly the files `exportModel` wrote (model.json,
// labels.json, preprocessing.json), so the CLI, the extension and users' own code agree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackbone } from './backboneLoader';
import { decodeImageFile, ImageDecodeError } from './imageDecode';
import { preprocessPixels, type PixelTransform } from '../core/preprocessing';
import { readPreprocessingFile, transformOf } from '../core/preprocessingFile';
import type { Preprocessing } from './exportModel';
import type { Prediction } from '../core/layerSummary';
import { tf } from './tf';

export interface Predictor {
  /** Image -> probabilities; for a graph-model base, the head on the base's features. */
  model: tfTypes.LayersModel;
  graphBase?: { model: tfTypes.GraphModel; outputNode: string };
  labels: string[];
  /** preprocessing.json as version 2 (a version 1 file of an older export is upgraded on reading). */
  preprocessing: Preprocessing;
  transform: PixelTransform;
  modelDir: string;
}

export type { Prediction } from '../core/layerSummary';

/** A run folder (with model/), a model folder, or a model.json path -> the model folder. */
export function resolveModelDir(target: string): string {
  const abs = path.resolve(target);
  if (abs.endsWith('.json')) return path.dirname(abs);
  if (fs.existsSync(path.join(abs, 'model', 'model.json'))) return path.join(abs, 'model');
  if (fs.existsSync(path.join(abs, 'model.json'))) return abs;
  const runJson = path.join(abs, 'run.json');
  throw new Error(
    fs.existsSync(runJson)
      ? `${abs}: this run has no exported model (model/ is missing: the run did not succeed). Pick a succeeded run.`
      : `${abs}: not a run folder or an exported model (no model.json). Pass a run folder, its model/ folder or a model.json.`,
  );
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new Error(`${file}: cannot read ${what} (${e instanceof Error ? e.message : e}). Re-export the model.`);
  }
}

export async function loadPredictor(target: string, installRoot: string, cacheDir: string): Promise<Predictor> {
  const modelDir = resolveModelDir(target);
  const labels = readJson<string[]>(path.join(modelDir, 'labels.json'), 'the class labels');
  const read = readPreprocessingFile(readJson<unknown>(path.join(modelDir, 'preprocessing.json'), 'the preprocessing'));
  if (!read.ok) throw new Error(`${modelDir}/preprocessing.json: ${read.error}. Re-export the model.`);
  const preprocessing = read.value;
  const loaded = await loadBackbone({ path: path.join(modelDir, 'model.json') }, { installRoot, cacheDir });
  if (loaded.kind !== 'layers') throw new Error(`${modelDir}/model.json: expected a layers model`);
  let graphBase: Predictor['graphBase'];
  if (preprocessing.graphBase) {
    const base = await loadBackbone({ path: path.join(modelDir, preprocessing.graphBase.path) }, { installRoot, cacheDir });
    if (base.kind !== 'graph') throw new Error(`${modelDir}/${preprocessing.graphBase.path}: expected a graph model`);
    graphBase = { model: base.model, outputNode: preprocessing.graphBase.outputNode };
  }
  return { model: loaded.model, graphBase, labels, preprocessing, transform: transformOf(preprocessing), modelDir };
}

export async function predictFiles(predictor: Predictor, files: string[], topK = 3): Promise<Prediction[]> {
  return predictInBatches(predictor, files, { topK });
}

export interface BatchOptions {
  topK?: number;
  /** Images per forward pass. */
  batchSize?: number;
  /** After each batch: its predictions, and how many images are done. */
  onBatch?: (predictions: Prediction[], done: number) => Promise<void> | void;
  /** Checked between batches: a big folder stops at the next batch boundary. */
  shouldStop?: () => boolean;
}

/** Decodes and classifies `files` a batch at a time; a file that cannot be read gets its error, the rest go on. */
export async function predictInBatches(predictor: Predictor, files: string[], options: BatchOptions = {}): Promise<Prediction[]> {
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const results: Prediction[] = [];
  for (let start = 0; start < files.length; start += batchSize) {
    if (options.shouldStop?.()) break;
    const batch = await predictBatch(predictor, files.slice(start, start + batchSize), options.topK ?? 3);
    results.push(...batch);
    await options.onBatch?.(batch, results.length);
  }
  return results;
}

type Decoded = { file: string; input: Float32Array } | { file: string; error: string };

async function decodeFor(predictor: Predictor, file: string): Promise<Decoded> {
  const [height, width] = predictor.preprocessing.inputSize;
  try {
    const image = await decodeImageFile(file, { height, width, resize: predictor.preprocessing.resize });
    return { file, input: preprocessPixels(image.pixels, predictor.transform) };
  } catch (e) {
    return { file, error: e instanceof ImageDecodeError ? e.reason : e instanceof Error ? e.message : String(e) };
  }
}

/** One forward pass over the images that decoded; the others keep their error. */
async function predictBatch(predictor: Predictor, files: string[], topK: number): Promise<Prediction[]> {
  const t = tf();
  const [h, w] = predictor.preprocessing.inputSize;
  const decoded = await Promise.all(files.map((file) => decodeFor(predictor, file)));
  const ok = decoded.filter((d): d is Extract<Decoded, { input: Float32Array }> => 'input' in d);
  const size = h * w * 3;
  const probs = ok.length
    ? t.tidy(() => {
        const all = new Float32Array(ok.length * size);
        ok.forEach((d, i) => all.set(d.input, i * size));
        const x = t.tensor4d(all, [ok.length, h, w, 3]);
        const features = predictor.graphBase ? (predictor.graphBase.model.execute(x, predictor.graphBase.outputNode) as tfTypes.Tensor) : x;
        return (predictor.model.predict(features) as tfTypes.Tensor).arraySync() as number[][];
      })
    : [];
  let next = 0;
  return decoded.map((d) => {
    if ('error' in d) return { file: d.file, top: [], error: d.error };
    const top = probs[next++]
      .map((probability, i) => ({ label: predictor.labels[i] ?? `class ${i}`, probability }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, topK);
    return { file: d.file, top };
  });
}
