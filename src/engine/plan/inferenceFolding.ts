// The folding passes of the inference plan: a step merges into the one step that reads it,
// where the two are one computation with other constants. All exact but for float rounding:
//
//   ZeroPadding2D -> conv 'valid'          the conv's explicit padding
//   conv / Dense -> affine                 conv(x, W * s) + (b * s + t)   (BatchNorm after a conv,
//                                          LayerScale after ConvNeXt's pointwise Dense, Rescaling)
//   affine -> affine                       one affine
//   affine -> conv / Dense                 conv(x * s + t, W) = conv(x, W * s) + sum(W * t), which
//                                          holds only where the conv adds no padding (a 'same' conv
//                                          pads the *normalised* input with zeros, and x * s + t
//                                          padded with zeros is not x padded with zeros, scaled
//                                          and shifted: the border outputs would differ). So: a
//                                          'valid' or 1x1 conv, or an affine without shift (zeros
//                                          scale to zeros). LayerNormalization's gamma and beta
//                                          go into ConvNeXt's first pointwise Dense this way.
//   conv / Dense / affine / Add -> activation   the activation runs as part of the step
//   conv -> Add(that, other)               the conv adds `other` before its activation (one
//                                          oneDNN kernel: ResNet's last conv of a block)
//
// Then a convolution with gelu (ConvNeXt's first pointwise Dense) computes z / sqrt 2 instead
// (its weights scaled), applies x * (1 + erf(x)) (three ops instead of five over the widest
// tensor of the block), and the remaining factor 1 / sqrt 2, a scale without shift, folds
// into the next convolution (or runs as one multiplication where none can take it).
//
// The producer must have no other reader and must not be the plan's output.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { Step, StepOf } from './inferenceNodes';

type Tensor = tfTypes.Tensor;

export interface FoldCounts {
  /** BatchNormalization layers folded into a convolution (before or after it). */
  folded: number;
  paddingsMerged: number;
}

/** Merges steps in place of `steps` (in topological order); `keep`: values that must exist. */
export function foldSteps(input: Step[], keep: ReadonlySet<string>): { steps: Step[]; counts: FoldCounts } {
  const counts: FoldCounts = { folded: 0, paddingsMerged: 0 };
  const steps = mergeAll(prescaleGelu(mergeAll(input, keep, counts)), keep, counts);
  return { steps, counts };
}

function mergeAll(input: Step[], keep: ReadonlySet<string>, counts: FoldCounts): Step[] {
  let steps = input;
  let readers = new Map<string, Step[]>();
  const index = () => {
    readers = new Map();
    for (const s of steps) for (const i of s.inputs) readers.set(i, [...(readers.get(i) ?? []), s]);
  };
  /** The one step reading `name` (through one input), or undefined. */
  const onlyReader = (name: string): Step | undefined => {
    if (keep.has(name)) return undefined;
    const r = readers.get(name) ?? [];
    return r.length === 1 ? r[0] : undefined;
  };
  index();
  for (let changed = true; changed;) {
    changed = false;
    for (const producer of [...steps]) {
      if (!steps.includes(producer)) continue;
      const consumer = onlyReader(producer.name);
      if (!consumer) continue;
      const merged = mergePair(producer, consumer, counts);
      if (!merged) continue;
      steps = steps.filter((s) => s !== producer).map((s) => (s === consumer ? merged : s));
      index();
      changed = true;
    }
  }
  return steps;
}

/** gelu(z) = (1 / sqrt 2) * z' (1 + erf(z')) with z' = z / sqrt 2, the factors in the weights around it. */
function prescaleGelu(steps: Step[]): Step[] {
  const t = tf();
  return steps.flatMap((s): Step[] => {
    if ((s.op !== 'conv' && s.op !== 'dense') || s.act !== 'gelu' || !s.bias || (s.op === 'conv' && s.residual)) return [s];
    const inner = `${s.name}/gelu`;
    const scaled = (w: Tensor) => t.mul(w, Math.SQRT1_2);
    const conv: Step =
      s.op === 'conv'
        ? { ...s, name: inner, filter: scaled(s.filter), bias: scaled(s.bias), act: 'geluPrescaled' }
        : { ...s, name: inner, kernel: scaled(s.kernel), bias: scaled(s.bias), act: 'geluPrescaled' };
    return [
      conv,
      { name: s.name, inputs: [inner], covers: [], head: s.head, op: 'affine', scale: t.scalar(Math.SQRT1_2), shift: null, act: 'linear', batchNorms: 0 },
    ];
  });
}

/** The two steps as one (named and placed as the consumer), or undefined. */
function mergePair(p: Step, q: Step, counts: FoldCounts): Step | undefined {
  const joined = { name: q.name, covers: [...p.covers, ...q.covers], head: p.head };
  if (
    p.op === 'conv' &&
    !p.depthwise &&
    !p.residual &&
    p.bias &&
    p.act === 'linear' &&
    q.op === 'add' &&
    q.inputs.length === 2 &&
    q.inputs.filter((i) => i === p.name).length === 1
  ) {
    const other = q.inputs.find((i) => i !== p.name)!;
    return { ...p, ...joined, inputs: [...p.inputs, other], residual: true, act: q.act };
  }
  // Every other merge reads the producer only (a residual conv: through its main input).
  const residualConv = q.op === 'conv' && q.residual === true && q.inputs[0] === p.name && q.inputs[1] !== p.name;
  if (q.inputs.length !== 1 && !residualConv) return undefined;
  const intoConvInputs = residualConv ? [...p.inputs, q.inputs[1]] : p.inputs;
  if (p.op === 'pad' && q.op === 'conv' && q.pad === 'valid') {
    counts.paddingsMerged++;
    const [[top, bottom], [left, right]] = p.paddings;
    return {
      ...q,
      ...joined,
      inputs: intoConvInputs,
      pad: samePadding(q, p.paddings)
        ? 'same'
        : [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ],
    };
  }
  if ((p.op === 'conv' || p.op === 'dense') && p.act === 'linear' && !(p.op === 'conv' && p.residual) && q.op === 'affine') {
    const outChannels =
      p.op === 'conv'
        ? p.depthwise
          ? (p.filter.shape[2] as number) * (p.filter.shape[3] as number)
          : (p.filter.shape[3] as number)
        : (p.kernel.shape[1] as number);
    if (!fitsChannels(q, outChannels)) return undefined;
    counts.folded += q.batchNorms;
    return { ...p, ...foldAffineAfter(p, q), ...joined, inputs: p.inputs, act: q.act } as Step;
  }
  if (p.op === 'affine' && p.act === 'linear' && q.op === 'affine') {
    return { ...q, ...joined, inputs: p.inputs, ...composeAffine(p, q), batchNorms: p.batchNorms + q.batchNorms };
  }
  if (p.op === 'affine' && p.act === 'linear' && (q.op === 'conv' || q.op === 'dense')) {
    const inChannels = q.op === 'conv' ? (q.filter.shape[2] as number) : (q.kernel.shape[0] as number);
    if (!fitsChannels(p, inChannels) || (q.op === 'conv' && p.shift && addsPadding(q))) return undefined;
    counts.folded += p.batchNorms;
    return { ...q, ...foldAffineBefore(p, q), ...joined, inputs: q.op === 'conv' ? intoConvInputs : p.inputs } as Step;
  }
  if ((p.op === 'conv' || p.op === 'dense' || p.op === 'affine' || p.op === 'add') && p.act === 'linear' && q.op === 'act') {
    return { ...p, ...joined, act: q.act };
  }
  return undefined;
}

/** The affine's scale and shift are scalars or one value per channel of this many. */
function fitsChannels(a: StepOf<'affine'>, channels: number): boolean {
  return [a.scale, a.shift].every((v) => !v || v.rank === 0 || (v.rank === 1 && v.shape[0] === channels));
}

/**
 * Whether zero padding `paddings` then a 'valid' conv is exactly the conv with 'same' padding
 * (Keras's ZeroPadding2D before a stride-2 conv usually is, on even sizes): oneDNN's depthwise
 * kernel takes 'same' but not explicit padding.
 */
function samePadding(c: StepOf<'conv'>, paddings: [[number, number], [number, number]]): boolean {
  if (!c.inputSize) return false;
  return [0, 1].every((d) => {
    const padded = c.inputSize![d];
    const size = padded - paddings[d][0] - paddings[d][1];
    const k = ((c.filter.shape[d] as number) - 1) * c.dilations[d] + 1;
    const s = c.strides[d];
    const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
    return paddings[d][0] === Math.floor(total / 2) && paddings[d][1] === total - Math.floor(total / 2);
  });
}

/** Whether the convolution pads its input with zeros anywhere ('same' with a kernel wider than 1, or explicit padding). */
function addsPadding(c: StepOf<'conv'>): boolean {
  if (Array.isArray(c.pad)) return c.pad.flat().some((v) => v !== 0);
  if (c.pad === 'valid') return false;
  const [kh, kw] = c.filter.shape as number[];
  return (kh - 1) * c.dilations[0] > 0 || (kw - 1) * c.dilations[1] > 0;
}

/** conv/Dense then x * s + t: W * s per output channel, b * s + t. */
function foldAffineAfter(p: StepOf<'conv'> | StepOf<'dense'>, q: StepOf<'affine'>): Partial<StepOf<'conv'>> | Partial<StepOf<'dense'>> {
  const t = tf();
  const w = p.op === 'conv' ? p.filter : p.kernel;
  let scaleShape: number[];
  if (p.op === 'dense') scaleShape = [1, w.shape[1] as number];
  else if (p.depthwise) scaleShape = [1, 1, w.shape[2] as number, w.shape[3] as number];
  else scaleShape = [1, 1, 1, w.shape[3] as number];
  const s = q.scale;
  const newW = s ? t.mul(w, s.rank === 0 ? s : t.reshape(s, scaleShape)) : w;
  let bias: Tensor | null = p.bias;
  if (bias && s) bias = t.mul(bias, s);
  if (q.shift) bias = bias ? t.add(bias, q.shift) : q.shift;
  if (bias && bias.rank === 0) bias = t.mul(t.ones([scaleShape.reduce((a, b) => a * b, 1)]), bias);
  return p.op === 'conv' ? { filter: newW, bias } : { kernel: newW, bias };
}

/** x * s + t then conv/Dense: W * s per input channel, b + sum(W * t). */
function foldAffineBefore(p: StepOf<'affine'>, q: StepOf<'conv'> | StepOf<'dense'>): Partial<StepOf<'conv'>> | Partial<StepOf<'dense'>> {
  const t = tf();
  const w = q.op === 'conv' ? q.filter : q.kernel;
  const inShape = q.op === 'conv' ? [1, 1, w.shape[2] as number, 1] : [w.shape[0] as number, 1];
  const perInput = (v: Tensor) => (v.rank === 0 ? v : t.reshape(v, inShape));
  const newW = p.scale ? t.mul(w, perInput(p.scale)) : w;
  let bias = q.bias;
  if (p.shift) {
    const shifted = t.mul(w, perInput(p.shift));
    // The shift's contribution to each output channel.
    const extra = q.op === 'dense' ? t.sum(shifted, 0) : q.depthwise ? t.reshape(t.sum(shifted, [0, 1]), [-1]) : t.sum(shifted, [0, 1, 2]);
    bias = bias ? t.add(bias, extra) : extra;
  }
  return q.op === 'conv' ? { filter: newW, bias } : { kernel: newW, bias };
}

/** (x * s1 + t1) * s2 + t2 = x * (s1 s2) + (t1 s2 + t2). */
function composeAffine(a: StepOf<'affine'>, b: StepOf<'affine'>): { scale: Tensor | null; shift: Tensor | null } {
  const t = tf();
  const scale = a.scale && b.scale ? t.mul(a.scale, b.scale) : (a.scale ?? b.scale);
  let shift = a.shift ? (b.scale ? t.mul(a.shift, b.scale) : a.shift) : null;
  if (b.shift) shift = shift ? t.add(shift, b.shift) : b.shift;
  return { scale, shift };
}
