// The inference plan's steps, one per Keras layer at first (translateLayer), then merged by
// the folding passes (inferenceFolding.ts), then run (inferenceRun.ts). A step holds its own
// copies of the weights it needs, already in the form it runs with (BatchNormalization as a
// per-channel scale and shift, LayerScale as a scale, a Dense layer on a 4-D tensor as a 1x1
// convolution), so folding is arithmetic on tensors.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import { configOf, isLastAxis, pair, type LayerGraph, type Shape } from '../layerGraph';
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

/**
 * The steps for one Keras layer, or null when the plan does not know it (then it runs as the
 * layer itself). Runs inside the compiler's tidy: tensors made here are kept only if a final
 * step holds them. `graph` gives the shapes this model feeds the layer.
 */
export function translateLayer(layer: Layer, inputs: string[], graph: LayerGraph): Translation {
  const t = tf();
  const name = layer.name;
  const className = layer.getClassName();
  const c = configOf(layer);
  const base = { name, inputs, covers: [name], head: { name, className } };
  const inShape: Shape | undefined = graph.inputShapesOf.get(name)?.[0];
  const rank = inShape?.length;
  const channelsLast = (c.dataFormat ?? 'channelsLast') === 'channelsLast';
  const one = (s: StepOp): Translation => ({ steps: [{ ...base, ...s } as Step] });

  if (IDENTITY_AT_INFERENCE.has(className)) return { identity: true };
  const simpleAct = layerActivation(layer);
  if (simpleAct !== undefined) return one({ op: 'act', act: simpleAct });

  switch (className) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const act = activationNamed(c.activation);
      if (act === undefined || !channelsLast || (c.padding !== 'same' && c.padding !== 'valid') || rank !== 4) return null;
      const depthwise = className === 'DepthwiseConv2D';
      const [kernel, bias] = layer.getWeights();
      const strides = pair(c.strides, 1);
      const dilations = pair(c.dilationRate, 1);
      const hasBias = c.useBias !== false && bias !== undefined;
      const [kh, kw, , mult] = kernel.shape as number[];
      // LayerScale (ConvNeXt, rewritten by the loader) and any 1x1 depthwise: a per-channel scale.
      if (depthwise && kh === 1 && kw === 1 && mult === 1 && strides.every((v) => v === 1)) {
        return one({ op: 'affine', scale: t.reshape(kernel, [-1]), shift: hasBias ? bias.clone() : null, act, batchNorms: 0 });
      }
      // Every ordinary convolution gets a bias (zeros where it has none): the native fused op needs one.
      const b = hasBias ? bias.clone() : depthwise ? null : t.zeros([kernel.shape[3] as number]);
      return one({ op: 'conv', depthwise, filter: kernel.clone(), bias: b, strides, dilations, pad: c.padding, act, inputSize: spatialSize(inShape) });
    }
    case 'SeparableConv2D': {
      // Depthwise (strides, padding, dilation), then a 1x1 pointwise convolution with the bias and activation.
      const act = activationNamed(c.activation);
      if (act === undefined || !channelsLast || (c.padding !== 'same' && c.padding !== 'valid') || rank !== 4) return null;
      const [depthKernel, pointKernel, bias] = layer.getWeights();
      const b = c.useBias !== false && bias !== undefined ? bias.clone() : t.zeros([pointKernel.shape[3] as number]);
      const depthName = `${name}/depthwise`;
      return {
        steps: [
          {
            ...base,
            name: depthName,
            covers: [],
            op: 'conv',
            depthwise: true,
            filter: depthKernel.clone(),
            bias: null,
            strides: pair(c.strides, 1),
            dilations: pair(c.dilationRate, 1),
            pad: c.padding,
            act: 'linear',
            inputSize: spatialSize(inShape),
          },
          {
            ...base,
            inputs: [depthName],
            op: 'conv',
            depthwise: false,
            filter: pointKernel.clone(),
            bias: b,
            strides: [1, 1],
            dilations: [1, 1],
            pad: 'valid',
            act,
          },
        ],
      };
    }
    case 'Dense': {
      const act = activationNamed(c.activation);
      if (act === undefined || rank === undefined) return null;
      const [kernel, bias] = layer.getWeights();
      const hasBias = c.useBias !== false && bias !== undefined;
      // ConvNeXt's pointwise layers: Dense on [N, H, W, C] is a 1x1 convolution.
      if (rank === 4) {
        const [cin, cout] = kernel.shape as number[];
        return one({
          op: 'conv',
          depthwise: false,
          filter: t.reshape(kernel, [1, 1, cin, cout]),
          bias: hasBias ? bias.clone() : t.zeros([cout]),
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
          act,
        });
      }
      return one({ op: 'dense', kernel: kernel.clone(), bias: hasBias ? bias.clone() : null, act });
    }
    case 'BatchNormalization': {
      if (rank === undefined || !isLastAxis(c.axis, rank)) return null;
      const { scale, shift } = batchNormAffine(layer);
      return { steps: [{ ...base, op: 'affine', scale, shift, act: 'linear', batchNorms: 1 }] };
    }
    case 'LayerNormalization': {
      if (rank === undefined || !isLastAxis(c.axis, rank)) return null;
      const w = layer.getWeights();
      let k = 0;
      const gamma = c.scale === false ? null : w[k++];
      const beta = c.center === false ? null : w[k++];
      const normalize: Step = { ...base, op: 'normalize', epsilon: c.epsilon ?? 1e-3 };
      if (!gamma && !beta) return { steps: [normalize] };
      const normName = `${name}/normalize`;
      return {
        steps: [
          { ...normalize, name: normName, covers: [] },
          { ...base, inputs: [normName], op: 'affine', scale: gamma ? gamma.clone() : null, shift: beta ? beta.clone() : null, act: 'linear', batchNorms: 0 },
        ],
      };
    }
    case 'Rescaling': {
      const scale = c.scale as number | number[] | undefined;
      const offset = c.offset ?? 0;
      const asTensor = (v: number | number[]) => (typeof v === 'number' ? t.scalar(v) : t.tensor1d(v));
      const isOne = scale === undefined || scale === 1;
      const isZero = offset === 0 || (Array.isArray(offset) && offset.every((v) => v === 0));
      return one({ op: 'affine', scale: isOne ? null : asTensor(scale!), shift: isZero ? null : asTensor(offset), act: 'linear', batchNorms: 0 });
    }
    case 'ReLU': {
      if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0 || typeof c.maxValue !== 'number') return null;
      return one({ op: 'clip', min: 0, max: c.maxValue });
    }
    case 'LeakyReLU':
      return one({ op: 'leakyRelu', alpha: c.alpha ?? 0.3 });
    case 'Activation':
      return c.activation === 'softmax' ? one({ op: 'softmax' }) : null;
    case 'Add':
      return inputs.length >= 2 ? one({ op: 'add', act: 'linear' }) : null;
    case 'Multiply':
      return inputs.length >= 2 ? one({ op: 'mul' }) : null;
    case 'Concatenate':
      return one({ op: 'concat', axis: typeof c.axis === 'number' ? c.axis : -1 });
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      if (!channelsLast || (c.padding !== 'same' && c.padding !== 'valid')) return null;
      const size = pair(c.poolSize, 2);
      const strides = c.strides === null || c.strides === undefined ? size : pair(c.strides, 1);
      return one({ op: 'pool', kind: className === 'MaxPooling2D' ? 'max' : 'avg', size, strides, pad: c.padding });
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      if (!channelsLast) return null;
      return one({
        op: 'reduce',
        kind: className === 'GlobalMaxPooling2D' ? 'max' : 'mean',
        axes: [1, 2],
        keepDims: (c as { keepDims?: boolean }).keepDims === true,
      });
    case 'ZeroPadding2D': {
      const p = twoPairs(c.padding ?? 1);
      return p && channelsLast ? one({ op: 'pad', paddings: p }) : null;
    }
    case 'Cropping2D': {
      const p = twoPairs(c.cropping ?? 0);
      return p && channelsLast ? one({ op: 'crop', cropping: p }) : null;
    }
    case 'Reshape':
      return Array.isArray(c.targetShape) ? one({ op: 'reshape', shape: c.targetShape }) : null;
    case 'Flatten':
      return one({ op: 'reshape', shape: [-1] });
    default:
      return null;
  }
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
