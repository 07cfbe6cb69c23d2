// Where a backbone's files come from: a catalog id (shipped with Transfer Lab, downloaded, or
// a Keras Application: shipped topology + Keras's own weight file, backbone/kerasApplication.ts),
// a local path (a TF.js model.json or its folder, a Keras .keras or .h5 file) or a URL
// (through the verified download cache, modelCache.ts). Local model.json files are read
// with fs by our own code, so every backend (wasm and cpu included) loads them alike and
// weight paths are checked.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackboneSpec } from '../../core/experiment';
import { findCatalogEntry, findCatalogEntryByUrl, suggestCatalogIds, type BackboneCatalogEntry } from '../../core/backboneCatalog';
import { fetchModel, manifestPaths, unsafeWeightPathReason, weightPathError, type DownloadLimits, type ProgressCallback } from '../modelCache';
import type { KerasWeightsOptions } from '../download/kerasWeights';
import { BackboneError, orBackboneError } from './backboneError';
import { kerasApplicationLayers } from './kerasApplication';
import type { LayersSource } from './layersModel';

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
  /**
   * Keras Applications entries: build from the shipped topology alone, weights zero (what
   * `inspect` needs; never for a run). Other backbones load as usual.
   */
  topologyOnly?: boolean;
  /** Keras Applications weights: mirror, override manifest, Keras's cache (defaults: the environment, see download/kerasWeights.ts). */
  kerasWeights?: Pick<KerasWeightsOptions, 'mirror' | 'overridesFile' | 'kerasHome' | 'env' | 'signal'>;
}

/** Where the backbone is, as the load will report it. */
export interface BackboneOrigin {
  kind: 'catalog' | 'path' | 'url';
  location: string;
}

export interface ModelFiles {
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

export type ResolvedSource =
  | { kind: 'file'; file: string; catalog?: BackboneCatalogEntry; origin: BackboneOrigin; card?: string }
  | { kind: 'url'; url: string; catalog?: BackboneCatalogEntry; origin: BackboneOrigin }
  /** Shipped topology + Keras's weight file (`url`: where Keras downloads it). */
  | { kind: 'keras-application'; url: string; catalog: BackboneCatalogEntry; origin: BackboneOrigin };

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

export function resolveSource(spec: BackboneSpec, opts: LoadBackboneOptions): ResolvedSource {
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
    if (entry.source.kind === 'keras-application')
      return { kind: 'keras-application', url: entry.source.weights.url, catalog: entry, origin: { kind: 'catalog', location: entry.id } };
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

export function describeSource(src: ResolvedSource): string {
  const where = src.kind === 'file' ? src.file : src.url;
  return src.origin.kind === 'catalog' ? `catalog:${src.origin.location} ${where}` : where;
}

/** Reads a local model.json and its weight files, refusing weight paths that leave its folder. */
export function readLocalModelFiles(file: string): ModelFiles {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BackboneError(
      'backbone.path',
      `${file}: cannot read the model (${code === 'ENOENT' ? 'no such file' : (code ?? e)}). Check backbone.path; it must name a TF.js model.json or its folder.`,
      file,
    );
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
    const real = orBackboneError(
      () => fs.realpathSync(target),
      'backbone.path',
      `${file}: weight file '${p}' is missing (looked for ${target}). Copy every file of the model folder (model.json and all its .bin shards) together.`,
      target,
    );
    const realRel = path.relative(realDir, real);
    if (realRel.startsWith('..') || path.isAbsolute(realRel)) throw weightPathError(p, file, dir, `it is a link to ${real}, outside that folder`);
    weights.push({ path: p, data: fs.readFileSync(real) });
  }
  return { modelJson, weights, where: file, localDir: dir, fromCache: false, offline: false, notes: [] };
}

export async function modelFilesFor(src: ResolvedSource, opts: LoadBackboneOptions): Promise<ModelFiles> {
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
  if (src.kind === 'keras-application')
    throw new Error(`'${src.catalog.id}' is a Keras Application: it has no model.json (kerasApplicationSourceFor loads it)`);
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

/**
 * A Keras Application's layers source: the shipped topology and Keras's ImageNet weights
 * (verified download, our cache, Keras's cache or an override), `backbone.weights` instead
 * when the experiment gives one, or the topology alone (`topologyOnly`).
 */
export async function kerasApplicationSourceFor(
  src: Extract<ResolvedSource, { kind: 'keras-application' }>,
  spec: BackboneSpec,
  opts: LoadBackboneOptions,
): Promise<LayersSource> {
  return kerasApplicationLayers(src.catalog, {
    installRoot: opts.installRoot,
    cacheDir: opts.cacheDir,
    topologyOnly: opts.topologyOnly,
    weightsFile: spec.weights ? path.resolve(opts.baseDir ?? process.cwd(), spec.weights) : undefined,
    download: { ...opts.download, ...opts.kerasWeights },
    onProgress: opts.onProgress,
  });
}
