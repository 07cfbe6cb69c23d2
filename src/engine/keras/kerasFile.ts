// Keras's own files, read without Python: a Keras 3 `model.keras` (a zip of config.json,
// metadata.json and model.weights.h5) and an `.h5` full model (Keras 2, or Keras 3's
// legacy `model.save('x.h5')`: `model_config` plus `model_weights` groups). Weights-only
// files (`x.weights.h5`, the Keras Applications ImageNet files) hold no architecture and
// are refused here with what to do.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { memberAt, openHdf5, type H5Group } from './hdf5';
import { isObj, type Json } from './kerasGraph';
import { legacyWeightsLookup, weightsLookup, type LegacyLayerGroup, type NamedWeights, type WeightsOf } from './kerasWeights';
import { ZipArchive } from './zipArchive';

export interface KerasFileContents {
  /** The model config as saved ({class_name, config}). */
  topology: Json;
  kerasVersion?: string;
  weightsOf: WeightsOf;
  /** How many weight arrays the file holds (0: an untrained architecture). */
  weightCount: number;
  notes: string[];
}

/** A Keras file that cannot be used; the loader adds the field (backbone.path). */
export class KerasFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'KerasFileError';
  }
}

export type KerasFileKind = 'keras' | 'h5';

export function kerasFileKind(file: string): KerasFileKind | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.keras')) return 'keras';
  if (lower.endsWith('.h5') || lower.endsWith('.hdf5')) return 'h5';
  return undefined;
}

function parseJson(text: string, file: string, what: string): Json {
  try {
    const v = JSON.parse(text) as unknown;
    if (isObj(v)) return v;
  } catch {
    // fall through to the error below
  }
  throw new KerasFileError(
    file,
    `${file}: ${what} is not valid JSON. The file is damaged or was not written by Keras; save the model again with model.save().`,
  );
}

/** Every dataset under a group as `<path>` -> float32 values (Keras 3 weight stores). */
function readAllDatasets(group: H5Group, prefix: string, out: NamedWeights): void {
  for (const key of group.keys()) {
    const child = group.get(key);
    if (!child) continue;
    const p = prefix ? `${prefix}/${key}` : key;
    if (child.kind === 'group') readAllDatasets(child, p, out);
    else out.set(p, { name: p, shape: [...child.shape], data: child.readFloat32() });
  }
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

/** Legacy layout: `layer_names` on the weights group, `weight_names` on each layer group. */
function readLegacyGroups(root: H5Group, file: string): LegacyLayerGroup[] {
  return strings(root.attrs.layer_names).map((layerName) => {
    const g = root.get(layerName);
    if (!g || g.kind !== 'group') throw new KerasFileError(file, `${file}: the weights of layer '${layerName}' are listed but missing. Save the model again.`);
    const weights = strings(g.attrs.weight_names).map((w: string) => {
      const d = memberAt(g, w);
      if (!d || d.kind !== 'dataset')
        throw new KerasFileError(file, `${file}: weight '${w}' of layer '${layerName}' is listed but missing. Save the model again.`);
      return { name: w, shape: [...d.shape], data: d.readFloat32() };
    });
    return { layerName, weights };
  });
}

function weightsOnlyError(file: string): KerasFileError {
  return new KerasFileError(
    file,
    `${file}: this file holds only weights (no model architecture), as model.save_weights() and the Keras Applications weight files do. ` +
      'Give backbone.path a full model (model.save("model.keras") or .h5), or a catalog backbone.',
  );
}

async function readKerasZip(file: string): Promise<KerasFileContents> {
  const zip = ZipArchive.open(file);
  try {
    const names = new Set(zip.listEntries().map((e) => e.name));
    if (!names.has('config.json')) {
      throw new KerasFileError(
        file,
        `${file}: not a Keras model archive (no config.json inside). A .keras file is written by model.save("model.keras") in Keras 3.`,
      );
    }
    const topology = parseJson(Buffer.from(zip.read('config.json')).toString('utf8'), file, 'config.json');
    const metadata = names.has('metadata.json') ? parseJson(Buffer.from(zip.read('metadata.json')).toString('utf8'), file, 'metadata.json') : {};
    const table: NamedWeights = new Map();
    if (names.has('model.weights.h5')) {
      // Streamed to a private temporary file: the weights are never held twice in memory.
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-keras-'));
      try {
        const weightsFile = path.join(tmp, 'model.weights.h5');
        await zip.extractTo('model.weights.h5', weightsFile);
        const h5 = await openHdf5({ file: weightsFile }).catch((e: Error) => {
          throw new KerasFileError(file, e.message.split(weightsFile).join(`${file} (its model.weights.h5)`));
        });
        try {
          readAllDatasets(h5, '', table);
        } finally {
          h5.close();
        }
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    } else if ([...names].some((n) => n.startsWith('model.weights') && n.endsWith('.h5'))) {
      throw new KerasFileError(
        file,
        `${file}: the weights are sharded into several files, which Transfer Lab does not read yet. Save the model without max_shard_size.`,
      );
    }
    const notes = ['Keras 3 .keras file: read directly (config.json + model.weights.h5).'];
    return {
      topology,
      kerasVersion: typeof metadata.keras_version === 'string' ? metadata.keras_version : undefined,
      weightsOf: weightsLookup(table, topology),
      weightCount: table.size,
      notes,
    };
  } finally {
    zip.close();
  }
}

async function readH5Model(file: string): Promise<KerasFileContents> {
  const h5 = await openHdf5({ file });
  try {
    const config = h5.attrs.model_config;
    if (typeof config !== 'string') {
      if (h5.get('layers') || h5.attrs.layer_names) throw weightsOnlyError(file);
      throw new KerasFileError(
        file,
        `${file}: an HDF5 file without a Keras model in it (no model_config attribute). Save the model with model.save("model.h5") or model.save("model.keras").`,
      );
    }
    const topology = parseJson(config, file, 'its model_config attribute');
    const weightsRoot = h5.get('model_weights');
    const groups = weightsRoot && weightsRoot.kind === 'group' ? readLegacyGroups(weightsRoot, file) : [];
    const kerasVersion = typeof h5.attrs.keras_version === 'string' ? h5.attrs.keras_version : undefined;
    const count = groups.reduce((s, g) => s + g.weights.length, 0);
    return {
      topology,
      kerasVersion,
      weightsOf: legacyWeightsLookup(groups),
      weightCount: count,
      notes: [`Keras ${kerasVersion ?? ''} .h5 file: read directly (model_config + model_weights).`.replace('Keras  ', 'Keras ')],
    };
  } finally {
    h5.close();
  }
}

/**
 * A weights-only file (`model.save_weights('x.weights.h5')` in Keras 3, or the Keras 2
 * layout of the Keras Applications ImageNet files) for a model whose architecture comes
 * from elsewhere: returns the lookup once the architecture's config is known.
 */
export async function readWeightsFile(file: string): Promise<{ lookup(modelEntry: Json): WeightsOf; count: number }> {
  if (!fs.existsSync(file))
    throw new KerasFileError(file, `${file}: no such file. Check backbone.weights (relative paths start at the experiment file's folder).`);
  const h5 = await openHdf5({ file });
  try {
    // Keras 2 layout: `layer_names` on the root (save_weights), or on `model_weights` (a full .h5).
    const nested = h5.get('model_weights');
    const legacyRoot = h5.attrs.layer_names ? h5 : nested?.kind === 'group' && nested.attrs.layer_names ? nested : undefined;
    if (legacyRoot) {
      const groups = readLegacyGroups(legacyRoot, file);
      const lookup = legacyWeightsLookup(groups);
      return { lookup: () => lookup, count: groups.reduce((n, g) => n + g.weights.length, 0) };
    }
    const table: NamedWeights = new Map();
    readAllDatasets(h5, '', table);
    if (table.size === 0) throw new KerasFileError(file, `${file}: no weights in this HDF5 file. Save them with model.save_weights("model.weights.h5").`);
    return { lookup: (entry) => weightsLookup(table, entry), count: table.size };
  } finally {
    h5.close();
  }
}

/** Reads a `.keras` or `.h5` model file; errors are KerasFileError (or the readers' own, naming the file). */
export async function readKerasFile(file: string): Promise<KerasFileContents> {
  if (!fs.existsSync(file))
    throw new KerasFileError(file, `${file}: no such file. Check backbone.path (relative paths start at the experiment file's folder: ${path.dirname(file)}).`);
  return kerasFileKind(file) === 'keras' ? readKerasZip(file) : readH5Model(file);
}
