// What the two layer planners (inferencePlan for frozen layers, trainingPlan for fine-tuned
// ones) read from a Keras-style layers model: its wiring, layer configs, and which layers
// are activations or channel BatchNorms they can absorb into a convolution.
import type * as tfTypes from '@tensorflow/tfjs';

type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;
export type Activation = 'linear' | 'relu' | 'relu6';

export interface LayerConfig {
  strides?: number | number[];
  dilationRate?: number | number[];
  padding?: string | number[][] | number[] | number;
  useBias?: boolean;
  activation?: string;
  epsilon?: number;
  scale?: boolean;
  center?: boolean;
  axis?: number | number[];
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
  rate?: number;
}

export const configOf = (l: Layer) => l.getConfig() as unknown as LayerConfig;
export const pair = (v: number | number[] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1] ?? v[0]]);

/** The layer's activation as one a convolution op can apply, or undefined. */
export function activationOf(l: Layer): Activation | undefined {
  const c = configOf(l);
  if (l.getClassName() === 'ReLU') {
    if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) return undefined;
    if (c.maxValue === undefined || c.maxValue === null) return 'relu';
    return c.maxValue === 6 ? 'relu6' : undefined;
  }
  if (l.getClassName() === 'Activation') return c.activation === 'relu' || c.activation === 'relu6' || c.activation === 'linear' ? c.activation : undefined;
  return undefined;
}

/** A BatchNormalization over the channels (last axis): the kind a convolution can absorb. */
export function isChannelBatchNorm(l: Layer): boolean {
  if (l.getClassName() !== 'BatchNormalization') return false;
  const c = configOf(l);
  const axis = Array.isArray(c.axis) ? c.axis : [c.axis ?? -1];
  return axis.length === 1 && (axis[0] === -1 || axis[0] === 3);
}

export interface LayerGraph {
  byName: Map<string, Layer>;
  /** Names of the layers each layer reads. */
  inputsOf: Map<string, string[]>;
  /** Names of the layers that read each layer's output. */
  consumers: Map<string, string[]>;
}

/**
 * The model's wiring by layer name, read from the model's own nodes. A layer applied again
 * elsewhere (the trainable part re-applies the backbone's layers to the boundary tensors,
 * so each of them has a second inbound node) is wired as this model uses it; a layer used
 * more than once inside this model (shared) is refused.
 */
export function layerGraph(model: LayersModel, fail: (message: string) => Error): LayerGraph {
  const byName = new Map<string, Layer>();
  const inputsOf = new Map<string, string[]>();
  const consumers = new Map<string, string[]>();
  for (const layer of model.layers) byName.set(layer.name, layer);
  // Back from the outputs to the inputs: each tensor names the node that made it.
  const nodeOf = new Map<string, number>();
  const inputIds = new Set(model.inputs.map((s) => s.id));
  const pending = [...model.outputs];
  while (pending.length > 0) {
    const s = pending.pop()!;
    const layer = s.sourceLayer;
    const seen = nodeOf.get(layer.name);
    if (seen !== undefined) {
      if (seen !== s.nodeIndex) throw fail(`layer '${layer.name}' is used more than once (shared layers are not planned)`);
      continue;
    }
    nodeOf.set(layer.name, s.nodeIndex);
    if (inputIds.has(s.id)) {
      inputsOf.set(layer.name, []);
      continue;
    }
    const node = layer.inboundNodes[s.nodeIndex];
    inputsOf.set(layer.name, node.inputTensors.map((i) => i.sourceLayer.name));
    pending.push(...node.inputTensors);
  }
  // Consumers in the model's (topological) layer order, as the planners walk it.
  for (const layer of model.layers) {
    for (const i of inputsOf.get(layer.name) ?? []) consumers.set(i, [...(consumers.get(i) ?? []), layer.name]);
  }
  return { byName, inputsOf, consumers };
}
