// A (rewritten) Keras graph as the Keras 2 Functional topology tfjs-layers deserializes:
// `[[name, node, tensor, {}]]` inbound nodes, Keras 3 keys dropped (`module`,
// `registered_name`, `build_config`), DTypePolicy objects as dtype strings, InputLayer's
// `batch_shape` as `batch_input_shape`.
import { isObj, type Json, type KerasGraph } from './kerasGraph';

/** Config keys Keras 3 writes that tfjs does not know (dropped; they do not change inference). */
const KERAS3_EXTRA_CONFIG_KEYS = ['optional', 'quantization_config', 'lora_rank', 'lora_alpha', 'synchronized', 'renorm', 'renorm_clipping', 'renorm_momentum'];

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

/** A layer config (or anything inside it: initializers, regularizers) in the Keras 2 form. */
export function normaliseConfigValue(value: unknown, notes: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => normaliseConfigValue(v, notes));
  if (!isObj(value)) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'module' || k === 'registered_name' || k === 'build_config' || k === 'compile_config') continue;
    out[k] = normaliseConfigValue(v, notes);
  }
  if ('dtype' in out) out.dtype = normaliseDtype(out.dtype, notes);
  for (const key of KERAS3_EXTRA_CONFIG_KEYS) delete out[key];
  if (typeof out.class_name === 'string' && isObj(out.config)) {
    // A nested serialized object (initializer, regularizer, constraint): its config too.
    out.config = normaliseConfigValue(out.config, notes);
  }
  return out;
}

function layerConfig(className: string, config: Json, notes: Set<string>): Json {
  const c = normaliseConfigValue(config, notes) as Json;
  if (className === 'InputLayer') {
    if ('batch_shape' in c && !('batch_input_shape' in c)) c.batch_input_shape = c.batch_shape;
    delete c.batch_shape;
    if ('shape' in c && !('batch_input_shape' in c) && Array.isArray(c.shape)) c.batch_input_shape = [null, ...c.shape];
    delete c.shape;
  }
  return c;
}

/** The graph as tfjs-layers' Functional topology JSON. Notes say what the dtype policies became. */
export function toTfjsTopology(graph: KerasGraph, notes: string[] = []): Json {
  const found = new Set<string>();
  const layers = graph.layers.map((l) => ({
    class_name: l.className,
    name: l.name,
    config: { ...layerConfig(l.className, l.config, found), name: l.name },
    inbound_nodes: l.nodes.map((n) => n.refs.map(([name, node, tensor]) => [name, node, tensor, {}])),
  }));
  notes.push(...found);
  return {
    class_name: 'Functional',
    config: {
      name: graph.name,
      layers,
      input_layers: graph.inputs.map((r) => [...r]),
      output_layers: graph.outputs.map((r) => [...r]),
    },
    keras_version: '2.15.0',
    backend: 'tensorflow',
  };
}
