// Loads a backbone named by an experiment's `backbone` field: a catalog id, a local
// model.json, or a URL. Local files are read with fs by our own IOHandler (so every backend,
// wasm and cpu included, loads them the same way, and weight paths are checked); URLs go
// through the verified download cache (modelCache.ts). Layers models are normalised first
// (Keras 3 topology JSON -> the Keras 2 shape tfjs reads), checked for layer classes tfjs
// lacks, and their weights are matched to the topology with errors that name the file and
// the layer. The cut point is resolved here: spec.cutAt, else the catalog's (or model
// card's) usual cut, else the last layer before the original classifier.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BackboneSpec, StrategySpec } from '../core/experiment';
import { findCatalogEntry, findCatalogEntryByUrl, suggestCatalogIds, type BackboneCatalogEntry } from '../core/backboneCatalog';
import {
  fetchModel,
  manifestPaths,
  unsafeWeightPathReason,
  weightPathError,
  type DownloadLimits,
  type ProgressCallback,
} from './modelCache';
import { LayerError } from './modelSurgery';
import { tf } from './tf';

export interface LoadBackboneOptions {
  /** Folder Transfer Lab ships from (bundled backbones live under it). */
  installRoot: string;
  /** Download cache (blobs + index). */
  cacheDir: string;
  /** Relative `backbone.path` values resolve against this (the experiment file's folder). Default: cwd. */
  baseDir?: string;
  onProgress?: ProgressCallback;
  /** Timeouts and size limit for downloads. */
  download?: DownloadLimits;
}

interface LoadedBackboneCommon {
  /** [height, width, channels] of the network's input. */
  inputShape: [number, number, number];
  /** Pixels 0..255 map linearly onto this range. */
  valueRange: [number, number];
  /** Where valueRange came from. */
  valueRangeFrom: 'catalog' | 'model card' | 'preprocessing.json' | 'model.json metadata' | 'assumed';
  catalog?: BackboneCatalogEntry;
  /** Human-readable origin, stable across runs (also a cache-key ingredient): "catalog:<id> <url>", a path or a URL. */
  source: string;
  origin: { kind: 'catalog' | 'path' | 'url'; location: string };
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
  | (LoadedBackboneCommon & { kind: 'layers'; model: tfTypes.LayersModel })
  | (LoadedBackboneCommon & { kind: 'graph'; model: tfTypes.GraphModel });

/** A problem with the backbone a user can fix: which file/field, what, what to do (one line). */
export class BackboneError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'BackboneError';
  }
}

// ---------------------------------------------------------------------------------------
// Where the files come from

interface ModelFiles {
  modelJson: Record<string, unknown>;
  /** Bytes of each weightsManifest path, in manifest order. */
  weights: { path: string; data: Uint8Array }[];
  /** model.json's path or URL, for messages. */
  where: string;
  /** Folder of a local model.json (for sibling card/preprocessing files). */
  localDir?: string;
  modelJsonSha256?: string;
  fromCache: boolean;
  offline: boolean;
  notes: string[];
}

type ResolvedSource =
  | { kind: 'file'; file: string; catalog?: BackboneCatalogEntry; origin: LoadedBackboneCommon['origin']; card?: string }
  | { kind: 'url'; url: string; catalog?: BackboneCatalogEntry; origin: LoadedBackboneCommon['origin'] };

const TF_HUB_HOSTS = new Set(['tfhub.dev', 'www.kaggle.com', 'kaggle.com']);

/** A model URL as tfjs's `fromTFHub` would fetch it: TF Hub/Kaggle handles get `/model.json?tfjs-format=file`. */
export function modelJsonUrlFor(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BackboneError('backbone.url', `backbone.url: '${url}' is not a valid URL. Give the https:// address of a model.json.`);
  }
  if (u.pathname.endsWith('.json')) return u.href;
  if (TF_HUB_HOSTS.has(u.hostname)) {
    const base = u.href.replace(/[?#].*$/, '').replace(/\/+$/, '');
    return `${base}/model.json?tfjs-format=file`;
  }
  return `${u.href.replace(/[?#].*$/, '').replace(/\/+$/, '')}/model.json`;
}

function resolveSource(spec: BackboneSpec, opts: LoadBackboneOptions): ResolvedSource {
  if ('catalog' in spec) {
    const entry = findCatalogEntry(spec.catalog);
    if (!entry) {
      const near = suggestCatalogIds(spec.catalog);
      throw new BackboneError(
        'backbone.catalog',
        `backbone.catalog: no backbone '${spec.catalog}' in the catalog.${near.length ? ` Did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : ''} Run \`transfer-lab inspect\` with a catalog id, or use backbone.path / backbone.url.`,
      );
    }
    if (entry.source.kind === 'bundled') {
      const file = path.join(opts.installRoot, entry.source.path);
      return { kind: 'file', file, catalog: entry, origin: { kind: 'catalog', location: entry.id }, card: path.join(opts.installRoot, entry.source.card) };
    }
    return { kind: 'url', url: entry.source.modelJsonUrl, catalog: entry, origin: { kind: 'catalog', location: entry.id } };
  }
  if ('url' in spec) {
    const url = modelJsonUrlFor(spec.url);
    return { kind: 'url', url, catalog: findCatalogEntryByUrl(spec.url) ?? findCatalogEntryByUrl(url), origin: { kind: 'url', location: spec.url } };
  }
  let file = path.resolve(opts.baseDir ?? process.cwd(), spec.path);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'model.json');
  return { kind: 'file', file, origin: { kind: 'path', location: file } };
}

function describeSource(src: ResolvedSource): string {
  if (src.origin.kind === 'catalog') return `catalog:${src.origin.location} ${src.kind === 'url' ? src.url : src.file}`;
  return src.kind === 'url' ? src.url : src.file;
}

/** Reads a local model.json and its weight files, refusing weight paths that leave its folder. */
export function readLocalModelFiles(file: string): ModelFiles {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BackboneError('backbone.path', `${file}: cannot read the model (${code === 'ENOENT' ? 'no such file' : code ?? e}). Check backbone.path; it must name a TF.js model.json or its folder.`, file);
  }
  let modelJson: Record<string, unknown>;
  try {
    modelJson = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new BackboneError('backbone.path', `${file}: not valid JSON (${(e as Error).message.split('\n')[0]}). Is this a TF.js model.json?`, file);
  }
  if (!modelJson || typeof modelJson !== 'object' || !('modelTopology' in modelJson)) {
    throw new BackboneError('backbone.path', `${file}: not a TF.js model.json (no modelTopology). Convert the model with tensorflowjs_converter first.`, file);
  }
  const dir = path.dirname(file);
  let realDir: string;
  try {
    realDir = fs.realpathSync(dir);
  } catch {
    realDir = dir;
  }
  const weights: ModelFiles['weights'] = [];
  for (const p of manifestPaths(modelJson, file).flat()) {
    const reason = unsafeWeightPathReason(p);
    if (reason) throw weightPathError(p, file, dir, reason);
    const target = path.resolve(dir, p);
    const rel = path.relative(dir, target);
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw weightPathError(p, file, dir, 'it resolves outside that folder');
    let real: string;
    try {
      real = fs.realpathSync(target);
    } catch {
      throw new BackboneError(
        'backbone.path',
        `${file}: weight file '${p}' is missing (looked for ${target}). Copy every file of the model folder (model.json and all its .bin shards) together.`,
        target,
      );
    }
    const realRel = path.relative(realDir, real);
    if (realRel.startsWith('..') || path.isAbsolute(realRel)) throw weightPathError(p, file, dir, `it is a link to ${real}, outside that folder`);
    weights.push({ path: p, data: fs.readFileSync(real) });
  }
  return { modelJson, weights, where: file, localDir: dir, fromCache: false, offline: false, notes: [] };
}

async function modelFilesFor(src: ResolvedSource, opts: LoadBackboneOptions): Promise<ModelFiles> {
  if (src.kind === 'file') {
    if (src.catalog && !fs.existsSync(src.file)) {
      throw new BackboneError(
        'backbone.catalog',
        `backbone.catalog: '${src.catalog.id}' should ship with Transfer Lab at ${src.file}, but it is not there. Reinstall, or rebuild it with the repository's backbone script.`,
        src.file,
      );
    }
    return readLocalModelFiles(src.file);
  }
  const fetched = await fetchModel(src.url, { cacheDir: opts.cacheDir, onProgress: opts.onProgress, ...opts.download });
  return {
    modelJson: fetched.modelJson,
    weights: fetched.weights.map((w) => ({ path: w.path, data: w.data })),
    where: src.url,
    modelJsonSha256: fetched.modelJsonSha256,
    fromCache: fetched.fromCache,
    offline: fetched.offline,
    notes: fetched.notes,
  };
}

// ---------------------------------------------------------------------------------------
// Weights: specs, sizes, one buffer

type WeightSpec = tfTypes.io.WeightsManifestEntry;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

function specBytes(spec: WeightSpec): number | undefined {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = DTYPE_BYTES[dtype];
  return per === undefined ? undefined : spec.shape.reduce((a, b) => a * b, 1) * per;
}

/** All weight specs and one buffer with every group's bytes, after checking each group is complete. */
function assembleWeights(files: ModelFiles): { specs: WeightSpec[]; data: ArrayBuffer } {
  const manifest = (files.modelJson.weightsManifest ?? []) as { paths: string[]; weights?: WeightSpec[] }[];
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  let cursor = 0;
  for (const group of manifest) {
    const groupSpecs = group.weights ?? [];
    const groupFiles = files.weights.slice(cursor, cursor + group.paths.length);
    cursor += group.paths.length;
    const have = groupFiles.reduce((s, f) => s + f.data.byteLength, 0);
    const sizes = groupSpecs.map(specBytes);
    const need = sizes.every((s): s is number => s !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined;
    if (need !== undefined && have < need) {
      const names = groupFiles.map((f) => `'${f.path}'`).join(', ');
      throw new BackboneError(
        'backbone',
        `${files.where}: weight file${groupFiles.length > 1 ? 's' : ''} ${names} ${groupFiles.length > 1 ? 'are' : 'is'} truncated: ${have} bytes, but model.json describes ${need}. ` +
          'Download or copy the model again (all .bin shards, completely), or re-export it.',
        files.where,
      );
    }
    if (need !== undefined && have > need) {
      files.notes.push(`${groupFiles.map((f) => f.path).join(', ')}: ${have - need} bytes more than model.json describes; the extra bytes are ignored.`);
    }
    specs.push(...groupSpecs);
    parts.push(...groupFiles.map((f) => f.data));
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.byteLength;
  }
  return { specs, data: data.buffer };
}

// ---------------------------------------------------------------------------------------
// Keras 2 / Keras 3 topology normalisation

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** Config keys Keras 3 writes that tfjs does not know (dropped; they do not change inference). */
const KERAS3_EXTRA_CONFIG_KEYS = ['optional', 'quantization_config', 'lora_rank', 'lora_alpha', 'synchronized', 'renorm', 'renorm_clipping', 'renorm_momentum'];

/** Extracts [layer, node, tensor] references from a Keras 3 node's args, in order. */
function kerasTensorRefs(value: unknown, out: [string, number, number][]): void {
  if (isObj(value)) {
    if (value.class_name === '__keras_tensor__' && isObj(value.config)) {
      const h = value.config.keras_history;
      if (Array.isArray(h) && h.length >= 3) out.push([String(h[0]), Number(h[1]), Number(h[2])]);
      return;
    }
    for (const v of Object.values(value)) kerasTensorRefs(v, out);
  } else if (Array.isArray(value)) {
    for (const v of value) kerasTensorRefs(v, out);
  }
}

function normaliseDtype(value: unknown, notes: Set<string>): unknown {
  if (!isObj(value)) return value;
  // Keras 3: {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}
  const name = isObj(value.config) ? value.config.name : undefined;
  if (typeof name !== 'string') return 'float32';
  if (name.startsWith('mixed_')) {
    notes.add(`dtype policy '${name}' was replaced by float32 (TensorFlow.js computes in float32).`);
    return 'float32';
  }
  return name;
}

function normaliseValue(value: unknown, notes: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => normaliseValue(v, notes));
  if (!isObj(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config') continue;
    out[k] = normaliseValue(v, notes);
  }
  if (typeof out.class_name === 'string' && isObj(out.config)) {
    const config = out.config;
    if ('dtype' in config) config.dtype = normaliseDtype(config.dtype, notes);
    for (const key of KERAS3_EXTRA_CONFIG_KEYS) delete config[key];
    if (out.class_name === 'InputLayer') {
      if ('batch_shape' in config && !('batch_input_shape' in config)) config.batch_input_shape = config.batch_shape;
      delete config.batch_shape;
      if ('shape' in config && !('batch_input_shape' in config) && Array.isArray(config.shape)) config.batch_input_shape = [null, ...config.shape];
      delete config.shape;
    }
    if (Array.isArray(out.inbound_nodes)) {
      out.inbound_nodes = out.inbound_nodes.map((node) => {
        if (!isObj(node) || !('args' in node)) return node; // Keras 2: already [[name, node, tensor, kwargs], ...]
        const refs: [string, number, number][] = [];
        kerasTensorRefs(node.args, refs);
        return refs.map(([n, i, t]) => [n, i, t, {}]);
      });
    }
    for (const key of ['input_layers', 'output_layers']) {
      const v = config[key];
      // Keras 3 writes a single input/output as ["name", 0, 0] instead of [["name", 0, 0]].
      if (Array.isArray(v) && v.length >= 3 && typeof v[0] === 'string') config[key] = [v];
    }
  }
  return out;
}

/**
 * The model topology as tfjs-layers reads it: `model_config` unwrapped, Keras 3 keys
 * (`module`, `registered_name`, `build_config`), `batch_shape`, DTypePolicy objects and
 * `{args, kwargs}` inbound nodes rewritten to their Keras 2 forms. Notes say what changed.
 */
export function normaliseLayersTopology(topology: unknown, notes: string[] = []): Json {
  let t = topology;
  if (isObj(t) && isObj(t.model_config)) t = t.model_config;
  if (!isObj(t) || typeof t.class_name !== 'string' || !isObj(t.config) && !Array.isArray(t.config)) {
    throw new BackboneError('backbone', 'model.json: modelTopology is not a Keras model config (no class_name/config). Re-export the model as a TF.js layers model.');
  }
  const text = JSON.stringify(t);
  const keras3 = /"(registered_name|batch_shape|__keras_tensor__)"/.test(text) || /"keras_version"\s*:\s*"3\./.test(text);
  const found = new Set<string>();
  const out = normaliseValue(t, found) as Json;
  if (keras3) notes.push('Keras 3 model config: converted to the Keras 2 form TensorFlow.js reads.');
  notes.push(...found);
  return out;
}

// ---------------------------------------------------------------------------------------
// Layer classes tfjs lacks

interface LayerRef {
  name: string;
  className: string;
}

/** The layers of a (normalised) topology, nested models and wrappers included. */
function topologyLayers(t: Json): (LayerRef & { entry: Json })[] {
  const out: (LayerRef & { entry: Json })[] = [];
  const visit = (entry: Json) => {
    const config = entry.config;
    const layers = Array.isArray(config) ? config : isObj(config) && Array.isArray(config.layers) ? config.layers : undefined;
    if (layers) {
      for (const l of layers) {
        if (!isObj(l)) continue;
        const name = String(l.name ?? (isObj(l.config) ? l.config.name : '') ?? '');
        out.push({ name, className: String(l.class_name), entry: l });
        visit(l);
      }
    }
    if (isObj(config) && isObj(config.layer)) {
      // Wrappers (Bidirectional, TimeDistributed) hold one inner layer.
      const inner = config.layer;
      out.push({ name: `${String(config.name ?? entry.name ?? '')}/${String(isObj(inner.config) ? inner.config.name : '')}`, className: String(inner.class_name), entry: inner });
      visit(inner);
    }
  };
  visit(t);
  return out;
}

function unsupportedLayers(t: Json): LayerRef[] {
  const known = tf().serialization.SerializationMap.getMap().classNameMap;
  return topologyLayers(t)
    .filter((l) => !(l.className in known))
    .map(({ name, className }) => ({ name, className }));
}

/** Layer names the output of `cutAt` depends on (Functional), or the prefix up to it (Sequential). */
function layersUpTo(t: Json, cutAt: string): Set<string> | undefined {
  const config = t.config;
  const layers = (Array.isArray(config) ? config : isObj(config) && Array.isArray(config.layers) ? config.layers : []) as Json[];
  const nameOf = (l: Json) => String(l.name ?? (isObj(l.config) ? l.config.name : ''));
  const index = layers.findIndex((l) => nameOf(l) === cutAt);
  if (index < 0) return undefined;
  if (t.class_name === 'Sequential') return new Set(layers.slice(0, index + 1).map(nameOf));
  const byName = new Map(layers.map((l) => [nameOf(l), l]));
  const keep = new Set<string>();
  const stack = [cutAt];
  while (stack.length) {
    const n = stack.pop()!;
    if (keep.has(n)) continue;
    keep.add(n);
    const nodes = byName.get(n)?.inbound_nodes;
    if (Array.isArray(nodes)) for (const node of nodes) if (Array.isArray(node)) for (const ref of node) if (Array.isArray(ref)) stack.push(String(ref[0]));
  }
  return keep;
}

/** The topology with only the layers `cutAt` needs, `cutAt` as the output. */
function trimTopology(t: Json, keep: Set<string>, cutAt: string): Json {
  const copy = JSON.parse(JSON.stringify(t)) as Json;
  const nameOf = (l: Json) => String(l.name ?? (isObj(l.config) ? l.config.name : ''));
  if (Array.isArray(copy.config)) {
    copy.config = (copy.config as Json[]).filter((l) => keep.has(nameOf(l)));
    return copy;
  }
  const config = copy.config as Json;
  config.layers = (config.layers as Json[]).filter((l) => keep.has(nameOf(l)));
  if (copy.class_name !== 'Sequential') config.output_layers = [[cutAt, 0, 0]];
  return copy;
}

function unsupportedLayerError(where: string, bad: LayerRef[]): BackboneError {
  const [first] = bad;
  const more = bad.length > 1 ? ` (also: ${bad.slice(1, 4).map((b) => `'${b.name}' ${b.className}`).join(', ')}${bad.length > 4 ? ', …' : ''})` : '';
  return new BackboneError(
    'backbone.cutAt',
    `${where}: Layer '${first.name}' has class '${first.className}', which TensorFlow.js does not support. Replace it or cut the model before it with backbone.cutAt.${more}`,
    where,
  );
}

// ---------------------------------------------------------------------------------------
// Weights -> layers

/** Keras 3 `.keras` weight paths ("_layer_checkpoint_dependencies/dense/vars/0") -> "dense/0". */
function keras3WeightKey(name: string): string {
  return name
    .split('/')
    .map((s) => (s.startsWith('_') ? s.slice(1) : s))
    .filter((s) => s !== 'vars' && s !== 'layer_checkpoint_dependencies')
    .join('/');
}

/**
 * Puts the decoded weights into the model, matching names exactly, else by Keras 3 index
 * paths, else by a unique "…/layer/weight" suffix. Errors name the file, layer and shapes.
 */
function setWeights(model: tfTypes.LayersModel, values: tfTypes.NamedTensorMap, where: string, allowExtra: boolean, notes: string[]): void {
  const targets = new Map<string, tfTypes.LayerVariable>();
  const byIndex = new Map<string, string>();
  for (const layer of model.layers) {
    layer.weights.forEach((w, i) => {
      targets.set(w.originalName, w);
      byIndex.set(`${layer.name}/${i}`, w.originalName);
    });
  }
  const assigned = new Map<string, tfTypes.Tensor>();
  const unmatched: string[] = [];
  let renamed = 0;
  for (const [name, value] of Object.entries(values)) {
    let target: string | undefined = targets.has(name) ? name : undefined;
    if (!target) target = byIndex.get(keras3WeightKey(name));
    if (!target) {
      const candidates = [...targets.keys()].filter((t) => name.endsWith(`/${t}`));
      if (candidates.length === 1) target = candidates[0];
    }
    if (!target || assigned.has(target)) {
      unmatched.push(name);
      continue;
    }
    if (target !== name) renamed++;
    assigned.set(target, value);
  }
  if (renamed > 0) notes.push(`${renamed} weight name(s) in the manifest matched by layer and position (Keras 3 / nested-model naming).`);
  if (unmatched.length > 0 && !allowExtra) {
    throw new BackboneError(
      'backbone',
      `${where}: the weights do not match the model's layers: ${unmatched.length} weight(s) in the weight files belong to no layer (${unmatched.slice(0, 3).map((n) => `'${n}'`).join(', ')}${unmatched.length > 3 ? ', …' : ''}). model.json and its .bin files must come from the same export; re-export or re-download the model.`,
      where,
    );
  }
  const missing = [...targets.keys()].filter((t) => !assigned.has(t));
  if (missing.length > 0) {
    throw new BackboneError(
      'backbone',
      `${where}: the weights do not match the model's layers: no values for ${missing.length} weight(s) (${missing.slice(0, 3).map((n) => `'${n}'`).join(', ')}${missing.length > 3 ? ', …' : ''}). model.json and its .bin files must come from the same export; re-export or re-download the model.`,
      where,
    );
  }
  for (const [name, value] of assigned) {
    const target = targets.get(name)!;
    if (target.shape.length !== value.shape.length || target.shape.some((d, i) => d !== value.shape[i])) {
      const layer = name.split('/').slice(0, -1).join('/') || name;
      throw new BackboneError(
        'backbone',
        `${where}: the weights do not match the model's layers: layer '${layer}' weight '${name}' has shape [${value.shape.join(', ')}] in the weight files but [${target.shape.join(', ')}] in the topology. model.json and its .bin files must come from the same export; re-export or re-download the model.`,
        where,
      );
    }
  }
  tf().tidy(() => {
    for (const [name, value] of assigned) targets.get(name)!.write(value.dtype === targets.get(name)!.dtype ? value : value.cast(targets.get(name)!.dtype));
  });
}

async function buildLayersModel(files: ModelFiles, cutAt: string | undefined): Promise<tfTypes.LayersModel> {
  const t = tf();
  let topology = normaliseLayersTopology(files.modelJson.modelTopology, files.notes);
  const bad = unsupportedLayers(topology);
  let trimmed = false;
  if (bad.length > 0) {
    const keep = cutAt ? layersUpTo(topology, cutAt) : undefined;
    if (!keep || bad.some((b) => keep.has(b.name.split('/')[0]))) throw unsupportedLayerError(files.where, bad);
    topology = trimTopology(topology, keep, cutAt!);
    trimmed = true;
    files.notes.push(`Layers after '${cutAt}' were not loaded (${bad.map((b) => `${b.name}: ${b.className}`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not supported by TensorFlow.js).`);
  }
  let model: tfTypes.LayersModel;
  try {
    model = await t.models.modelFromJSON(topology as never);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const unknown = /Unknown (?:layer|activation|initializer|regularizer|constraint)[^:]*: ?([\w.]+)/i.exec(msg);
    throw new BackboneError(
      'backbone',
      `${files.where}: TensorFlow.js cannot build this model (${msg})${unknown ? `; '${unknown[1]}' is not supported` : ''}. If a layer is the problem, cut the model before it with backbone.cutAt.`,
      files.where,
    );
  }
  const { specs, data } = assembleWeights(files);
  if (specs.length === 0 && model.weights.length > 0) {
    model.dispose();
    throw new BackboneError('backbone', `${files.where}: model.json lists no weights (weightsManifest is empty), so the network would be untrained. Export the model with its weights.`, files.where);
  }
  let values: tfTypes.NamedTensorMap;
  try {
    values = t.io.decodeWeights(data, specs);
  } catch (e) {
    model.dispose();
    throw new BackboneError('backbone', `${files.where}: the weight files cannot be decoded (${(e as Error).message.split('\n')[0]}). Download or copy the model again, or re-export it.`, files.where);
  }
  const modelValues: tfTypes.NamedTensorMap = {};
  for (const spec of specs) if (spec.group !== 'optimizer' && !spec.name.startsWith('optimizer/')) modelValues[spec.name] = values[spec.name];
  try {
    setWeights(model, modelValues, files.where, trimmed, files.notes);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    t.dispose(Object.values(values));
  }
  return model;
}

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

/** Weightless layers that may follow a classifier (its activation, reshapes, dropout). */
const AFTER_CLASSIFIER = new Set(['Activation', 'Softmax', 'Dropout', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'Reshape', 'Flatten']);
/** Weightless layers between the features and a classifier (pooling, flatten, reshape, dropout). */
const BEFORE_CLASSIFIER = new Set([
  'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'Reshape', 'Flatten',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
]);

/**
 * The layer just before the network's original classifier, for a layers model with no
 * catalog cut. Walking back from the output along a single-input chain, it skips the
 * weightless layers after a classifier (activation/softmax, dropout, reshape, flatten),
 * then one classifier (a Dense, or a Conv2D applied to a 1x1 map as in MobileNet v1's
 * `conv_preds`), then the weightless layers before it (dropout, reshape, flatten, global
 * pooling), and stops at the first layer that is none of those: that layer is the cut. So
 * conv -> global pooling -> Dense(softmax) cuts at the conv block's output (feature maps),
 * an MLP cuts at its second-to-last Dense, and a model with no classifier (a "no-top"
 * export) cuts at its output. Returns the cut and whether a head was removed.
 */
export function findClassifierCut(model: tfTypes.LayersModel): { cutAt: string; removedHead: boolean } {
  const outputLayer = model.outputs[0].sourceLayer as tfTypes.layers.Layer;
  const inboundOf = (layer: tfTypes.layers.Layer): tfTypes.layers.Layer | undefined => {
    if (layer.inboundNodes.length !== 1) return undefined;
    const inbound = layer.inboundNodes[0].inboundLayers;
    return inbound.length === 1 ? inbound[0] : undefined;
  };
  const isClassifier = (layer: tfTypes.layers.Layer) => {
    const cls = layer.getClassName();
    if (cls === 'Dense') return true;
    if (cls === 'Conv2D') {
      let shape = layer.inboundNodes[0]?.inputShapes as unknown as (number | null)[] | (number | null)[][];
      if (Array.isArray(shape) && Array.isArray(shape[0])) shape = shape[0];
      return Array.isArray(shape) && shape.length === 4 && shape[1] === 1 && shape[2] === 1;
    }
    return false;
  };
  let layer: tfTypes.layers.Layer | undefined = outputLayer;
  while (layer && AFTER_CLASSIFIER.has(layer.getClassName())) layer = inboundOf(layer);
  const sawClassifier = !!layer && isClassifier(layer);
  if (sawClassifier) {
    layer = inboundOf(layer!);
    while (layer && BEFORE_CLASSIFIER.has(layer.getClassName())) layer = inboundOf(layer);
  }
  if (!sawClassifier || !layer || layer.getClassName() === 'InputLayer') return { cutAt: outputLayer.name, removedHead: false };
  return { cutAt: layer.name, removedHead: true };
}

interface ModelCard {
  cutAt?: string;
  valueRange?: [number, number];
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

const isRange = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && v[0] < v[1];

function nearbyNames(name: string, names: string[]): string {
  const near = names.filter((n) => n.includes(name) || name.includes(n)).slice(0, 3);
  return near.length > 0 ? ` Did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : '';
}

/** Node names of a graph model's topology (without ":0"), for checking a graph cutAt. */
function graphNodeNames(modelJson: Record<string, unknown>): string[] {
  const nodes = isObj(modelJson.modelTopology) && Array.isArray(modelJson.modelTopology.node) ? modelJson.modelTopology.node : [];
  return nodes.map((n) => String((n as Json).name));
}

/** Loads the backbone an experiment names; see the file comment for what is checked. */
export async function loadBackbone(spec: BackboneSpec, opts: LoadBackboneOptions): Promise<LoadedBackbone> {
  const src = resolveSource(spec, opts);
  const files = await modelFilesFor(src, opts);
  const catalog = src.catalog;
  const card = src.kind === 'file' ? readJsonIfExists<ModelCard>(src.card ?? path.join(path.dirname(src.file), 'card.json')) : undefined;
  const preprocessing = files.localDir ? readJsonIfExists<{ valueRange?: unknown; inputSize?: unknown }>(path.join(files.localDir, 'preprocessing.json')) : undefined;
  const format = detectModelFormat(files.modelJson, files.where);
  if (catalog && catalog.format !== format) {
    files.notes.push(`The catalog says '${catalog.id}' is a ${catalog.format} model, but its model.json is a ${format} model; loading it as ${format}.`);
  }

  // Value range
  const metadata = isObj(files.modelJson.userDefinedMetadata) ? files.modelJson.userDefinedMetadata : undefined;
  let valueRange: [number, number];
  let valueRangeFrom: LoadedBackboneCommon['valueRangeFrom'];
  if (isRange(card?.valueRange)) [valueRange, valueRangeFrom] = [card!.valueRange!, 'model card'];
  else if (catalog) [valueRange, valueRangeFrom] = [catalog.valueRange, 'catalog'];
  else if (isRange(preprocessing?.valueRange)) [valueRange, valueRangeFrom] = [preprocessing!.valueRange as [number, number], 'preprocessing.json'];
  else if (isRange(metadata?.valueRange)) [valueRange, valueRangeFrom] = [metadata!.valueRange as [number, number], 'model.json metadata'];
  else {
    [valueRange, valueRangeFrom] = [[0, 1], 'assumed'];
    files.notes.push('No value range is known for this model; assuming pixels scaled to [0, 1]. (Keras applications such as MobileNet expect [-1, 1].)');
  }

  const common = {
    valueRange,
    valueRangeFrom,
    catalog,
    source: describeSource(src),
    origin: src.origin,
    modelJsonSha256: files.modelJsonSha256,
    fromCache: files.fromCache,
    offline: files.offline,
    notes: files.notes,
  };
  const fallbackSize = (card?.inputSize?.length === 3 ? card.inputSize : undefined) ?? catalog?.inputSize;
  const inputShapeFrom = (shape: readonly (number | null | undefined)[] | undefined): [number, number, number] => {
    const dims = (shape ?? []).slice(-3).map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
    const h = dims[0] ?? fallbackSize?.[0];
    const w = dims[1] ?? fallbackSize?.[1];
    const c = dims[2] ?? fallbackSize?.[2] ?? 3;
    if (h === undefined || w === undefined) {
      files.notes.push('The model accepts any image size; using 224x224.');
      return [h ?? 224, w ?? 224, c];
    }
    return [h, w, c];
  };

  if (format === 'graph') {
    const model = await buildGraphModel(files);
    const outputs = model.outputs.map((o) => o.name.replace(/:0$/, ''));
    let cutAt = outputs[0];
    let cutFrom: LoadedBackboneCommon['cutFrom'] = 'model output';
    if (spec.cutAt) {
      const names = graphNodeNames(files.modelJson);
      if (!names.includes(spec.cutAt.replace(/:0$/, ''))) {
        model.dispose();
        throw new LayerError('backbone.cutAt', `backbone.cutAt: the graph model has no node '${spec.cutAt}'.${nearbyNames(spec.cutAt, names)} For a graph model, cutAt names a node of its TensorFlow graph; leave it out to use the model's output (${outputs.join(', ')}).`);
      }
      [cutAt, cutFrom] = [spec.cutAt.replace(/:0$/, ''), 'spec'];
    }
    return { kind: 'graph', model, inputShape: inputShapeFrom(model.inputs[0]?.shape), cutAt, cutFrom, ...common };
  }

  const model = await buildLayersModel(files, spec.cutAt);
  const names = model.layers.map((l) => l.name);
  let cutAt: string;
  let cutFrom: LoadedBackboneCommon['cutFrom'];
  if (spec.cutAt) {
    if (!names.includes(spec.cutAt)) {
      model.dispose();
      throw new LayerError(
        'backbone.cutAt',
        `backbone.cutAt: the backbone has no layer '${spec.cutAt}'.${nearbyNames(spec.cutAt, names)} Run \`transfer-lab inspect\` or open the layer tree to see the layer names.`,
      );
    }
    [cutAt, cutFrom] = [spec.cutAt, 'spec'];
  } else if (card?.cutAt && names.includes(card.cutAt)) {
    [cutAt, cutFrom] = [card.cutAt, 'model card'];
  } else if (catalog?.defaultCut && names.includes(catalog.defaultCut)) {
    [cutAt, cutFrom] = [catalog.defaultCut, 'catalog'];
  } else {
    if (catalog?.defaultCut) files.notes.push(`The catalog's usual cut '${catalog.defaultCut}' is not a layer of this model; cutting before its classifier instead.`);
    const found = findClassifierCut(model);
    [cutAt, cutFrom] = [found.cutAt, found.removedHead ? 'classifier head removed' : 'model output'];
  }
  return { kind: 'layers', model, inputShape: inputShapeFrom(model.inputs[0].shape), cutAt, cutFrom, ...common };
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
