// The custom-gradient ops of lean fine-tuning (trainingPlan.ts): each keeps only what its
// closed-form gradient needs (its input, and a convolution's output), where TensorFlow.js's
// autodiff would keep every intermediate of the ops the layers are made of. Plus the plain-op
// normalisations TensorFlow.js's own layers cannot differentiate.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import { activate, activationGrad, type PlanActivation } from './activations';
import { nativeConv } from './nativeOps';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;
type LayerVariable = tfTypes.LayerVariable;

export type ConvOp = (x: Tensor, w: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) => Tensor;
export type NormOp = (x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) => Tensor;
export type LayerNormOp = (x: Tensor, gamma: Tensor, beta: Tensor) => Tensor;
export type ActivationOp = (x: Tensor) => Tensor;

export interface ConvShape {
  depthwise: boolean;
  hasBatchNorm: boolean;
  activation: PlanActivation;
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid';
}

/** BatchNorm in inference mode: one FusedBatchNorm kernel on a 4-D tensor, else x * a + c. */
function batchNormOf(x: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor, epsilon: number): Tensor {
  const t = tf();
  if (x.rank === 4) return t.batchNorm(x as tfTypes.Tensor4D, mean, variance, beta, gamma, epsilon);
  const { a, c } = affine(true, epsilon, gamma, beta, mean, variance);
  return t.add(t.mul(x, a), c);
}

/** With s = rsqrt(variance + eps), a = gamma * s, c = beta - mean * a (ones and zeros without BatchNorm). */
function affine(hasBatchNorm: boolean, epsilon: number, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) {
  const t = tf();
  const inv = hasBatchNorm ? t.rsqrt(t.add(variance, epsilon)) : t.onesLike(gamma);
  const a = t.mul(gamma, inv);
  return { inv, a, c: t.sub(beta, t.mul(mean, a)) };
}

/**
 * A custom-gradient op of `arity` inputs. `forward` computes the value (tfjs runs it in a tidy)
 * and saves what the gradient needs; `gradients` runs in a tidy of its own. tfjs runs a gradient
 * function outside any tidy and keeps every dy and saved tensor until the whole backward pass
 * ends; here temporaries die with the tidy, and dy and the saved tensors at `free` (read by no
 * other node) are freed as soon as this op's gradients exist.
 */
function leanOp<Op>(
  arity: number,
  forward: (ins: Tensor[], save: (ts: Tensor[]) => void) => Tensor,
  gradients: (dy: Tensor, saved: Tensor[]) => Tensor[],
  free: number[] = [],
): Op {
  const t = tf();
  return t.customGrad(((...args: unknown[]) => {
    const value = forward(args.slice(0, arity) as Tensor[], args[arity] as (ts: Tensor[]) => void);
    return {
      value,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const grads = t.tidy(() => gradients(dy, saved));
        dy.dispose();
        for (const i of free) saved[i].dispose();
        return grads;
      },
    };
  }) as never) as unknown as Op;
}

/**
 * conv (+ bias) -> BatchNorm in inference mode -> activation, as one op with a closed-form
 * gradient. With s = rsqrt(variance + eps), a = gamma * s, c = beta - mean * a:
 *   z = conv(x, W) + b,  pre = z * a + c,  y = act(pre)
 *   dpre = dy * act'(pre),  dbeta = sum(dpre),  dgamma = sum(dpre * (z - mean)) * s,  dz = dpre * a,
 *   db = sum(dz),  dW = conv filter-gradient(x, dz),  dx = conv input-gradient(dz, W).
 * The moving statistics are constants (zero gradient); so are gamma, beta and the bias where
 * the layers have none (their gradients go to constants nobody reads). Saves x and z only
 * (z is freed with dy).
 */
export function convBlockOp(s: ConvShape, epsilon: number): ConvOp {
  const t = tf();
  const engine = t.engine();
  const hasBn = s.hasBatchNorm;
  const conv = (x: Tensor, w: Tensor) =>
    s.depthwise
      ? t.depthwiseConv2d(x as tfTypes.Tensor4D, w as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations)
      : t.conv2d(x as tfTypes.Tensor4D, w as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations);
  // conv + bias as one native kernel where there is one; the BatchNorm as one FusedBatchNorm.
  const native = nativeConv({ depthwise: s.depthwise, strides: s.strides, dilations: s.dilations, pad: s.pad, act: 'linear', residual: false });
  const convBias = (x: Tensor, w: Tensor, b: Tensor) => (native ? native.run(x, w, b) : t.add(conv(x, w), b));
  const normalise = (z: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) =>
    hasBn ? batchNormOf(z, gamma, beta, mean, variance, epsilon) : z;
  const forward = ([x, w, b, gamma, beta, mean, variance]: Tensor[], save: (ts: Tensor[]) => void) => {
    const z = convBias(x, w, b);
    const y = activate(s.activation, normalise(z, gamma, beta, mean, variance));
    save([x, z, w, gamma, beta, mean, variance]);
    return y;
  };
  const gradients = (dy: Tensor, [sx, sz, sw, sgamma, sbeta, smean, svariance]: Tensor[]): Tensor[] => {
    const { inv, a: sa } = affine(hasBn, epsilon, sgamma, sbeta, smean, svariance);
    const dpre = s.activation === 'linear' ? dy : activationGrad(s.activation, normalise(sz, sgamma, sbeta, smean, svariance), dy);
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
  };
  return leanOp<ConvOp>(7, forward, gradients, [1]);
}

/**
 * BatchNorm over the last axis in inference mode -> activation, as one op: the block above
 * without its convolution (z = x). Saves x only.
 */
export function normBlockOp(activation: PlanActivation, epsilon: number): NormOp {
  const t = tf();
  return leanOp<NormOp>(
    5,
    ([x, gamma, beta, mean, variance], save) => {
      const y = activate(activation, batchNormOf(x, gamma, beta, mean, variance, epsilon));
      save([x, gamma, beta, mean, variance]);
      return y;
    },
    (dy, [sx, sgamma, sbeta, smean, svariance]) => {
      const { inv, a: sa } = affine(true, epsilon, sgamma, sbeta, smean, svariance);
      const dpre = activation === 'linear' ? dy : activationGrad(activation, batchNormOf(sx, sgamma, sbeta, smean, svariance, epsilon), dy);
      const axes = Array.from({ length: sx.rank - 1 }, (_, i) => i);
      const dbeta = t.sum(dpre, axes);
      const dgamma = t.mul(t.sub(t.sum(t.mul(dpre, sx), axes), t.mul(smean, dbeta)), inv);
      return [t.mul(dpre, sa), dgamma, dbeta, t.zerosLike(smean), t.zerosLike(svariance)];
    },
  );
}

/**
 * LayerNormalization over the last axis (ConvNeXt), as one op. With xhat = (x - mean) * inv,
 * inv = rsqrt(variance + eps) per position, g = dy * gamma:
 *   y = xhat * gamma + beta,  dbeta = sum(dy),  dgamma = sum(dy * xhat),
 *   dx = inv * (g - mean_c(g) - xhat * mean_c(g * xhat)).
 * Saves x only (xhat is recomputed).
 */
export function layerNormOp(epsilon: number): LayerNormOp {
  const t = tf();
  const normalise = (x: Tensor) => {
    const mean = t.mean(x, -1, true);
    const inv = t.rsqrt(t.add(t.mean(t.squaredDifference(x, mean), -1, true), epsilon));
    return { xhat: t.mul(t.sub(x, mean), inv), inv };
  };
  return leanOp<LayerNormOp>(
    3,
    ([x, gamma, beta], save) => {
      const y = t.add(t.mul(normalise(x).xhat, gamma), beta);
      save([x, gamma]);
      return y;
    },
    (dy, [sx, sgamma]) => {
      const { xhat, inv } = normalise(sx);
      const axes = Array.from({ length: sx.rank - 1 }, (_, i) => i);
      const g = t.mul(dy, sgamma);
      const dx = t.mul(inv, t.sub(t.sub(g, t.mean(g, -1, true)), t.mul(xhat, t.mean(t.mul(g, xhat), -1, true))));
      return [dx, t.sum(t.mul(dy, xhat), axes), t.sum(dy, axes)];
    },
  );
}

/** act(x) as one op that saves x only (swish, gelu, hard-swish: several ops under autodiff). */
export function activationOp(activation: PlanActivation): ActivationOp {
  return leanOp<ActivationOp>(
    1,
    ([x], save) => {
      save([x]);
      return activate(activation, x);
    },
    (dy, saved) => [activationGrad(activation, saved[0], dy)],
  );
}

/** The parts of a BatchNormalization or LayerNormalization layer (fields of TensorFlow.js's classes). */
export interface NormParts {
  gamma: LayerVariable | null;
  beta: LayerVariable | null;
  movingMean?: LayerVariable;
  movingVariance?: LayerVariable;
  epsilon: number;
  momentum?: number;
  axis: number | number[];
}
export const normParts = (l: Layer) => l as unknown as NormParts;

/**
 * BatchNormalization or LayerNormalization as plain, differentiable ops, with whichever of
 * gamma and beta the layer has: what TensorFlow.js's layer computes, minus its gradient bug.
 * In training mode a BatchNormalization normalises by the batch's moments and moves its
 * moving statistics towards them (momentum as configured), as the layer does.
 */
export function normalizeWithOps(layer: Layer, x: Tensor, training: boolean): Tensor {
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
