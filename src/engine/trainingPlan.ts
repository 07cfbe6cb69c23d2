// Lean fine-tuning of the trainable part of a base. TensorFlow.js differentiates a Keras
// block (convolution, BatchNormalization in inference mode as the Keras rule has it, ReLU6)
// op by op and keeps every intermediate tensor for the backward pass: the normalised
// activation, its shifted and scaled copies, relu's and clip's inputs. Here each block is one
// custom-gradient op that keeps only its input and the convolution's output, and computes the
// gradients of the kernel, bias, gamma and beta in closed form (the moving statistics are
// constants in inference mode). Results equal autodiff's; memory per block drops to two
// activations.
//
// What is a block: Conv2D or DepthwiseConv2D (channels last, 'same' or 'valid' padding, with
// or without bias, its own activation linear/relu/relu6/swish/sigmoid) -> optionally a
// BatchNormalization over the channels (with or without gamma and beta: Keras InceptionV3 has
// scale=False) -> optionally an activation (ReLU, ReLU6, Activation relu/relu6/swish/sigmoid/
// linear). A BatchNormalization over the last axis that no convolution absorbs (the cut fell
// between the two, or a pre-activation net such as DenseNet) is a block without convolution.
// Add of any number of inputs is a plain sum. Everything else runs as the layer itself, under
// ordinary autodiff, with two exceptions where TensorFlow.js's own layer has no gradient:
// BatchNormalization and LayerNormalization without gamma or without beta (its batchNorm
// kernel saves the absent scale for the backward pass and the tape walks the absent offset:
// "Cannot read properties of undefined (reading 'dataId')") run as the same arithmetic in
// plain ops. With `training` (scratch: BatchNorm learns its batch statistics) nothing is
// fused; only those normalisations run as plain ops, updating their moving statistics as
// TensorFlow.js's layer does.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';
import { activationOf, configOf, layerGraph, pair } from './layerGraph';
import { inLayer } from './stageError';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;
type LayerVariable = tfTypes.LayerVariable;

/** Activations a block computes (and differentiates) itself. */
export type BlockActivation = 'linear' | 'relu' | 'relu6' | 'swish' | 'sigmoid';
const BLOCK_ACTIVATIONS = new Set<string>(['linear', 'relu', 'relu6', 'swish', 'sigmoid']);

type ConvOp = (x: Tensor, w: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) => Tensor;
type NormOp = (x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) => Tensor;
interface ConvBlock {
  kind: 'conv-block';
  name: string;
  inputs: string[];
  conv: Layer;
  depthwise: boolean;
  bn: Layer | null;
  activation: BlockActivation;
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid';
  /** One custom-gradient op per block, made once. */
  op: ConvOp;
}
interface NormBlock {
  kind: 'bn-block';
  name: string;
  inputs: string[];
  bn: Layer;
  activation: BlockActivation;
  op: NormOp;
}
type Step =
  | ConvBlock
  | NormBlock
  | { kind: 'add'; name: string; inputs: string[] }
  | { kind: 'norm-ops'; name: string; inputs: string[]; layer: Layer }
  | { kind: 'layer'; name: string; inputs: string[]; layer: Layer };

export interface TrainingPlanOptions {
  /** BatchNorm in training mode (scratch): nothing is fused, layers run with training=true. */
  training?: boolean;
}

export interface TrainingPlan {
  /** The model's output for its inputs, differentiable with respect to the model's own variables. */
  apply(inputs: Tensor[]): Tensor;
  /** blocks: custom-gradient ops; normOps: normalisations run as plain ops; generic: layers run as themselves. */
  readonly stats: { blocks: number; generic: number; normOps: number; layers: number };
  dispose(): void;
}

/** The parts of a BatchNormalization or LayerNormalization layer (fields of TensorFlow.js's classes). */
interface NormParts {
  gamma: LayerVariable | null;
  beta: LayerVariable | null;
  movingMean?: LayerVariable;
  movingVariance?: LayerVariable;
  epsilon: number;
  momentum?: number;
  axis: number | number[];
}
const normParts = (l: Layer) => l as unknown as NormParts;
const isNormalization = (l: Layer) => l.getClassName() === 'BatchNormalization' || l.getClassName() === 'LayerNormalization';
/** TensorFlow.js's layer has no gradient (or, in training mode, no forward pass) without gamma or beta. */
const lacksScaleOrOffset = (l: Layer) => isNormalization(l) && (!normParts(l).gamma || !normParts(l).beta);
/** The rank of the layer's input, as its input spec (set when it was built) says. */
const inputRank = (l: Layer): number | undefined => (l.inputSpec?.[0]?.ndim ?? undefined) as number | undefined;

/** A BatchNormalization over the last axis (its reduction is over every other axis). */
function isLastAxisBatchNorm(l: Layer): boolean {
  if (l.getClassName() !== 'BatchNormalization') return false;
  const axis = normParts(l).axis;
  const a = Array.isArray(axis) ? (axis.length === 1 ? axis[0] : NaN) : axis;
  const rank = inputRank(l);
  return a === -1 || (rank !== undefined && a === rank - 1);
}

/** The layer as an activation a block applies, or undefined. */
function blockActivationOf(l: Layer): BlockActivation | undefined {
  const a = activationOf(l);
  if (a !== undefined) return a;
  if (l.getClassName() !== 'Activation') return undefined;
  const name = configOf(l).activation ?? '';
  return BLOCK_ACTIVATIONS.has(name) ? (name as BlockActivation) : undefined;
}

export function compileTrainingPlan(model: LayersModel, options: TrainingPlanOptions = {}): TrainingPlan {
  const t = tf();
  const training = options.training === true;
  const inputNames = model.inputLayers.map((l) => l.name);
  if (model.outputs.length !== 1) throw new Error(`the model has ${model.outputs.length} outputs; the training plan handles one`);
  const { byName, inputsOf, consumers } = layerGraph(model, (m) => new Error(m));
  const outputName = model.outputLayers[0].name;
  const onlyConsumer = (n: string) => (n !== outputName && consumers.get(n)?.length === 1 ? byName.get(consumers.get(n)![0]) : undefined);

  const owned: Tensor[] = [];
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  const rename = new Map<string, string>();
  const source = (n: string) => rename.get(n) ?? n;
  const stats = { blocks: 0, generic: 0, normOps: 0, layers: 0 };
  /** BatchNorm (if the next layer is one this block can take) and the activation after it. */
  const absorbTail = (from: string, withBatchNorm: boolean) => {
    let last = from;
    let bn: Layer | null = null;
    if (withBatchNorm) {
      const next = onlyConsumer(from);
      if (next && isLastAxisBatchNorm(next)) {
        bn = next;
        absorbed.add(bn.name);
        last = bn.name;
      }
    }
    const after = onlyConsumer(last);
    const activation = after ? blockActivationOf(after) : undefined;
    if (after && activation !== undefined) {
      absorbed.add(after.name);
      last = after.name;
    }
    return { bn, activation: activation ?? 'linear', last };
  };
  for (const layer of model.layers) {
    const name = layer.name;
    if (inputNames.includes(name) || absorbed.has(name)) continue;
    stats.layers++;
    const inputs = (inputsOf.get(name) ?? []).map(source);
    const kind = layer.getClassName();
    const c = configOf(layer) as ReturnType<typeof configOf> & { dataFormat?: string };
    const convActivation = c.activation ?? 'linear';
    if (
      !training &&
      (kind === 'Conv2D' || kind === 'DepthwiseConv2D') &&
      BLOCK_ACTIVATIONS.has(convActivation) &&
      (c.padding === 'same' || c.padding === 'valid') &&
      (c.dataFormat ?? 'channelsLast') === 'channelsLast'
    ) {
      // A convolution with its own activation ends the block there.
      const tail = convActivation === 'linear' ? absorbTail(name, true) : { bn: null, activation: convActivation as BlockActivation, last: name };
      const block: Omit<ConvBlock, 'op'> = {
        kind: 'conv-block',
        name: tail.last,
        inputs,
        conv: layer,
        depthwise: kind === 'DepthwiseConv2D',
        bn: tail.bn,
        activation: tail.activation,
        strides: pair(c.strides, 1),
        dilations: pair(c.dilationRate, 1),
        pad: c.padding as 'same' | 'valid',
      };
      steps.push({ ...block, op: convBlockOp(block, tail.bn ? normParts(tail.bn).epsilon ?? 1e-3 : 0) });
      for (const n of [name, tail.bn?.name, tail.last]) if (n) rename.set(n, tail.last);
      stats.blocks++;
      continue;
    }
    if (!training && isLastAxisBatchNorm(layer)) {
      const tail = absorbTail(name, false);
      const block: Omit<NormBlock, 'op'> = { kind: 'bn-block', name: tail.last, inputs, bn: layer, activation: tail.activation };
      steps.push({ ...block, op: normBlockOp(block.activation, normParts(layer).epsilon ?? 1e-3) });
      for (const n of [name, tail.last]) rename.set(n, tail.last);
      stats.blocks++;
      continue;
    }
    if (kind === 'Add' && inputs.length >= 2) {
      steps.push({ kind: 'add', name, inputs });
      continue;
    }
    if (lacksScaleOrOffset(layer)) {
      steps.push({ kind: 'norm-ops', name, inputs, layer });
      stats.normOps++;
      continue;
    }
    steps.push({ kind: 'layer', name, inputs, layer });
    stats.generic++;
  }
  const output = source(outputName);

  const constants = new Map<string, Tensor>();
  const constant = (key: string, channels: number, value: number) => {
    let found = constants.get(key);
    if (!found) {
      found = t.keep(t.fill([channels], value));
      constants.set(key, found);
      owned.push(found);
    }
    return found;
  };
  /** gamma, beta, mean, variance of a block's BatchNorm: the layer's own variables, constants where a part is absent. */
  const normParamsOf = (key: string, bn: Layer | null, channels: number): Tensor[] => {
    if (!bn) return [constant(`${key}/gamma`, channels, 1), constant(`${key}/beta`, channels, 0), constant(`${key}/mean`, channels, 0), constant(`${key}/variance`, channels, 1)];
    const p = normParts(bn);
    return [
      p.gamma ? p.gamma.read() : constant(`${key}/gamma`, channels, 1),
      p.beta ? p.beta.read() : constant(`${key}/beta`, channels, 0),
      p.movingMean!.read(),
      p.movingVariance!.read(),
    ];
  };
  /** The conv block's parameters as tensors. */
  const convParamsOf = (s: ConvBlock): Tensor[] => {
    const [kernel, bias] = s.conv.weights.map((w) => w.read());
    const channels = s.depthwise ? (kernel.shape[2] as number) * (kernel.shape[3] as number) : (kernel.shape[3] as number);
    const b = configOf(s.conv).useBias === false || !bias ? constant(`${s.name}/bias`, channels, 0) : bias;
    return [kernel, b, ...normParamsOf(s.name, s.bn, channels)];
  };

  return {
    stats,
    apply(inputs: Tensor[]): Tensor {
      const values = new Map<string, Tensor>(inputNames.map((n, i) => [n, inputs[i]]));
      let current: Step | undefined;
      try {
        for (const s of steps) {
          current = s;
          values.set(s.name, run(s, s.inputs.map((n) => values.get(n)!)));
        }
      } catch (e) {
        // A failure inside TensorFlow.js names the layer it happened in.
        throw current ? inLayer(e, ...layerOf(current)) : e;
      }
      // Intermediates are the caller's tidy's (the tape needs them until the backward pass).
      return values.get(output)!;
    },
    dispose() {
      t.dispose(owned);
    },
  };

  function run(s: Step, ins: Tensor[]): Tensor {
    switch (s.kind) {
      case 'conv-block': {
        const [w, b, gamma, beta, mean, variance] = convParamsOf(s);
        return s.op(ins[0], w, b, gamma, beta, mean, variance);
      }
      case 'bn-block': {
        const [gamma, beta, mean, variance] = normParamsOf(s.name, s.bn, ins[0].shape[ins[0].rank - 1] as number);
        return s.op(ins[0], gamma, beta, mean, variance);
      }
      case 'add':
        return ins.slice(1).reduce((sum, v) => t.add(sum, v), ins[0]);
      case 'norm-ops':
        return normalizeWithOps(s.layer, ins[0], training);
      default:
        return s.layer.apply(ins.length === 1 ? ins[0] : ins, { training }) as Tensor;
    }
  }
}

/** The layer a step is named for in messages (a block's convolution or BatchNorm) and its class. */
function layerOf(s: Step): [string, string] {
  const layer = s.kind === 'conv-block' ? s.conv : s.kind === 'bn-block' ? s.bn : s.kind === 'add' ? undefined : s.layer;
  return layer ? [layer.name, layer.getClassName()] : [s.name, 'Add'];
}

/**
 * BatchNormalization or LayerNormalization as plain, differentiable ops, with whichever of
 * gamma and beta the layer has: what TensorFlow.js's layer computes, minus its gradient bug.
 * In training mode a BatchNormalization normalises by the batch's moments and moves its
 * moving statistics towards them (momentum as configured), as the layer does.
 */
function normalizeWithOps(layer: Layer, x: Tensor, training: boolean): Tensor {
  const t = tf();
  const p = normParts(layer);
  const rank = x.rank;
  const axes = (Array.isArray(p.axis) ? p.axis : [p.axis]).map((a) => (a < 0 ? a + rank : a));
  const broadcast = Array.from({ length: rank }, (_, i) => (axes.includes(i) ? (x.shape[i] as number) : 1));
  const shaped = (v: LayerVariable) => t.reshape(v.read(), broadcast);
  let mean: Tensor;
  let variance: Tensor;
  if (layer.getClassName() === 'LayerNormalization') {
    // Moments over the normalised axes, per example.
    ({ mean, variance } = t.moments(x, axes, true));
  } else if (training) {
    const reduce = Array.from({ length: rank }, (_, i) => i).filter((i) => !axes.includes(i));
    ({ mean, variance } = t.moments(x, reduce, true));
    const momentum = p.momentum ?? 0.99;
    for (const [v, batch] of [
      [p.movingMean!, mean],
      [p.movingVariance!, variance],
    ] as const) {
      t.tidy(() => {
        const old = v.read();
        v.write(t.sub(old, t.mul(t.sub(old, t.reshape(batch, old.shape)), 1 - momentum)));
      });
    }
  } else {
    mean = shaped(p.movingMean!);
    variance = shaped(p.movingVariance!);
  }
  let y = t.mul(t.sub(x, mean), t.rsqrt(t.add(variance, p.epsilon ?? 1e-3)));
  if (p.gamma) y = t.mul(y, shaped(p.gamma));
  if (p.beta) y = t.add(y, shaped(p.beta));
  return y;
}

function activate(act: BlockActivation, pre: Tensor): Tensor {
  const t = tf();
  switch (act) {
    case 'relu':
      return t.relu(pre);
    case 'relu6':
      return t.relu6(pre);
    case 'swish':
      return t.mul(pre, t.sigmoid(pre));
    case 'sigmoid':
      return t.sigmoid(pre);
    default:
      return pre;
  }
}

/** dy * act'(pre). */
function activationGrad(act: BlockActivation, pre: Tensor, dy: Tensor): Tensor {
  const t = tf();
  switch (act) {
    case 'relu':
      return t.mul(dy, t.cast(t.greater(pre, 0), 'float32'));
    case 'relu6':
      return t.mul(dy, t.cast(t.logicalAnd(t.greater(pre, 0), t.less(pre, 6)), 'float32'));
    case 'swish': {
      // d/dx x*s(x) = s + x*s*(1-s)
      const s = t.sigmoid(pre);
      return t.mul(dy, t.mul(s, t.add(1, t.mul(pre, t.sub(1, s)))));
    }
    case 'sigmoid': {
      const s = t.sigmoid(pre);
      return t.mul(dy, t.mul(s, t.sub(1, s)));
    }
    default:
      return dy;
  }
}

/** With s = rsqrt(variance + eps), a = gamma * s, c = beta - mean * a (ones and zeros without BatchNorm). */
function affine(hasBatchNorm: boolean, epsilon: number, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) {
  const t = tf();
  const inv = hasBatchNorm ? t.rsqrt(t.add(variance, epsilon)) : t.onesLike(gamma);
  const a = t.mul(gamma, inv);
  return { inv, a, c: t.sub(beta, t.mul(mean, a)) };
}

/**
 * conv (+ bias) -> BatchNorm in inference mode -> activation, as one op with a closed-form
 * gradient. With s = rsqrt(variance + eps), a = gamma * s, c = beta - mean * a:
 *   z = conv(x, W) + b,  pre = z * a + c,  y = act(pre)
 *   dpre = dy * act'(pre),  dbeta = sum(dpre),  dgamma = sum(dpre * (z - mean)) * s,  dz = dpre * a,
 *   db = sum(dz),  dW = conv filter-gradient(x, dz),  dx = conv input-gradient(dz, W).
 * The moving statistics are constants (zero gradient); so are gamma, beta and the bias where
 * the layers have none (their gradients go to constants nobody reads). Saves x and z only.
 */
function convBlockOp(s: Omit<ConvBlock, 'op'>, epsilon: number): ConvOp {
  const t = tf();
  const engine = t.engine();
  const hasBn = s.bn !== null;
  const conv = (x: Tensor, w: Tensor) =>
    s.depthwise ? t.depthwiseConv2d(x as tfTypes.Tensor4D, w as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations) : t.conv2d(x as tfTypes.Tensor4D, w as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations);
  const op = t.customGrad(((...args: unknown[]) => {
    const [x, w, b, gamma, beta, mean, variance] = args as Tensor[];
    const save = args[7] as (ts: Tensor[]) => void;
    // tfjs runs this in a tidy: only y and the saved copies of x and z outlive it.
    const z = t.add(conv(x, w), b);
    const { a, c } = affine(hasBn, epsilon, gamma, beta, mean, variance);
    const y = activate(s.activation, hasBn ? t.add(t.mul(z, a), c) : z);
    save([x, z, w, gamma, beta, mean, variance]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sz, sw, sgamma, sbeta, smean, svariance] = saved;
        // tfjs runs a gradient function outside any tidy and keeps every dy and saved tensor
        // until the whole backward pass ends; here temporaries die with the tidy, and dy and
        // z (read by no other node) are freed as soon as this block's gradients exist.
        const grads = t.tidy(() => gradients(dy, sx, sz, sw, sgamma, sbeta, smean, svariance));
        dy.dispose();
        sz.dispose();
        return grads;
      },
    };
    function gradients(dy: Tensor, sx: Tensor, sz: Tensor, sw: Tensor, sgamma: Tensor, sbeta: Tensor, smean: Tensor, svariance: Tensor): Tensor[] {
      const { inv, a: sa, c: sc } = affine(hasBn, epsilon, sgamma, sbeta, smean, svariance);
      const dpre = activationGrad(s.activation, hasBn ? t.add(t.mul(sz, sa), sc) : sz, dy);
      const axes = [0, 1, 2];
      const dbeta = t.sum(dpre, axes);
      // d pre / d gamma = (z - mean) * s
      const dgamma = t.mul(t.sub(t.sum(t.mul(dpre, sz), axes), t.mul(smean, dbeta)), inv);
      const dz = hasBn ? t.mul(dpre, sa) : dpre;
      const db = t.sum(dz, axes);
      const attrs = { strides: s.strides, pad: s.pad, dataFormat: 'NHWC', dilations: s.dilations, dimRoundingMode: undefined };
      const dw = s.depthwise
        ? (engine.runKernel('DepthwiseConv2dNativeBackpropFilter', { x: sx, dy: dz }, { ...attrs, filterShape: sw.shape } as never) as Tensor)
        : (engine.runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, { ...attrs, filterShape: sw.shape } as never) as Tensor);
      const dx = s.depthwise
        ? (engine.runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dz, filter: sw }, { ...attrs, inputShape: sx.shape } as never) as Tensor)
        : (engine.runKernel('Conv2DBackpropInput', { dy: dz, filter: sw }, { ...attrs, inputShape: sx.shape } as never) as Tensor);
      return [dx, dw, db, hasBn ? dgamma : t.zerosLike(sgamma), hasBn ? dbeta : t.zerosLike(sbeta), t.zerosLike(smean), t.zerosLike(svariance)];
    }
  }) as never) as unknown as ConvOp;
  return op;
}

/**
 * BatchNorm over the last axis in inference mode -> activation, as one op: the block above
 * without its convolution (z = x). Saves x only.
 */
function normBlockOp(activation: BlockActivation, epsilon: number): NormOp {
  const t = tf();
  const op = t.customGrad(((...args: unknown[]) => {
    const [x, gamma, beta, mean, variance] = args as Tensor[];
    const save = args[5] as (ts: Tensor[]) => void;
    const { a, c } = affine(true, epsilon, gamma, beta, mean, variance);
    const y = activate(activation, t.add(t.mul(x, a), c));
    save([x, gamma, beta, mean, variance]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sgamma, sbeta, smean, svariance] = saved;
        const grads = t.tidy(() => {
          const { inv, a: sa, c: sc } = affine(true, epsilon, sgamma, sbeta, smean, svariance);
          const dpre = activationGrad(activation, t.add(t.mul(sx, sa), sc), dy);
          const axes = Array.from({ length: sx.rank - 1 }, (_, i) => i);
          const dbeta = t.sum(dpre, axes);
          const dgamma = t.mul(t.sub(t.sum(t.mul(dpre, sx), axes), t.mul(smean, dbeta)), inv);
          return [t.mul(dpre, sa), dgamma, dbeta, t.zerosLike(smean), t.zerosLike(svariance)];
        });
        dy.dispose();
        return grads;
      },
    };
  }) as never) as unknown as NormOp;
  return op;
}
