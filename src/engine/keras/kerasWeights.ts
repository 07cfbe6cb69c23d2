// Where each layer's weights are in the files Keras users have, as one lookup:
// `weightsOf(layer)` -> that layer's arrays in Keras's order (which is TensorFlow.js's order
// for the same class: kernel, bias; gamma, beta, moving mean, moving variance; …).
//
// - Keras 3 `.keras` / `.weights.h5`, and the TF.js converter's output of a `.keras` file:
//   `layers/<snake_case class name>[_N]/vars/<i>`, numbered per class in layer order, nested
//   models as `layers/functional/layers/…` (keras/src/saving/saving_lib.py). Layer names
//   are not in these paths, so they are replayed from the config.
// - Legacy `.h5` (Keras 2, and Keras 3's model.save('x.h5')) and Keras-2 style weights-only
//   files (the Keras Applications ImageNet files): a group per layer, its `weight_names`
//   attribute in order (trainable first, then non-trainable); a nested model's group holds
//   all its layers' weights, named `<inner layer>/<weight>`.
// - TF.js model.json converted from an `.h5`: `<layer>/<weight>` names in the same order.
import { isObj, isOperationEntry, type Json, type KerasLayer } from './kerasGraph';

export interface WeightValue {
  /** The name in the file (for messages). */
  name: string;
  shape: number[];
  data: Float32Array;
}

export type WeightsOf = (layer: KerasLayer) => WeightValue[] | undefined;

/** keras.src.utils.naming.to_snake_case. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

const keyOf = (weightKey: string[]) => weightKey.join('\u0000');

/**
 * weightKey (outer model names + layer name) -> Keras 3 container path such as
 * `layers/functional/layers/conv2d_3`, replayed from the raw (unflattened) model config.
 */
export function keras3WeightPaths(modelEntry: Json): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (entry: Json, prefix: string[], path: string) => {
    const config = entry.config;
    const layers = (Array.isArray(config) ? config : isObj(config) && Array.isArray(config.layers) ? config.layers : []) as unknown[];
    const used = new Map<string, number>();
    for (const l of layers) {
      if (!isObj(l)) continue;
      if (isOperationEntry(l)) continue; // operations are not layers: Keras does not name them
      if (entry.class_name === 'Sequential' && l.class_name === 'InputLayer') continue; // Sequential.layers leaves it out
      const snake = toSnakeCase(String(l.class_name));
      const n = used.get(snake);
      used.set(snake, n === undefined ? 0 : n + 1);
      const unique = n === undefined ? snake : `${snake}_${n + 1}`;
      const lname = String(l.name ?? (isObj(l.config) ? l.config.name : ''));
      const p = `${path}/${unique}`;
      out.set(keyOf([...prefix, lname]), p);
      if (['Functional', 'Model', 'Sequential'].includes(String(l.class_name))) walk(l, [...prefix, lname], `${p}/layers`);
    }
  };
  walk(modelEntry, [], 'layers');
  return out;
}

/** A flat name -> array table (decoded model.json weights, or an HDF5 file read into memory). */
export type NamedWeights = Map<string, WeightValue>;

/** For Keras 3 paths: the values under `<path>/vars/0..n`. */
function keras3Vars(table: NamedWeights, path: string): WeightValue[] | undefined {
  const values: WeightValue[] = [];
  for (let i = 0; ; i++) {
    const v = table.get(`${path}/vars/${i}`);
    if (!v) break;
    values.push(v);
  }
  return values.length > 0 ? values : undefined;
}

/**
 * The lookup for a table of named weights, whichever naming it uses. `order` is the
 * table's own order (legacy groups and converter manifests keep Keras's weight order).
 */
export function weightsLookup(table: NamedWeights, modelEntry: Json): WeightsOf {
  const names = [...table.keys()];
  const keras3 = names.some((n) => /(^|\/)vars\/\d+$/.test(n));
  if (keras3) {
    const paths = keras3WeightPaths(modelEntry);
    return (layer) => {
      const p = paths.get(keyOf(layer.weightKey));
      return p ? keras3Vars(table, p) : undefined;
    };
  }
  // `<layer>/<weight>` or `<outer>/<inner>/<weight>` (":0" suffixes dropped): group by the
  // part before the weight name, keeping the table's order.
  const groups = new Map<string, WeightValue[]>();
  for (const [name, value] of table) {
    const parts = name.replace(/:\d+$/, '').split('/');
    if (parts.length < 2) continue;
    const owner = parts.slice(0, -1).join('/');
    for (const key of new Set([owner, parts[parts.length - 2]])) {
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key)!.push(value);
    }
  }
  return (layer) => groups.get(layer.weightKey.join('/')) ?? groups.get(layer.name) ?? groups.get(layer.weightKey[layer.weightKey.length - 1]);
}

/** A legacy HDF5 group tree (layer groups with `weight_names`) flattened to `<group>/<weight name>`. */
export interface LegacyLayerGroup {
  layerName: string;
  weights: WeightValue[];
}

/**
 * The lookup for legacy `.h5` weights: one group per top-level layer. A flat layer takes its
 * group's weights in order; a layer inlined from a nested model takes the weights of the
 * nested model's group whose names start with (or contain) its own name.
 */
export function legacyWeightsLookup(groups: LegacyLayerGroup[]): WeightsOf {
  const byLayer = new Map(groups.map((g) => [g.layerName, g.weights]));
  return (layer) => {
    const [top] = layer.weightKey;
    const group = byLayer.get(top);
    if (!group) return undefined;
    if (layer.weightKey.length === 1) return group.length > 0 ? group : undefined;
    const inner = layer.weightKey[layer.weightKey.length - 1];
    const mine = group.filter((w) => {
      const parts = w.name.replace(/:\d+$/, '').split('/');
      return parts.length >= 2 && parts[parts.length - 2] === inner;
    });
    return mine.length > 0 ? mine : undefined;
  };
}
