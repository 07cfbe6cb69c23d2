// How each inference-plan step computes its value from its inputs (in TensorFlow.js ops, or
// one native kernel where the backend has it). Called inside a tidy per step.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import { activate, TFJS_FUSED_ACTIVATIONS, type PlanActivation } from './activations';
import type { Step } from './inferenceNodes';
import { nativeConv, type NativeConv } from './nativeOps';

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;

/** The native kernel for a conv step (bias needed), or undefined: tf.fused ops then. */
export function nativeConvFor(s: Step): NativeConv | undefined {
  if (s.op !== 'conv' || !s.bias) return undefined;
  return nativeConv({ depthwise: s.depthwise, strides: s.strides, dilations: s.dilations, pad: s.pad, act: s.act, residual: s.residual === true });
}

/** The activation a fused op can apply itself, and what is left to apply after it. */
function splitActivation(act: PlanActivation, fusable: ReadonlySet<PlanActivation>): [PlanActivation, PlanActivation] {
  return fusable.has(act) ? [act, 'linear'] : ['linear', act];
}

/** The step's value; `native`: its conv kernel (nativeConvFor), if any. */
export function runStep(s: Step, ins: Tensor[], native?: NativeConv): Tensor {
  const t = tf();
  const x = ins[0];
  switch (s.op) {
    case 'conv': {
      const residual = s.residual ? ins[1] : undefined;
      let y: Tensor;
      let after: PlanActivation;
      let residualAfter = residual !== undefined;
      if (native) {
        y = native.run(x, s.filter, s.bias!, residual);
        ({ after, residualAfter } = native);
      } else {
        // The activation waits for the residual.
        const [inside, rest] = residual ? (['linear', s.act] as const) : splitActivation(s.act, TFJS_FUSED_ACTIVATIONS);
        const args = {
          x: x as Tensor4D,
          filter: s.filter as Tensor4D,
          strides: s.strides,
          pad: s.pad as 'same',
          dilations: s.dilations,
          bias: s.bias ?? undefined,
          activation: inside as 'relu',
        };
        y = s.depthwise ? t.fused.depthwiseConv2d(args) : t.fused.conv2d(args);
        after = rest;
      }
      if (residualAfter) y = t.add(y, residual!);
      return activate(after, y);
    }
    case 'dense': {
      const [inside, after] = splitActivation(s.act, TFJS_FUSED_ACTIVATIONS);
      const cin = s.kernel.shape[0] as number;
      const flat = t.reshape(x, [-1, cin]) as tfTypes.Tensor2D;
      const y = t.fused.matMul({ a: flat, b: s.kernel as tfTypes.Tensor2D, bias: s.bias ?? undefined, activation: inside as 'relu' });
      return activate(after, t.reshape(y, [...x.shape.slice(0, -1), s.kernel.shape[1] as number]));
    }
    case 'affine': {
      let y = x;
      if (s.scale) y = t.mul(y, s.scale);
      if (s.shift) y = t.add(y, s.shift);
      return activate(s.act, y === x ? x.clone() : y);
    }
    case 'act':
      return s.act === 'linear' ? x.clone() : activate(s.act, x);
    case 'add': {
      const sameShape = ins.every((v) => v.shape.length === x.shape.length && v.shape.every((d, i) => d === x.shape[i]));
      const sum = ins.length === 2 ? t.add(ins[0], ins[1]) : sameShape ? t.addN(ins) : ins.slice(1).reduce((a, b) => t.add(a, b), x);
      return activate(s.act, sum);
    }
    case 'mul':
      return ins.slice(1).reduce((a, b) => t.mul(a, b), x);
    case 'concat':
      return t.concat(ins, s.axis);
    case 'pool':
      return s.kind === 'max' ? t.maxPool(x as Tensor4D, s.size, s.strides, s.pad) : t.avgPool(x as Tensor4D, s.size, s.strides, s.pad);
    case 'reduce':
      return s.kind === 'max' ? t.max(x, s.axes, s.keepDims) : t.mean(x, s.axes, s.keepDims);
    case 'pad': {
      const [[top, bottom], [left, right]] = s.paddings;
      return t.pad(x, [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ]);
    }
    case 'crop': {
      const [[top, bottom], [left, right]] = s.cropping;
      const [, h, w] = x.shape as number[];
      return t.slice(x, [0, top, left, 0], [-1, h - top - bottom, w - left - right, -1]);
    }
    case 'reshape':
      return t.reshape(x, [x.shape[0], ...s.shape]);
    case 'normalize': {
      const mean = t.mean(x, -1, true);
      const variance = t.mean(t.squaredDifference(x, mean), -1, true);
      return t.mul(t.sub(x, mean), t.rsqrt(t.add(variance, s.epsilon)));
    }
    case 'clip':
      return t.clipByValue(x, s.min, s.max);
    case 'leakyRelu':
      return t.leakyRelu(x, s.alpha);
    case 'softmax':
      return t.softmax(x);
    case 'layer':
      return s.layer.apply(ins.length === 1 ? x : ins, { training: false }) as Tensor;
  }
}
