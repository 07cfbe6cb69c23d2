// A Keras model config (Keras 2 or 3, Functional or Sequential, from model.json, a .keras
// zip or an .h5 file) as one flat graph of layers: every inbound node as tensor references
// plus the constants Keras 3 records beside them (`x + 3.0`), nested models inlined, so the
// rewrites (kerasRewrites.ts) and the TF.js topology writer (tfjsTopology.ts) see one shape.
// Each layer remembers where its weights live in the original nesting (`weightKey`), which
// is how weight files are matched after nested models are flattened.

export type Json = Record<string, unknown>;
export const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** [layer name, node index, tensor index], Keras's own reference to a tensor. */
export type TensorRef = [string, number, number];

export interface KerasNode {
  /** Tensor arguments in call order (a list argument such as Concatenate's inputs is flattened). */
  refs: TensorRef[];
  /** Non-tensor positional arguments (numbers) in call order: Keras 3 ops (`x * 0.1666`). */
  constants: unknown[];
  /** Keyword arguments (Keras 2 TFOpLambda puts its constant here: {"y": 3.0}). */
  kwargs: Json;
  /** Shapes of the tensor arguments, when the file records them (Keras 3 does). */
  shapes?: unknown[];
}

export interface KerasLayer {
  name: string;
  className: string;
  /** Python module Keras 3 records ("keras.layers", "keras.src.ops.numpy", …); '' for Keras 2. */
  module: string;
  config: Json;
  nodes: KerasNode[];
  /** Where its weights are in the saved files: the names of the enclosing models, then its own. */
  weightKey: string[];
  /** Keras 3's `build_config.input_shape`, when recorded. */
  inputShape?: unknown;
}

export interface KerasGraph {
  name: string;
  layers: KerasLayer[];
  inputs: TensorRef[];
  outputs: TensorRef[];
  /** "3.15.1", "2.15.0", … when the file says; decides what `hard_sigmoid` means. */
  kerasVersion?: string;
  notes: string[];
  /** Inlined nested models: their name -> the layer that produced their output (a cut at the model is a cut there). */
  aliases: Map<string, string>;
}

/** A model config Transfer Lab cannot interpret; the loader turns it into a BackboneError. */
export class KerasConfigError extends Error {
  constructor(
    message: string,
    /** The layer it is about, when one is. */
    readonly layer?: string,
  ) {
    super(message);
    this.name = 'KerasConfigError';
  }
}

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/**
 * Whether a config entry is a Keras 3 operation (`x + 3.0` in a functional model), not a
 * layer: its module says so, or, where the TF.js converter dropped `module`, its config
 * holds only a name (every layer's config has `trainable` and `dtype`).
 */
export function isOperationEntry(entry: Json): boolean {
  const module = String(entry.module ?? '');
  if (module) return module.startsWith('keras.src.ops');
  const config = isObj(entry.config) ? entry.config : {};
  return (
    Array.isArray(entry.inbound_nodes) &&
    entry.inbound_nodes.some(isObj) &&
    !('trainable' in config) &&
    !('dtype' in config) &&
    entry.class_name !== 'InputLayer'
  );
}

const moduleOf = (entry: Json): string => (isOperationEntry(entry) ? String(entry.module || 'keras.src.ops') : String(entry.module ?? ''));

function layerName(entry: Json): string {
  const config = isObj(entry.config) ? entry.config : {};
  return String(entry.name ?? config.name ?? '');
}

/** Tensor references and constants of a Keras 3 `{args, kwargs}` node, in order. */
function keras3Node(node: Json): KerasNode {
  const refs: TensorRef[] = [];
  const constants: unknown[] = [];
  const shapes: unknown[] = [];
  const visit = (v: unknown) => {
    if (isObj(v) && v.class_name === '__keras_tensor__' && isObj(v.config)) {
      const h = v.config.keras_history;
      if (Array.isArray(h) && h.length >= 3) {
        refs.push([String(h[0]), Number(h[1]), Number(h[2])]);
        shapes.push(v.config.shape);
      }
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (!isObj(v)) {
      constants.push(v);
    }
  };
  (Array.isArray(node.args) ? node.args : []).forEach(visit);
  const kwargs = isObj(node.kwargs) ? { ...node.kwargs } : {};
  for (const [k, v] of Object.entries(kwargs)) {
    const inner: TensorRef[] = [];
    if (isObj(v) && v.class_name === '__keras_tensor__') {
      const before = refs.length;
      visit(v);
      inner.push(...refs.splice(before));
      refs.push(...inner);
      delete kwargs[k];
    }
  }
  return { refs, constants, kwargs, shapes };
}

/** Keras 2 node: [[name, node, tensor, kwargs], ...]. */
function keras2Node(node: unknown[]): KerasNode {
  const refs: TensorRef[] = [];
  let kwargs: Json = {};
  for (const r of node) {
    if (!Array.isArray(r) || r.length < 3) continue;
    refs.push([String(r[0]), Number(r[1]), Number(r[2])]);
    if (isObj(r[3])) kwargs = { ...kwargs, ...r[3] };
  }
  return { refs, constants: [], kwargs };
}

function nodesOf(entry: Json): KerasNode[] {
  const raw = Array.isArray(entry.inbound_nodes) ? entry.inbound_nodes : [];
  return raw.map((n) => (isObj(n) ? keras3Node(n) : Array.isArray(n) ? keras2Node(n) : { refs: [], constants: [], kwargs: {} }));
}

const buildShape = (entry: Json): unknown => (isObj(entry.build_config) ? entry.build_config.input_shape : undefined);

/** Keras 3 writes one input/output as ["name", 0, 0] instead of [["name", 0, 0]]. */
function refList(v: unknown): TensorRef[] {
  if (!Array.isArray(v)) return [];
  if (v.length >= 3 && typeof v[0] === 'string') return [[v[0], Number(v[1]), Number(v[2])]];
  return v.filter((r): r is unknown[] => Array.isArray(r) && r.length >= 3).map((r) => [String(r[0]), Number(r[1]), Number(r[2])]);
}

/** The InputLayer a Sequential model implies when its first layer only carries an input shape. */
function impliedInput(first: Json, name: string): KerasLayer | undefined {
  const c = isObj(first.config) ? first.config : {};
  const build = isObj(first.build_config) ? first.build_config.input_shape : undefined;
  const shape = c.batch_input_shape ?? c.batch_shape ?? build;
  if (!Array.isArray(shape)) return undefined;
  return { name, className: 'InputLayer', module: '', config: { name, batch_input_shape: shape, dtype: 'float32' }, nodes: [], weightKey: [name] };
}

interface Parsed {
  layers: KerasLayer[];
  inputs: TensorRef[];
  outputs: TensorRef[];
  aliases: Map<string, string>;
}

function parseModel(entry: Json, prefix: string[], path: string): Parsed {
  const cls = String(entry.class_name);
  const config = entry.config;
  const rawLayers = (Array.isArray(config) ? config : isObj(config) && Array.isArray(config.layers) ? config.layers : undefined) as Json[] | undefined;
  if (!rawLayers) throw new KerasConfigError(`${path}: the ${cls} config has no layer list`);
  const modelName = isObj(config) ? String(config.name ?? '') : '';

  let parsed: Parsed;
  if (cls === 'Sequential') {
    const layers: KerasLayer[] = [];
    let previous: TensorRef | undefined;
    rawLayers.forEach((l, i) => {
      if (!isObj(l)) return;
      if (i === 0 && l.class_name !== 'InputLayer') {
        const input = impliedInput(l, `${modelName || 'sequential'}_input`);
        if (input) {
          layers.push(input);
          previous = [input.name, 0, 0];
        }
      }
      const name = layerName(l);
      const layer: KerasLayer = {
        name,
        className: String(l.class_name),
        module: moduleOf(l),
        config: isObj(l.config) ? l.config : {},
        nodes: l.class_name === 'InputLayer' || !previous ? [] : [{ refs: [previous], constants: [], kwargs: {} }],
        weightKey: [...prefix, name],
        inputShape: buildShape(l),
      };
      layers.push(layer);
      previous = [name, 0, 0];
    });
    const first = layers.find((l) => l.className === 'InputLayer');
    if (!first || !previous)
      throw new KerasConfigError(
        `${path}: the Sequential model '${modelName}' does not say its input shape; build it with an Input layer (keras.Input) and save it again`,
      );
    parsed = { layers, inputs: [[first.name, 0, 0]], outputs: [previous], aliases: new Map() };
  } else {
    const layers = rawLayers.filter(isObj).map((l): KerasLayer => {
      const name = layerName(l);
      return {
        name,
        className: String(l.class_name),
        module: moduleOf(l),
        config: isObj(l.config) ? l.config : {},
        nodes: nodesOf(l),
        weightKey: [...prefix, name],
        inputShape: buildShape(l),
      };
    });
    parsed = {
      layers,
      inputs: refList(isObj(config) ? config.input_layers : undefined),
      outputs: refList(isObj(config) ? config.output_layers : undefined),
      aliases: new Map(),
    };
  }
  // Keep the raw entries of nested models for inlining (their config is the nested model's).
  parsed.layers.forEach((l, i) => {
    const raw = cls === 'Sequential' ? rawLayers.find((r) => isObj(r) && layerName(r) === l.name) : rawLayers[i];
    if (MODEL_CLASSES.has(l.className) && isObj(raw)) nested.set(l, raw);
  });
  return inlineNested(parsed, path);
}

const nested = new WeakMap<KerasLayer, Json>();

/** Replaces each nested model layer by its own layers, wired to the outer graph. */
function inlineNested(graph: Parsed, path: string): Parsed {
  const out: KerasLayer[] = [];
  const rewire = new Map<string, TensorRef[]>(); // nested model name -> its outputs (by output index)
  const taken = new Set(graph.layers.filter((l) => !nested.has(l)).map((l) => l.name));
  const aliases = new Map(graph.aliases);
  for (const layer of graph.layers) {
    const raw = nested.get(layer);
    if (!raw) {
      out.push(layer);
      continue;
    }
    if (layer.nodes.length !== 1) {
      throw new KerasConfigError(
        `${path}: the nested model '${layer.name}' is called ${layer.nodes.length} times; Transfer Lab can only inline a nested model used once. Save the model with the nested model used once, or as a flat Functional model`,
      );
    }
    const inner = parseModel(raw, layer.weightKey, `${path} > ${layer.name}`);
    // Inner names that collide with outer ones get the nested model's name in front.
    const rename = new Map<string, string>();
    for (const l of inner.layers) {
      let n = l.name;
      if (taken.has(n)) n = `${layer.name}_${n}`;
      rename.set(l.name, n);
      taken.add(n);
    }
    const innerInputs = new Map(inner.inputs.map((ref, i) => [ref[0], layer.nodes[0].refs[i]]));
    const mapRef = (r: TensorRef): TensorRef => innerInputs.get(r[0]) ?? [rename.get(r[0]) ?? r[0], r[1], r[2]];
    for (const l of inner.layers) {
      if (innerInputs.has(l.name)) continue; // its inputs are the outer tensors that fed the nested model
      out.push({ ...l, name: rename.get(l.name)!, nodes: l.nodes.map((n) => ({ ...n, refs: n.refs.map(mapRef) })) });
    }
    rewire.set(layer.name, inner.outputs.map(mapRef));
    for (const [a, target] of inner.aliases) aliases.set(a, rename.get(target) ?? target);
  }
  const resolve = (r: TensorRef): TensorRef => {
    const outs = rewire.get(r[0]);
    return outs ? resolve(outs[r[2]] ?? outs[0]) : r;
  };
  for (const l of out) for (const n of l.nodes) n.refs = n.refs.map(resolve);
  for (const name of rewire.keys()) aliases.set(name, resolve([name, 0, 0])[0]);
  return { layers: out, inputs: graph.inputs.map(resolve), outputs: graph.outputs.map(resolve), aliases };
}

/**
 * Reads a Keras model config: `{class_name, config}` (optionally wrapped as
 * `{model_config: …}` as model.json and .h5 files do).
 */
export function parseKerasModel(topology: unknown, where: string, kerasVersion?: string): KerasGraph {
  let t = topology;
  let version = kerasVersion;
  if (isObj(t) && typeof t.keras_version === 'string') version ??= t.keras_version;
  if (isObj(t) && isObj(t.model_config)) t = t.model_config;
  if (isObj(t) && typeof t.keras_version === 'string') version ??= t.keras_version;
  if (!isObj(t) || typeof t.class_name !== 'string' || (!isObj(t.config) && !Array.isArray(t.config))) {
    throw new KerasConfigError(`${where}: the model topology is not a Keras model config (no class_name/config)`);
  }
  if (!MODEL_CLASSES.has(t.class_name)) {
    throw new KerasConfigError(
      `${where}: the saved object is a '${t.class_name}', not a Keras Functional or Sequential model. Subclassed models cannot be rebuilt from their config; save a Functional model (keras.Model(inputs, outputs))`,
    );
  }
  const keras3 = /"(registered_name|batch_shape|__keras_tensor__)"/.test(JSON.stringify(t));
  version ??= keras3 ? '3' : undefined;
  const parsed = parseModel(t, [], where);
  const name = isObj(t.config) ? String(t.config.name ?? 'model') : 'model';
  const notes: string[] = [];
  if (parsed.layers.some((l) => l.weightKey.length > 1)) notes.push('Nested models were inlined: their layers appear in the layer tree by their own names.');
  return { name, ...parsed, kerasVersion: version, notes };
}

export function isKeras3(graph: KerasGraph): boolean {
  return !!graph.kerasVersion && graph.kerasVersion.startsWith('3');
}
