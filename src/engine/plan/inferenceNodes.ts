// The inference plan's steps, one per Keras layer at first (translateLayer), then merged by
// the folding passes (inferenceFolding.ts), then run (inferenceRun.ts). A step holds its own
// copies of the weights it needs, already in the form it runs with (BatchNormalization as a
// per-channel scale and shift, LayerScale as a scale, a Dense layer on a 4-D tensor as a 1x1
// convolution), so folding is arithmetic on tensors.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import { configOf, isLastAxis, pair, type LayerConfig, type LayerGraph, type Shape } from '../layerGraph';
import { activationNamed, layerActivation, type PlanActivation } from './activations';
import type { Padding } from './nativeOps';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;

export class InferencePlanError extends Error {}

interface StepBase {
  /** The value this step produces: the name of the last Keras layer it covers. */
  name: string;
  inputs: string[];
  /** The Keras layers this step computes, in order. */
  covers: string[];
  /** The layer named in error messages (the first one covered) and its class. */
  head: { name: string; className: string };
}

export type StepOp =
  /** act(conv(x) + bias [+ residual]); with `residual`, inputs[1] is added before the activation (ResNet's Add). */
  | {
      op: 'conv';
      depthwise: boolean;
      filter: Tensor;
      bias: Tensor | null;
      strides: [number, number];
      dilations: [number, number];
      pad: Padding;
      act: PlanActivation;
      residual?: boolean;
      inputSize?: [number, number];
    }
  /** Dense on a tensor that is not 4-D: a matrix product over the last axis. */
  | { op: 'dense'; kernel: Tensor; bias: Tensor | null; act: PlanActivation }
  /**
   * act(x * scale + shift) over the last axis; scale and shift are [channels] or scalars, null
   * for 1 and 0. batchNorms: how many BatchNormalization layers it holds (to count folds).
   */
  | { op: 'affine'; scale: Tensor | null; shift: Tensor | null; act: PlanActivation; batchNorms: number }
  | { op: 'act'; act: PlanActivation }
  | { op: 'add'; act: PlanActivation }
  | { op: 'mul' }
  | { op: 'concat'; axis: number }
  | { op: 'pool'; kind: 'max' | 'avg'; size: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }
  | { op: 'reduce'; kind: 'mean' | 'max'; axes: number[]; keepDims: boolean }
  | { op: 'pad'; paddings: [[number, number], [number, number]] }
  | { op: 'crop'; cropping: [[number, number], [number, number]] }
  /** Without the batch dimension. */
  | { op: 'reshape'; shape: number[] }
  /** (x - mean) / sqrt(variance + epsilon) over the last axis: LayerNormalization before its gamma and beta. */
  | { op: 'normalize'; epsilon: number }
  | { op: 'clip'; min: number; max: number }
  | { op: 'leakyRelu'; alpha: number }
  | { op: 'softmax' }
  | { op: 'layer'; layer: Layer };

export type Step = StepBase & StepOp;
export type StepOf<K extends StepOp['op']> = StepBase & Extract<StepOp, { op: K }>;

/** What translateLayer makes of a layer: steps, an identity (Dropout at inference), or nothing it knows. */
export type Translation = { steps: Step[] } | { identity: true } | null;

const IDENTITY_AT_INFERENCE = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'SpatialDropout3D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'ActivityRegularization',
]);

const twoPairs = (v: unknown): [[number, number], [number, number]] | undefined => {
  if (typeof v === 'number')
    return [
      [v, v],
      [v, v],
    ];
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const [a, b] = v.map((q) => (typeof q === 'number' ? [q, q] : q)) as number[][];
  return Array.isArray(a) && Array.isArray(b)
    ? [
        [a[0], a[1]],
        [b[0], b[1]],
      ]
    : undefined;
};

/** Height and width of a [N, H, W, C] shape, when known. */
const spatialSize = (shape: Shape | undefined): [number, number] | undefined =>
  shape && typeof shape[1] === 'number' && typeof shape[2] === 'number' ? [shape[1], shape[2]] : undefined;

/** Keras weights of a BatchNormalization as a per-channel scale and shift (inference mode). */
export function batchNormAffine(layer: Layer): { scale: Tensor; shift: Tensor } {
  const t = tf();
  const c = configOf(layer);
  const w = layer.getWeights();
  // Weights in Keras order: [gamma if scale], [beta if center], moving mean, moving variance.
  let k = 0;
  const gamma = c.scale === false ? null : w[k++];
  const beta = c.center === false ? null : w[k++];
  const mean = w[k++];
  const variance = w[k++];
  let scale = t.rsqrt(t.add(variance, c.epsilon ?? 1e-3));
  if (gamma) scale = t.mul(scale, gamma);
  let shift = t.neg(t.mul(mean, scale));
  if (beta) shift = t.add(shift, beta);
  return { scale, shift };
}

/** One layer as the translators read it. */
interface LayerAt {
  layer: Layer;
  name: string;
  className: string;
  c: LayerConfig;
  inputs: string[];
  /** The shape this model feeds the layer, and its rank. */
  inShape: Shape | undefined;
  rank: number | undefined;
  channelsLast: boolean;
  /** The fields of the layer's (last) step. */
  base: StepBase;
}

/** The steps of a known layer class, or null when this layer's settings are ones the plan does not run. */
type Translator = (at: LayerAt) => Translation;

const one = (at: LayerAt, s: StepOp): Translation => ({ steps: [{ ...at.base, ...s } as Step] });

/** The activation and padding of a channels-last convolution on a 4-D tensor, or undefined if the plan cannot run it. */
function convForm(at: LayerAt): { act: PlanActivation; pad: 'same' | 'valid' } | undefined {
  const act = activationNamed(at.c.activation);
  const pad = at.c.padding;
  if (act === undefined || !at.channelsLast || (pad !== 'same' && pad !== 'valid') || at.rank !== 4) return undefined;
  return { act, pad };
}

const convolution: Translator = (at) => {
  const form = convForm(at);
  if (!form) return null;
  const t = tf();
  const c = at.c;
  const depthwise = at.className === 'DepthwiseConv2D';
  const [kernel, bias] = at.layer.getWeights();
  const strides = pair(c.strides, 1);
  const dilations = pair(c.dilationRate, 1);
  const hasBias = c.useBias !== false && bias !== undefined;
  const [kh, kw, , mult] = kernel.shape as number[];
  // LayerScale (ConvNeXt, rewritten by the loader) and any 1x1 depthwise: a per-channel scale.
  if (depthwise && kh === 1 && kw === 1 && mult === 1 && strides.every((v) => v === 1)) {
    return one(at, { op: 'affine', scale: t.reshape(kernel, [-1]), shift: hasBias ? bias.clone() : null, act: form.act, batchNorms: 0 });
  }
  // Every ordinary convolution gets a bias (zeros where it has none): the native fused op needs one.
  const b = hasBias ? bias.clone() : depthwise ? null : t.zeros([kernel.shape[3] as number]);
  return one(at, {
    op: 'conv',
    depthwise,
    filter: kernel.clone(),
    bias: b,
    strides,
    dilations,
    pad: form.pad,
    act: form.act,
    inputSize: spatialSize(at.inShape),
  });
};

/** Depthwise (strides, padding, dilation), then a 1x1 pointwise convolution with the bias and activation. */
const separableConvolution: Translator = (at) => {
  const form = convForm(at);
  if (!form) return null;
  const t = tf();
  const c = at.c;
  const [depthKernel, pointKernel, bias] = at.layer.getWeights();
  const b = c.useBias !== false && bias !== undefined ? bias.clone() : t.zeros([pointKernel.shape[3] as number]);
  const depthName = `${at.name}/depthwise`;
  return {
    steps: [
      {
        ...at.base,
        name: depthName,
        covers: [],
        op: 'conv',
        depthwise: true,
        filter: depthKernel.clone(),
        bias: null,
        strides: pair(c.strides, 1),
        dilations: pair(c.dilationRate, 1),
        pad: form.pad,
        act: 'linear',
        inputSize: spatialSize(at.inShape),
      },
      {
        ...at.base,
        inputs: [depthName],
        op: 'conv',
        depthwise: false,
        filter: pointKernel.clone(),
        bias: b,
        strides: [1, 1],
        dilations: [1, 1],
        pad: 'valid',
        act: form.act,
      },
    ],
  };
};

const dense: Translator = (at) => {
  const act = activationNamed(at.c.activation);
  if (act === undefined || at.rank === undefined) return null;
  const t = tf();
  const [kernel, bias] = at.layer.getWeights();
  const hasBias = at.c.useBias !== false && bias !== undefined;
  // ConvNeXt's pointwise layers: Dense on [N, H, W, C] is a 1x1 convolution.
  if (at.rank === 4) {
    const [cin, cout] = kernel.shape as number[];
    const filter = t.reshape(kernel, [1, 1, cin, cout]);
    return one(at, {
      op: 'conv',
      depthwise: false,
      filter,
      bias: hasBias ? bias.clone() : t.zeros([cout]),
      strides: [1, 1],
      dilations: [1, 1],
      pad: 'valid',
      act,
    });
  }
  return one(at, { op: 'dense', kernel: kernel.clone(), bias: hasBias ? bias.clone() : null, act });
};

const batchNormalization: Translator = (at) => {
  if (at.rank === undefined || !isLastAxis(at.c.axis, at.rank)) return null;
  const { scale, shift } = batchNormAffine(at.layer);
  return one(at, { op: 'affine', scale, shift, act: 'linear', batchNorms: 1 });
};

/** Normalised over the last axis, then (if the layer has gamma or beta) scaled and shifted. */
const layerNormalization: Translator = (at) => {
  const c = at.c;
  if (at.rank === undefined || !isLastAxis(c.axis, at.rank)) return null;
  const w = at.layer.getWeights();
  let k = 0;
  const gamma = c.scale === false ? null : w[k++];
  const beta = c.center === false ? null : w[k++];
  const normalize: Step = { ...at.base, op: 'normalize', epsilon: c.epsilon ?? 1e-3 };
  if (!gamma && !beta) return { steps: [normalize] };
  const normName = `${at.name}/normalize`;
  const affine: Step = {
    ...at.base,
    inputs: [normName],
    op: 'affine',
    scale: gamma ? gamma.clone() : null,
    shift: beta ? beta.clone() : null,
    act: 'linear',
    batchNorms: 0,
  };
  return { steps: [{ ...normalize, name: normName, covers: [] }, affine] };
};

const rescaling: Translator = (at) => {
  const t = tf();
  const scale = at.c.scale as number | number[] | undefined;
  const offset = at.c.offset ?? 0;
  const asTensor = (v: number | number[]) => (typeof v === 'number' ? t.scalar(v) : t.tensor1d(v));
  const isOne = scale === undefined || scale === 1;
  const isZero = offset === 0 || (Array.isArray(offset) && offset.every((v) => v === 0));
  return one(at, { op: 'affine', scale: isOne ? null : asTensor(scale!), shift: isZero ? null : asTensor(offset), act: 'linear', batchNorms: 0 });
};

const pooling: Translator = (at) => {
  const c = at.c;
  if (!at.channelsLast || (c.padding !== 'same' && c.padding !== 'valid')) return null;
  const size = pair(c.poolSize, 2);
  const strides = c.strides === null || c.strides === undefined ? size : pair(c.strides, 1);
  return one(at, { op: 'pool', kind: at.className === 'MaxPooling2D' ? 'max' : 'avg', size, strides, pad: c.padding });
};

const globalPooling: Translator = (at) => {
  if (!at.channelsLast) return null;
  const keepDims = (at.c as { keepDims?: boolean }).keepDims === true;
  return one(at, { op: 'reduce', kind: at.className === 'GlobalMaxPooling2D' ? 'max' : 'mean', axes: [1, 2], keepDims });
};

/** The layer classes the plan knows, by class name. */
const TRANSLATORS: Record<string, Translator> = {
  Conv2D: convolution,
  DepthwiseConv2D: convolution,
  SeparableConv2D: separableConvolution,
  Dense: dense,
  BatchNormalization: batchNormalization,
  LayerNormalization: layerNormalization,
  Rescaling: rescaling,
  ReLU: (at) => {
    const c = at.c;
    if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0 || typeof c.maxValue !== 'number') return null;
    return one(at, { op: 'clip', min: 0, max: c.maxValue });
  },
  LeakyReLU: (at) => one(at, { op: 'leakyRelu', alpha: at.c.alpha ?? 0.3 }),
  Activation: (at) => (at.c.activation === 'softmax' ? one(at, { op: 'softmax' }) : null),
  Add: (at) => (at.inputs.length >= 2 ? one(at, { op: 'add', act: 'linear' }) : null),
  Multiply: (at) => (at.inputs.length >= 2 ? one(at, { op: 'mul' }) : null),
  Concatenate: (at) => one(at, { op: 'concat', axis: typeof at.c.axis === 'number' ? at.c.axis : -1 }),
  MaxPooling2D: pooling,
  AveragePooling2D: pooling,
  GlobalAveragePooling2D: globalPooling,
  GlobalMaxPooling2D: globalPooling,
  ZeroPadding2D: (at) => {
    const p = twoPairs(at.c.padding ?? 1);
    return p && at.channelsLast ? one(at, { op: 'pad', paddings: p }) : null;
  },
  Cropping2D: (at) => {
    const p = twoPairs(at.c.cropping ?? 0);
    return p && at.channelsLast ? one(at, { op: 'crop', cropping: p }) : null;
  },
  Reshape: (at) => (Array.isArray(at.c.targetShape) ? one(at, { op: 'reshape', shape: at.c.targetShape }) : null),
  Flatten: (at) => one(at, { op: 'reshape', shape: [-1] }),
};

/**
 * The steps for one Keras layer, or null when the plan does not know it (then it runs as the
 * layer itself). Runs inside the compiler's tidy: tensors made here are kept only if a final
 * step holds them. `graph` gives the shapes this model feeds the layer.
 */
export function translateLayer(layer: Layer, inputs: string[], graph: LayerGraph): Translation {
  const name = layer.name;
  const className = layer.getClassName();
  const c = configOf(layer);
  const inShape: Shape | undefined = graph.inputShapesOf.get(name)?.[0];
  const at: LayerAt = {
    layer,
    name,
    className,
    c,
    inputs,
    inShape,
    rank: inShape?.length,
    channelsLast: (c.dataFormat ?? 'channelsLast') === 'channelsLast',
    base: { name, inputs, covers: [name], head: { name, className } },
  };
  if (IDENTITY_AT_INFERENCE.has(className)) return { identity: true };
  const simpleAct = layerActivation(layer);
  if (simpleAct !== undefined) return one(at, { op: 'act', act: simpleAct });
  return Object.hasOwn(TRANSLATORS, className) ? TRANSLATORS[className](at) : null;
}

/** Every tensor the steps hold. */
export function stepTensors(steps: Step[]): Tensor[] {
  const out: Tensor[] = [];
  for (const s of steps) {
    if (s.op === 'conv') out.push(s.filter, ...(s.bias ? [s.bias] : []));
    else if (s.op === 'dense') out.push(s.kernel, ...(s.bias ? [s.bias] : []));
    else if (s.op === 'affine') out.push(...(s.scale ? [s.scale] : []), ...(s.shift ? [s.shift] : []));
  }
  return out;
}
