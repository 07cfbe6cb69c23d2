// How each inference-plan step computes its value from its inputs (in TensorFlow.js ops, or
// one native kernel where the backend has it). Called inside a tidy per step.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import { activate, TFJS_FUSED_ACTIVATIONS, type PlanActivation } from './activations';
import type { Step, StepOf, StepOp } from './inferenceNodes';
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

type Runner<K extends StepOp['op']> = (s: StepOf<K>, ins: Tensor[], native?: NativeConv) => Tensor;

const runConv: Runner<'conv'> = (s, ins, native) => {
  const t = tf();
  const x = ins[0];
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
};

const runDense: Runner<'dense'> = (s, [x]) => {
  const t = tf();
  const [inside, after] = splitActivation(s.act, TFJS_FUSED_ACTIVATIONS);
  const cin = s.kernel.shape[0] as number;
  const flat = t.reshape(x, [-1, cin]) as tfTypes.Tensor2D;
  const y = t.fused.matMul({ a: flat, b: s.kernel as tfTypes.Tensor2D, bias: s.bias ?? undefined, activation: inside as 'relu' });
  return activate(after, t.reshape(y, [...x.shape.slice(0, -1), s.kernel.shape[1] as number]));
};

const runAffine: Runner<'affine'> = (s, [x]) => {
  const t = tf();
  let y = x;
  if (s.scale) y = t.mul(y, s.scale);
  if (s.shift) y = t.add(y, s.shift);
  return activate(s.act, y === x ? x.clone() : y);
};

const runAdd: Runner<'add'> = (s, ins) => {
  const t = tf();
  const x = ins[0];
  const sameShape = ins.every((v) => v.shape.length === x.shape.length && v.shape.every((d, i) => d === x.shape[i]));
  const sum = ins.length === 2 ? t.add(ins[0], ins[1]) : sameShape ? t.addN(ins) : ins.slice(1).reduce((a, b) => t.add(a, b), x);
  return activate(s.act, sum);
};

const runPad: Runner<'pad'> = (s, [x]) => {
  const [[top, bottom], [left, right]] = s.paddings;
  return tf().pad(x, [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ]);
};

const runCrop: Runner<'crop'> = (s, [x]) => {
  const [[top, bottom], [left, right]] = s.cropping;
  const [, h, w] = x.shape as number[];
  return tf().slice(x, [0, top, left, 0], [-1, h - top - bottom, w - left - right, -1]);
};

const runNormalize: Runner<'normalize'> = (s, [x]) => {
  const t = tf();
  const mean = t.mean(x, -1, true);
  const variance = t.mean(t.squaredDifference(x, mean), -1, true);
  return t.mul(t.sub(x, mean), t.rsqrt(t.add(variance, s.epsilon)));
};

/** How each kind of step computes its value. */
const RUNNERS: { [K in StepOp['op']]: Runner<K> } = {
  conv: runConv,
  dense: runDense,
  affine: runAffine,
  act: (s, [x]) => (s.act === 'linear' ? x.clone() : activate(s.act, x)),
  add: runAdd,
  mul: (_s, ins) => ins.slice(1).reduce((a, b) => tf().mul(a, b), ins[0]),
  concat: (s, ins) => tf().concat(ins, s.axis),
  pool: (s, [x]) => (s.kind === 'max' ? tf().maxPool(x as Tensor4D, s.size, s.strides, s.pad) : tf().avgPool(x as Tensor4D, s.size, s.strides, s.pad)),
  reduce: (s, [x]) => (s.kind === 'max' ? tf().max(x, s.axes, s.keepDims) : tf().mean(x, s.axes, s.keepDims)),
  pad: runPad,
  crop: runCrop,
  reshape: (s, [x]) => tf().reshape(x, [x.shape[0], ...s.shape]),
  normalize: runNormalize,
  clip: (s, [x]) => tf().clipByValue(x, s.min, s.max),
  leakyRelu: (s, [x]) => tf().leakyRelu(x, s.alpha),
  softmax: (_s, [x]) => tf().softmax(x),
  layer: (s, ins) => s.layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as Tensor,
};

/** The step's value; `native`: its conv kernel (nativeConvFor), if any. */
export function runStep(s: Step, ins: Tensor[], native?: NativeConv): Tensor {
  // The table's type pairs each op with its runner; TypeScript cannot follow that through s.op.
  return (RUNNERS[s.op] as Runner<StepOp['op']>)(s, ins, native);
}
