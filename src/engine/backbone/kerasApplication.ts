// A Keras Applications catalog entry as a layers source: the topology that ships with
// Transfer Lab (media/keras-applications/<id>.json.gz, generated from Keras by
// scripts/keras-applications/make_catalog.py) and Keras's own ImageNet weight file
// (download/kerasWeights.ts), or, for `inspect`, the topology alone.
//
// The weight files are in the Keras 2 weights-only layout (root attribute layer_names, a
// group per layer with weight_names). Keras loads them by position, not by name
// (legacy_h5_format.load_weights_from_hdf5_group: the model's layers that have weights, in
// order, paired with the file's layer groups that list weights, in order), and so must we:
// the files were written by older Keras versions whose automatic layer names (conv2d_1,
// batch_normalization_93, activation_17) need not be the names Keras 3 gives the same layers.
// The topology file records, for every layer with weights, its name and weight shapes in that
// order; each group's shapes are checked against them before anything is built.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import type { BackboneCatalogEntry } from '../../core/backboneCatalog';
import { fetchKerasWeights, kerasWeightsAvailability, type KerasWeightsOptions } from '../download/kerasWeights';
import { ModelDownloadError } from '../download/errors';
import { Hdf5Error, memberAt, openHdf5 } from '../keras/hdf5';
import { isObj, type Json } from '../keras/kerasGraph';
import type { WeightsOf, WeightValue } from '../keras/kerasWeights';
import { BackboneError, orBackboneError } from './backboneError';
import type { LayersSource } from './layersModel';

type KerasApplicationSource = Extract<BackboneCatalogEntry['source'], { kind: 'keras-application' }>;

/** The shipped topology file (see make_catalog.py). */
export interface KerasApplicationTopology {
  format: 'transfer-lab.keras-application-topology';
  schemaVersion: 1;
  id: string;
  constructor: string;
  kerasVersion: string;
  modelTopology: Json;
  /**
   * [layer name, weight shapes, owners?] of each layer with weights, in the order Keras pairs
   * them with the file. A nested model (ConvNeXt's stem) is one such layer; `owners` then names
   * the inlined leaf layer of each weight by its weightKey path ("stem/stem_conv").
   */
  legacyWeightOrder: ([string, number[][]] | [string, number[][], string[]])[];
}

export interface KerasApplicationLoadOptions {
  installRoot: string;
  cacheDir: string;
  /** The topology alone, weights zero (inspect); the notes say whether the weights are here. */
  topologyOnly?: boolean;
  /** A weight file of the user's (backbone.weights), in the Keras Applications layout, instead of Keras's. */
  weightsFile?: string;
  download?: Omit<KerasWeightsOptions, 'cacheDir' | 'onProgress'>;
  onProgress?: KerasWeightsOptions['onProgress'];
}

function sourceOf(entry: BackboneCatalogEntry): KerasApplicationSource {
  if (entry.source.kind !== 'keras-application') throw new Error(`${entry.id} is not a Keras Application`);
  return entry.source;
}

/** Reads and checks the shipped topology of a Keras Applications entry. */
export function readKerasApplicationTopology(entry: BackboneCatalogEntry, installRoot: string): KerasApplicationTopology {
  const src = sourceOf(entry);
  const file = path.join(installRoot, src.topology);
  const packed = orBackboneError(
    () => fs.readFileSync(file),
    'backbone.catalog',
    `backbone.catalog: the topology of '${entry.id}' should ship with Transfer Lab at ${file}, but it is not there. Reinstall, or regenerate it with \`node scripts/keras-applications/make-catalog.mjs\`.`,
    file,
  );
  const actual = createHash('sha256').update(packed).digest('hex');
  if (actual !== src.topologySha256) {
    throw new BackboneError(
      'backbone.catalog',
      `backbone.catalog: ${file} is not the topology the catalog lists for '${entry.id}' (sha256 ${actual.slice(0, 12)}…, expected ${src.topologySha256.slice(0, 12)}…). Reinstall, or regenerate the catalog and its topologies together with \`node scripts/keras-applications/make-catalog.mjs\`.`,
      file,
    );
  }
  const topology = JSON.parse(gunzipSync(packed).toString('utf8')) as KerasApplicationTopology;
  if (
    topology.format !== 'transfer-lab.keras-application-topology' ||
    topology.schemaVersion !== 1 ||
    !isObj(topology.modelTopology) ||
    !Array.isArray(topology.legacyWeightOrder)
  ) {
    throw new BackboneError(
      'backbone.catalog',
      `backbone.catalog: ${file} is not a Keras Applications topology this version of Transfer Lab reads. Reinstall.`,
      file,
    );
  }
  return topology;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

const shapeText = (s: number[]) => `[${s.join(', ')}]`;

/**
 * The weights of a Keras Applications file paired with the topology's layers by position, as
 * Keras pairs them; every group's shapes checked. `what` names the file in messages.
 */
async function readByPosition(
  file: string,
  entry: BackboneCatalogEntry,
  topology: KerasApplicationTopology,
  what: string,
  field: string,
): Promise<{ weightsOf: WeightsOf; names: string[] }> {
  const fail = (message: string) => new BackboneError(field, `${what}: ${message}`, file);
  let h5;
  try {
    h5 = await openHdf5({ file });
  } catch (e) {
    if (e instanceof Hdf5Error) throw fail(e.message);
    throw e;
  }
  try {
    const root = h5.attrs.layer_names
      ? h5
      : (() => {
          const nested = h5.get('model_weights');
          return nested?.kind === 'group' && nested.attrs.layer_names ? nested : undefined;
        })();
    if (!root) throw fail('not a Keras weights file in the Keras Applications layout (no layer_names attribute).');
    const groups: { group: string; weights: WeightValue[] }[] = [];
    for (const layerName of strings(root.attrs.layer_names)) {
      const g = root.get(layerName);
      if (!g || g.kind !== 'group') throw fail(`the weights of layer '${layerName}' are listed but missing; the file is damaged.`);
      const weightNames = strings(g.attrs.weight_names);
      if (weightNames.length === 0) continue; // Keras skips layers without weights, in the file and in the model
      groups.push({
        group: layerName,
        weights: weightNames.map((w) => {
          const d = memberAt(g, w);
          if (!d || d.kind !== 'dataset') throw fail(`weight '${w}' of layer '${layerName}' is listed but missing; the file is damaged.`);
          return { name: w, shape: [...d.shape], data: d.readFloat32() };
        }),
      });
    }
    const order = topology.legacyWeightOrder;
    const constructorName = sourceOf(entry).constructorName;
    if (groups.length !== order.length) {
      throw fail(
        `it has weights for ${groups.length} layers, but ${constructorName} without its top has ${order.length} layers with weights: it is not the no-top weight file of '${entry.id}' (the file with the classifier, another model's, or a damaged one).`,
      );
    }
    const byLayer = new Map<string, WeightValue[]>();
    groups.forEach((g, i) => {
      const [layer, shapes, owners] = order[i];
      const same =
        g.weights.length === shapes.length && g.weights.every((w, j) => w.shape.length === shapes[j].length && w.shape.every((d, k) => d === shapes[j][k]));
      if (!same) {
        throw fail(
          `layer ${i + 1} of ${order.length} with weights ('${layer}' in ${constructorName}, group '${g.group}' in the file) has weights ${g.weights.map((w) => shapeText(w.shape)).join(' ')} in the file but needs ${shapes.map(shapeText).join(' ')}: it is not the no-top weight file of '${entry.id}'.`,
        );
      }
      assign(byLayer, layer, g.weights, owners);
    });
    return { weightsOf: lookup(byLayer), names: groups.flatMap((g) => g.weights.map((w) => `${g.group}/${w.name}`)) };
  } finally {
    h5.close();
  }
}

/** A layer's weights under its name, or, for a nested model, each under the leaf layer that owns it (in order). */
function assign(byLayer: Map<string, WeightValue[]>, layer: string, weights: WeightValue[], owners: string[] | undefined): void {
  weights.forEach((w, i) => {
    const key = owners?.[i] ?? layer;
    if (!byLayer.has(key)) byLayer.set(key, []);
    byLayer.get(key)!.push(w);
  });
}

const lookup =
  (byLayer: Map<string, WeightValue[]>): WeightsOf =>
  (l) =>
    byLayer.get(l.weightKey.join('/')) ?? (l.weightKey.length === 1 ? byLayer.get(l.name) : undefined);

/** Zeros of the right shapes, all views of one buffer (for a topology-only load; never trained or run). */
function zeroWeights(topology: KerasApplicationTopology): WeightsOf {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const largest = Math.max(1, ...topology.legacyWeightOrder.flatMap(([, shapes]) => shapes.map(size)));
  const zeros = new Float32Array(largest);
  const byLayer = new Map<string, WeightValue[]>();
  for (const [layer, shapes, owners] of topology.legacyWeightOrder) {
    assign(
      byLayer,
      layer,
      shapes.map((s, i) => ({ name: `${layer}/${i}`, shape: s, data: zeros.subarray(0, size(s)) })),
      owners,
    );
  }
  return lookup(byLayer);
}

/** The layers source of a Keras Applications entry: shipped topology plus Keras's verified weights. */
export async function kerasApplicationLayers(entry: BackboneCatalogEntry, opts: KerasApplicationLoadOptions): Promise<LayersSource> {
  const src = sourceOf(entry);
  const topology = readKerasApplicationTopology(entry, opts.installRoot);
  const notes: string[] = [`Keras Application '${entry.id}': ${topology.constructor}, topology from Keras ${topology.kerasVersion} shipped with Transfer Lab.`];
  const base = { topology: topology.modelTopology, kerasVersion: topology.kerasVersion, notes };
  const request = { entryId: entry.id, ...src.weights, approxBytes: Math.round(entry.downloadMB * 1e6) };
  const fileOpts = { cacheDir: opts.cacheDir, ...opts.download };

  if (opts.topologyOnly) {
    const here = kerasWeightsAvailability(request, fileOpts);
    notes.push(
      here.state === 'download'
        ? `Weights not downloaded (Keras's ${src.weights.fileName}, ${entry.downloadMB} MB, from ${src.weights.url}): this layer table is from the shipped topology alone; a run downloads them.`
        : `Topology only: the weights (${here.file}) were not read for this layer table.`,
    );
    return { ...base, weightsOf: zeroWeights(topology), where: `'${entry.id}' (topology ${src.topology})` };
  }

  if (opts.weightsFile) {
    const { weightsOf, names } = await readByPosition(opts.weightsFile, entry, topology, `backbone.weights ${opts.weightsFile}`, 'backbone.weights');
    notes.push(
      `Weights read from ${opts.weightsFile} (backbone.weights), not Keras's ${src.weights.fileName}; matched to ${topology.constructor.split('(')[0]}'s layers by position, as Keras does.`,
    );
    return { ...base, weightsOf, weightNames: names, where: opts.weightsFile };
  }

  let fetched;
  try {
    fetched = await fetchKerasWeights(request, { ...fileOpts, onProgress: opts.onProgress });
  } catch (e) {
    // Download errors already name the entry, the URL and what to do: let the user read them.
    if (e instanceof ModelDownloadError) throw new BackboneError('backbone.catalog', `backbone.catalog: ${e.message}`, e.url);
    throw e;
  }
  notes.push(...fetched.notes);
  const { weightsOf, names } = await readByPosition(
    fetched.file,
    entry,
    topology,
    `backbone.catalog: the weights of '${entry.id}' (${fetched.file}, from ${fetched.location})`,
    'backbone.catalog',
  );
  return { ...base, weightsOf, weightNames: names, where: `'${entry.id}' (${src.weights.fileName})` };
}
