// What the two layer planners (inferencePlan for frozen layers, trainingPlan for fine-tuned
// ones) read from a Keras-style layers model: its wiring and tensor shapes, layer configs,
// which layers are channel BatchNorms, and which chains of stock layers are one activation
// (the loader's rewrites of Keras 3's hard_sigmoid and hard_silu).
import type * as tfTypes from '@tensorflow/tfjs';
import type { PlanActivation } from './plan/activations';

type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;
export type Shape = (number | null)[];

export interface LayerConfig {
  strides?: number | number[];
  dilationRate?: number | number[];
  padding?: string | number[][] | number[] | number;
  useBias?: boolean;
  activation?: string;
  epsilon?: number;
  scale?: boolean | number | number[];
  offset?: number | number[];
  center?: boolean;
  axis?: number | number[];
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
  rate?: number;
  dataFormat?: string;
  poolSize?: number | number[];
  kernelSize?: number | number[];
  depthMultiplier?: number;
  targetShape?: number[];
  cropping?: number | number[] | number[][];
  alpha?: number;
  units?: number;
}

export const configOf = (l: Layer) => l.getConfig() as unknown as LayerConfig;
export const pair = (v: number | number[] | undefined, d: number): [number, number] =>
  v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1] ?? v[0]];

/** A BatchNormalization over the channels (last axis of a rank-4 input, or axis -1): the kind a convolution can absorb. */
export function isChannelBatchNorm(l: Layer, inputRank?: number): boolean {
  if (l.getClassName() !== 'BatchNormalization') return false;
  return isLastAxis(configOf(l).axis, inputRank ?? 4);
}

/** Whether `axis` (a number or a one-element list) is the last axis of a tensor of rank `rank`. */
export function isLastAxis(axis: number | number[] | undefined, rank: number): boolean {
  const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : (axis ?? -1);
  return a === -1 || a === rank - 1;
}

export interface LayerGraph {
  byName: Map<string, Layer>;
  /** Names of the layers each layer reads. */
  inputsOf: Map<string, string[]>;
  /** Names of the layers that read each layer's output. */
  consumers: Map<string, string[]>;
  /** Shapes of the tensors each layer reads (batch first), as this model wires it. */
  inputShapesOf: Map<string, Shape[]>;
  /** Shape of each layer's output in this model. */
  outputShapeOf: Map<string, Shape>;
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
  const inputShapesOf = new Map<string, Shape[]>();
  const outputShapeOf = new Map<string, Shape>();
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
    outputShapeOf.set(layer.name, s.shape);
    if (inputIds.has(s.id)) {
      inputsOf.set(layer.name, []);
      inputShapesOf.set(layer.name, []);
      continue;
    }
    const node = layer.inboundNodes[s.nodeIndex];
    inputsOf.set(
      layer.name,
      node.inputTensors.map((i) => i.sourceLayer.name),
    );
    inputShapesOf.set(
      layer.name,
      node.inputTensors.map((i) => i.shape),
    );
    pending.push(...node.inputTensors);
  }
  // Consumers in the model's (topological) layer order, as the planners walk it.
  for (const layer of model.layers) {
    for (const i of inputsOf.get(layer.name) ?? []) consumers.set(i, [...(consumers.get(i) ?? []), layer.name]);
  }
  return { byName, inputsOf, consumers, inputShapesOf, outputShapeOf };
}

/** A chain of stock layers that computes one activation of `input`; `output` is its last layer. */
export interface ActivationGroup {
  input: string;
  output: string;
  activation: PlanActivation;
  /** The layers of the chain in order, `output` last. */
  members: string[];
}

const near = (v: unknown, target: number) => typeof v === 'number' && Math.abs(v - target) <= 1e-6 * Math.max(1, Math.abs(target));

/**
 * The activations the loader's rewrites spell as several layers, found by their shape:
 *   Rescaling(1/6, +0.5) -> ReLU(max 1)                hardSigmoid (Keras 3 hard_sigmoid)
 *   Rescaling(1, +3) -> ReLU(max 6) -> Rescaling(1/6)   hardSigmoid (MobileNetV3's own)
 *   x -> hardSigmoid -> Multiply(x, that)               hardSwish   (hard_silu / hard_swish)
 * Inner layers must have that one consumer and not be wanted on their own (`mustExist`: the
 * plan's output). Keyed by the output layer.
 */
export function activationGroups(
  graph: LayerGraph,
  consumersOf: (name: string) => string[],
  mustExist: (name: string) => boolean,
): Map<string, ActivationGroup> {
  const { byName, inputsOf } = graph;
  const groups = new Map<string, ActivationGroup>();
  const only = (n: string): Layer | undefined => {
    const c = consumersOf(n);
    return c.length === 1 && !mustExist(n) ? byName.get(c[0]) : undefined;
  };
  const isRescaling = (l: Layer | undefined, scale: number, offset: number) =>
    l?.getClassName() === 'Rescaling' && near(configOf(l).scale, scale) && near(configOf(l).offset ?? 0, offset);
  const isClip = (l: Layer | undefined, max: number) => {
    if (l?.getClassName() !== 'ReLU') return false;
    const c = configOf(l);
    return (c.negativeSlope ?? 0) === 0 && (c.threshold ?? 0) === 0 && c.maxValue === max;
  };
  for (const [name, layer] of byName) {
    const input = inputsOf.get(name)?.[0];
    if (input === undefined || (inputsOf.get(name)?.length ?? 0) !== 1) continue;
    if (isRescaling(layer, 1 / 6, 0.5)) {
      const clip = only(name);
      if (clip && isClip(clip, 1)) groups.set(clip.name, { input, output: clip.name, activation: 'hardSigmoid', members: [name, clip.name] });
    } else if (isRescaling(layer, 1, 3)) {
      const clip = only(name);
      const scale = clip && isClip(clip, 6) ? only(clip.name) : undefined;
      if (clip && scale && isRescaling(scale, 1 / 6, 0))
        groups.set(scale.name, { input, output: scale.name, activation: 'hardSigmoid', members: [name, clip.name, scale.name] });
    }
  }
  for (const g of [...groups.values()]) {
    const mul = only(g.output);
    const ins = mul ? (inputsOf.get(mul.name) ?? []) : [];
    if (mul?.getClassName() === 'Multiply' && ins.length === 2 && ins.includes(g.input) && ins.includes(g.output) && g.input !== g.output) {
      groups.delete(g.output);
      groups.set(mul.name, { input: g.input, output: mul.name, activation: 'hardSwish', members: [...g.members, mul.name] });
    }
  }
  return groups;
}
