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

/** The model's wiring by layer name; a layer used more than once (shared) is refused. */
export function layerGraph(model: LayersModel, fail: (message: string) => Error): LayerGraph {
  const byName = new Map<string, Layer>();
  const inputsOf = new Map<string, string[]>();
  const consumers = new Map<string, string[]>();
  for (const layer of model.layers) {
    byName.set(layer.name, layer);
    if (layer.inboundNodes.length > 1) throw fail(`layer '${layer.name}' is used more than once (shared layers are not planned)`);
    const inbound = layer.inboundNodes[0]?.inboundLayers.map((l) => l.name) ?? [];
    inputsOf.set(layer.name, inbound);
    for (const i of inbound) consumers.set(i, [...(consumers.get(i) ?? []), layer.name]);
  }
  return { byName, inputsOf, consumers };
}
