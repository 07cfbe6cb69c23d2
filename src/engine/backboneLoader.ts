// Loads the backbone an experiment's `backbone` field names: a catalog id, a local file (a
// TF.js model.json or its folder, a Keras 3 `.keras`, a Keras `.h5`) or a URL. The pieces:
// where the files come from (backbone/source.ts), Keras files (keras/kerasFile.ts), a Keras
// config + weights -> a TF.js model (backbone/layersModel.ts, through keras/*), the default
// cut (backbone/classifierCut.ts) and the preprocessing the network expects
// (backbone/preprocessingGuess.ts). Here: which of those applies, and in what order the
// cut and the preprocessing are decided (the experiment file first, then what the files
// say, then a guess that is always reported).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BackboneSpec, StrategySpec } from '../core/experiment';
import type { BackboneCatalogEntry } from '../core/backboneCatalog';
import {
  modeForValueRange,
  pixelTransform,
  PREPROCESSING_MODES,
  type PixelTransform,
  type PreprocessingMode,
  type PreprocessingSource,
} from '../core/preprocessing';
import { BackboneError } from './backbone/backboneError';
import { findClassifierCut } from './backbone/classifierCut';
import { buildLayersModel, type LayersSource } from './backbone/layersModel';
import { guessPreprocessing } from './backbone/preprocessingGuess';
import {
  describeSource,
  kerasApplicationSourceFor,
  modelFilesFor,
  resolveSource,
  type BackboneOrigin,
  type LoadBackboneOptions,
  type ModelFiles,
  type ResolvedSource,
} from './backbone/source';
import { assembleWeights, decodeTfjsWeights } from './backbone/tfjsWeights';
import { isObj, parseKerasModel, type Json } from './keras/kerasGraph';
import { KerasFileError, kerasFileKind, readKerasFile, readWeightsFile } from './keras/kerasFile';
import { Hdf5Error } from './keras/hdf5';
import { ZipError } from './keras/zipArchive';
import { weightsLookup } from './keras/kerasWeights';
import { toTfjsTopology } from './keras/tfjsTopology';
import { LayerError } from './modelSurgery';
import { tf } from './tf';

export { BackboneError } from './backbone/backboneError';
export { findClassifierCut } from './backbone/classifierCut';
export { modelJsonUrlFor, readLocalModelFiles, type LoadBackboneOptions } from './backbone/source';

interface LoadedBackboneCommon {
  /** [height, width, channels] of the network's input. */
  inputShape: [number, number, number];
  /** How pixels 0..255 become the network's input (Keras's preprocess_input mode). */
  preprocessing: PixelTransform;
  preprocessingFrom: PreprocessingSource;
  catalog?: BackboneCatalogEntry;
  /** Human-readable origin, stable across runs (also a cache-key ingredient): "catalog:<id> <url>", a path or a URL. */
  source: string;
  origin: BackboneOrigin;
  /** Layer (layers models) or graph node (graph models) whose output the head consumes. */
  cutAt: string;
  cutFrom: 'spec' | 'catalog' | 'model card' | 'classifier head removed' | 'model output';
  /** sha256 of model.json when it came through the download cache. */
  modelJsonSha256?: string;
  fromCache: boolean;
  offline: boolean;
  /** Things worth telling the user (offline copy used, Keras 3 normalised, assumptions made). */
  notes: string[];
}

export type LoadedBackbone =
  (LoadedBackboneCommon & { kind: 'layers'; model: tfTypes.LayersModel }) | (LoadedBackboneCommon & { kind: 'graph'; model: tfTypes.GraphModel });

/** A TF.js graph model (TF Hub / Kaggle feature vectors): loaded as is, it cannot be rewritten. */
async function buildGraphModel(files: ModelFiles): Promise<tfTypes.GraphModel> {
  const t = tf();
  const { specs, data } = assembleWeights(files);
  const artifacts = await t.io.getModelArtifactsForJSON(files.modelJson as unknown as tfTypes.io.ModelJSON, async () => [specs, data]);
  try {
    return await t.loadGraphModel(t.io.fromMemory(artifacts));
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const op = /Op is not supported: ?(\w+)/i.exec(msg);
    throw new BackboneError(
      'backbone',
      `${files.where}: TensorFlow.js cannot load this graph model (${msg})${op ? `; the TensorFlow op '${op[1]}' has no TensorFlow.js kernel` : ''}. Convert it again with a current tensorflowjs_converter, or use another backbone.`,
      files.where,
    );
  }
}

// ---------------------------------------------------------------------------------------
// Format, input, value range, cut

export type ModelJsonFormat = 'layers' | 'graph';

/** layers vs graph, from `format` or else the shape of modelTopology. */
export function detectModelFormat(modelJson: Record<string, unknown>, where = 'model.json'): ModelJsonFormat {
  const format = modelJson.format;
  if (format === 'graph-model') return 'graph';
  if (format === 'layers-model') return 'layers';
  const topology = modelJson.modelTopology;
  if (isObj(topology)) {
    if (Array.isArray(topology.node)) return 'graph';
    if (typeof topology.class_name === 'string' || isObj(topology.model_config) || 'config' in topology) return 'layers';
  }
  throw new BackboneError(
    'backbone',
    `${where}: cannot tell whether this is a layers or a graph model (format '${String(format ?? 'missing')}', modelTopology has neither class_name nor node). Convert the model with tensorflowjs_converter.`,
    where,
  );
}

interface ModelCard {
  cutAt?: string;
  valueRange?: [number, number];
  preprocessing?: string;
  inputSize?: number[];
}

function readJsonIfExists<T>(file: string | undefined): T | undefined {
  if (!file || !fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

const isRange = (v: unknown): v is [number, number] =>
  Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[0] < v[1];

function nearbyNames(name: string, names: string[]): string {
  const near = names.filter((n) => n.includes(name) || name.includes(n)).slice(0, 3);
  return near.length > 0 ? ` Did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : '';
}

/** Node names of a graph model's topology (without ":0"), for checking a graph cutAt. */
function graphNodeNames(modelJson: Record<string, unknown>): string[] {
  const nodes = isObj(modelJson.modelTopology) && Array.isArray(modelJson.modelTopology.node) ? modelJson.modelTopology.node : [];
  return nodes.map((n) => String((n as Json).name));
}

/**
 * The model config and weights of a layers model, whichever file it came in. Keras 3
 * configs are read as they are (the converter keeps them); weights are matched by name
 * (Keras 2 `<layer>/<weight>`, Keras 3 `layers/<class>_N/vars/i`).
 */
function layersSourceFromModelJson(files: ModelFiles): LayersSource {
  const topology = files.modelJson.modelTopology;
  const { table, count } = decodeTfjsWeights(files);
  const entry = isObj(topology) && isObj(topology.model_config) ? topology.model_config : (topology as Json);
  const kerasVersion = isObj(topology) && typeof topology.keras_version === 'string' ? topology.keras_version : undefined;
  return {
    topology,
    kerasVersion,
    weightsOf: count > 0 ? weightsLookup(table, entry) : undefined,
    where: files.where,
    notes: files.notes,
    weightNames: [...table.keys()],
  };
}

/**
 * The model topology as tfjs-layers reads it (Keras 2 form): Keras 3 keys, DTypePolicy
 * objects and `{args, kwargs}` nodes rewritten, nested models inlined. Notes say what changed.
 */
export function normaliseLayersTopology(topology: unknown, notes: string[] = []): Json {
  const graph = parseKerasModel(topology, 'model.json');
  if (/^3/.test(graph.kerasVersion ?? '')) notes.push('Keras 3 model config: converted to the Keras 2 form TensorFlow.js reads.');
  return toTfjsTopology(graph, notes);
}

const isMode = (v: unknown): v is PreprocessingMode => typeof v === 'string' && (PREPROCESSING_MODES as readonly string[]).includes(v);

/** Experiment file, then what the files say, then the architecture; the fallback is reported. */
function decidePreprocessing(
  spec: BackboneSpec,
  card: ModelCard | undefined,
  catalog: BackboneCatalogEntry | undefined,
  saved: { valueRange?: unknown; preprocessing?: unknown; mode?: unknown } | undefined,
  metadata: Json | undefined,
  model: tfTypes.LayersModel | undefined,
  notes: string[],
): { mode: PreprocessingMode; from: PreprocessingSource } {
  const requested = spec.preprocessing;
  if (isMode(requested)) return { mode: requested, from: 'experiment file' };
  const fromRange = (v: unknown) => (isRange(v) ? modeForValueRange(v) : undefined);
  const cardMode = isMode(card?.preprocessing) ? card.preprocessing : fromRange(card?.valueRange);
  if (cardMode) return { mode: cardMode, from: 'model card' };
  if (catalog) return { mode: catalog.preprocessing, from: 'catalog' };
  // preprocessing.json version 2 (our exports) has `mode`; version 1 only a value range.
  const savedPre = saved?.mode ?? (isObj(saved?.preprocessing) ? saved.preprocessing.mode : saved?.preprocessing);
  const savedMode = isMode(savedPre) ? savedPre : fromRange(saved?.valueRange);
  if (savedMode) return { mode: savedMode, from: 'preprocessing.json' };
  const metaMode = isMode(metadata?.preprocessing) ? metadata.preprocessing : fromRange(metadata?.valueRange);
  if (metaMode) return { mode: metaMode, from: 'model.json metadata' };
  if (model) {
    const inputs = new Set(model.inputLayers.map((l) => l.name));
    const first = model.layers.filter((l) => l.inboundNodes.some((n) => n.inboundLayers.some((i) => inputs.has(i.name))));
    const guess = guessPreprocessing(
      model.layers.map((l) => ({ name: l.name, className: l.getClassName() })),
      first.map((l) => ({ name: l.name, className: l.getClassName() })),
    );
    if (guess) {
      notes.push(
        `Preprocessing guessed from the model: "${guess.mode}" (${guess.because}). Set backbone.preprocessing in the experiment file if this is wrong.`,
      );
      return { mode: guess.mode, from: guess.because.startsWith('its own') ? 'model layers' : 'architecture (guessed)' };
    }
  }
  notes.push(
    'Nothing says how this model wants its pixels; assuming [0, 1] ("zero-one"). Keras Applications need "tf" ([-1, 1]: MobileNet, Inception, Xception), "caffe" (ResNet v1, VGG) or "torch" (DenseNet): set backbone.preprocessing in the experiment file.',
  );
  return { mode: 'zero-one', from: 'assumed' };
}

/** Loads the backbone an experiment names; see the file comment for what is checked. */
export async function loadBackbone(spec: BackboneSpec, opts: LoadBackboneOptions): Promise<LoadedBackbone> {
  const src = resolveSource(spec, opts);
  const keras = src.kind === 'file' && !src.catalog ? kerasFileKind(src.file) : undefined;
  const { files, layersSource } = await readModel(src, spec, opts, !!keras);
  const notes = files?.notes ?? layersSource!.notes;
  const format = files ? detectModelFormat(files.modelJson, files.where) : 'layers';
  if (src.catalog && src.catalog.format !== format) {
    notes.push(`The catalog says '${src.catalog.id}' is a ${src.catalog.format} model, but its model.json is a ${format} model; loading it as ${format}.`);
  }
  const ctx = loadContext(spec, src, files, notes, !!keras);
  if (format === 'graph' && files) return finishGraphModel(ctx, files);
  const source = layersSource ?? layersSourceFromModelJson(files!);
  const weightsFile = src.kind === 'keras-application' ? undefined : spec.weights;
  if (weightsFile) await useWeightsFile(source, path.resolve(opts.baseDir ?? process.cwd(), weightsFile), notes);
  const built = await buildLayersModel(source, spec.cutAt);
  const model = built.model;
  const { cutAt, cutFrom } = chooseLayersCut(ctx, model, built.cutAt);
  return { kind: 'layers', model, inputShape: ctx.inputShapeFrom(model.inputs[0].shape), cutAt, cutFrom, ...ctx.withPreprocessing(model), ...ctx.common };
}

/** The model's files: a Keras file or a Keras application as a layers source, anything else as TF.js model files. */
async function readModel(
  src: ResolvedSource,
  spec: BackboneSpec,
  opts: LoadBackboneOptions,
  keras: boolean,
): Promise<{ files?: ModelFiles; layersSource?: LayersSource }> {
  if (keras && src.kind === 'file') {
    try {
      const contents = await readKerasFile(src.file);
      return {
        layersSource: {
          topology: contents.topology,
          kerasVersion: contents.kerasVersion,
          weightsOf: contents.weightCount > 0 ? contents.weightsOf : undefined,
          where: src.file,
          notes: contents.notes,
        },
      };
    } catch (e) {
      // The readers' own errors already name the file and say what to do.
      if (e instanceof KerasFileError || e instanceof Hdf5Error || e instanceof ZipError) throw new BackboneError('backbone.path', e.message, src.file);
      throw e;
    }
  }
  if (src.kind === 'keras-application') {
    return { layersSource: await kerasApplicationSourceFor(src, spec, opts) }; // backbone.weights is read there, by position
  }
  return { files: await modelFilesFor(src, opts) };
}

/** What both kinds of model need to finish: the experiment, the model card, the notes, and how input shape and preprocessing are decided. */
interface LoadContext {
  spec: BackboneSpec;
  card: ModelCard | undefined;
  catalog: BackboneCatalogEntry | undefined;
  notes: string[];
  common: Omit<LoadedBackboneCommon, 'inputShape' | 'preprocessing' | 'preprocessingFrom' | 'cutAt' | 'cutFrom'>;
  withPreprocessing(model: tfTypes.LayersModel | undefined): { preprocessing: PixelTransform; preprocessingFrom: PreprocessingSource };
  inputShapeFrom(shape: readonly (number | null | undefined)[] | undefined): [number, number, number];
}

function loadContext(spec: BackboneSpec, src: ResolvedSource, files: ModelFiles | undefined, notes: string[], keras: boolean): LoadContext {
  const catalog = src.catalog;
  const localDir = src.kind === 'file' ? path.dirname(src.file) : undefined;
  const card = src.kind === 'file' ? readJsonIfExists<ModelCard>(src.card ?? path.join(path.dirname(src.file), 'card.json')) : undefined;
  const saved =
    localDir && !keras
      ? readJsonIfExists<{ valueRange?: unknown; preprocessing?: unknown; mode?: unknown }>(path.join(localDir, 'preprocessing.json'))
      : undefined;
  const metadata = files && isObj(files.modelJson.userDefinedMetadata) ? files.modelJson.userDefinedMetadata : undefined;
  const common = {
    catalog,
    source: describeSource(src),
    origin: src.origin,
    modelJsonSha256: files?.modelJsonSha256,
    fromCache: files?.fromCache ?? false,
    offline: files?.offline ?? false,
    notes,
  };
  const withPreprocessing = (model: tfTypes.LayersModel | undefined) => {
    const { mode, from } = decidePreprocessing(spec, card, catalog, saved, metadata, model, notes);
    return { preprocessing: pixelTransform(mode), preprocessingFrom: from };
  };
  const fallbackSize = (card?.inputSize?.length === 3 ? card.inputSize : undefined) ?? catalog?.inputSize;
  const inputShapeFrom = (shape: readonly (number | null | undefined)[] | undefined): [number, number, number] => {
    const dims = (shape ?? []).slice(-3).map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
    const h = dims[0] ?? fallbackSize?.[0];
    const w = dims[1] ?? fallbackSize?.[1];
    const c = dims[2] ?? fallbackSize?.[2] ?? 3;
    if (h === undefined || w === undefined) {
      notes.push('The model accepts any image size; using 224x224.');
      return [h ?? 224, w ?? 224, c];
    }
    return [h, w, c];
  };
  return { spec, card, catalog, notes, common, withPreprocessing, inputShapeFrom };
}

/** A graph model, cut at its output or at the node backbone.cutAt names. */
async function finishGraphModel(ctx: LoadContext, files: ModelFiles): Promise<LoadedBackbone> {
  const { spec } = ctx;
  const model = await buildGraphModel(files);
  const outputs = model.outputs.map((o) => o.name.replace(/:0$/, ''));
  let cutAt = outputs[0];
  let cutFrom: LoadedBackboneCommon['cutFrom'] = 'model output';
  if (spec.cutAt) {
    const names = graphNodeNames(files.modelJson);
    if (!names.includes(spec.cutAt.replace(/:0$/, ''))) {
      model.dispose();
      throw new LayerError(
        'backbone.cutAt',
        `backbone.cutAt: the graph model has no node '${spec.cutAt}'.${nearbyNames(spec.cutAt, names)} For a graph model, cutAt names a node of its TensorFlow graph; leave it out to use the model's output (${outputs.join(', ')}).`,
      );
    }
    [cutAt, cutFrom] = [spec.cutAt.replace(/:0$/, ''), 'spec'];
  }
  return { kind: 'graph', model, inputShape: ctx.inputShapeFrom(model.inputs[0]?.shape), cutAt, cutFrom, ...ctx.withPreprocessing(undefined), ...ctx.common };
}

/** backbone.weights: the layers' weights come from this file instead of the model file. */
async function useWeightsFile(source: LayersSource, file: string, notes: string[]): Promise<void> {
  try {
    const weights = await readWeightsFile(file);
    const t = source.topology;
    source.weightsOf = weights.lookup(isObj(t) && isObj(t.model_config) ? t.model_config : (t as Json));
    notes.push(`Weights read from ${file} (${weights.count} arrays), not from the model file.`);
  } catch (e) {
    if (e instanceof KerasFileError || e instanceof Hdf5Error) throw new BackboneError('backbone.weights', `backbone.weights: ${e.message}`, file);
    throw e;
  }
}

/** The layer the head consumes: the experiment's cutAt, then the model card's, the catalog's, or before the classifier head. */
function chooseLayersCut(
  { spec, card, catalog, notes }: LoadContext,
  model: tfTypes.LayersModel,
  requestedCut: string | undefined,
): { cutAt: string; cutFrom: LoadedBackboneCommon['cutFrom'] } {
  const names = model.layers.map((l) => l.name);
  if (requestedCut && spec.cutAt) {
    if (!names.includes(requestedCut)) {
      model.dispose();
      throw new LayerError(
        'backbone.cutAt',
        `backbone.cutAt: the backbone has no layer '${spec.cutAt}'.${nearbyNames(spec.cutAt, names)} Run \`transfer-lab inspect\` or open the layer tree to see the layer names.`,
      );
    }
    return { cutAt: requestedCut, cutFrom: 'spec' };
  }
  if (card?.cutAt && names.includes(card.cutAt)) return { cutAt: card.cutAt, cutFrom: 'model card' };
  if (catalog?.defaultCut && names.includes(catalog.defaultCut)) return { cutAt: catalog.defaultCut, cutFrom: 'catalog' };
  if (catalog?.defaultCut) notes.push(`The catalog's usual cut '${catalog.defaultCut}' is not a layer of this model; cutting before its classifier instead.`);
  const found = findClassifierCut(model);
  const cutAt = found.cutAt;
  if (found.removedHead)
    notes.push(`Default cut: '${cutAt}', the last feature layer before the model's own classifier head (set backbone.cutAt to choose another layer).`);
  return { cutAt, cutFrom: found.removedHead ? 'classifier head removed' : 'model output' };
}

/** Throws when a strategy needs to train a model that cannot be trained (a graph model). */
export function assertFineTunable(loaded: LoadedBackbone, strategyKind: StrategySpec['kind']): void {
  if (loaded.kind !== 'graph' || strategyKind === 'feature-extraction') return;
  const what = loaded.catalog ? `'${loaded.catalog.id}'` : loaded.source;
  throw new BackboneError(
    'strategy.kind',
    `strategy.kind '${strategyKind}': ${what} is a graph model, and a graph model cannot be ${strategyKind === 'scratch' ? 'rebuilt with fresh weights' : 'fine-tuned'} (it is a frozen TensorFlow graph with no trainable layers). ` +
      'Use "feature-extraction" with this backbone, or pick a layers model (e.g. a mobilenet_v1_* or mobilenet_v2_* catalog entry) to fine-tune.',
  );
}
