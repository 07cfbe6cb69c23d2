// TensorFlow's fused convolution kernels, called by name on the native (tensorflow) backend:
// what Keras's graph optimizer turns conv + BiasAdd (+ residual Add) + activation into.
// tfjs-node's own tf.fused.conv2d runs three kernels (conv, add, activation); these run one.
//
//   oneDNN (TensorFlow's default on x86, when backend.ts lets it on):
//     _MklNativeFusedConv2D             BiasAdd [Add] [Relu | Relu6 | Elu | _MklSwish | _FusedHardSwish]
//     _MklNativeFusedDepthwiseConv2dNative  BiasAdd [Relu | Relu6 | Elu | _FusedHardSwish] ('same'/'valid' only)
//   Eigen (oneDNN off):
//     _FusedConv2D                      BiasAdd [Relu | Relu6 | Elu]
//
// Each combination of fused ops is tried once on a tiny input against the same arithmetic in
// TensorFlow.js ops; what fails or differs is not used (the plan then runs tf.fused ops and
// applies the rest itself). Needs a binding that passes list attributes (the offline build
// adds that: scripts/setup-native.mjs step 3b).
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import { oneDnnDecision } from '../backend';
import { activate, type PlanActivation } from './activations';

type Tensor = tfTypes.Tensor;
export type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface NativeBackend {
  binding: Record<string, number>;
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: Tensor[]): Tensor;
}

export interface ConvSpec {
  depthwise: boolean;
  strides: [number, number];
  dilations: [number, number];
  pad: Padding;
  /** The activation after BiasAdd (and the residual Add). */
  act: PlanActivation;
  /** Whether a residual tensor is added before the activation. */
  residual: boolean;
}

export interface NativeConv {
  /** The kernel's name, for logs and tests. */
  kernel: string;
  /** conv(x, filter) + bias [+ residual] [then the activation the kernel applies]. */
  run(x: Tensor, filter: Tensor, bias: Tensor, residual?: Tensor): Tensor;
  /** Left to apply after the kernel: the residual (when the kernel cannot add it) and then this activation. */
  residualAfter: boolean;
  after: PlanActivation;
}

type Family = 'onednn-conv' | 'onednn-depthwise' | 'eigen-conv';
const OP: Record<Family, string> = {
  'onednn-conv': '_MklNativeFusedConv2D',
  'onednn-depthwise': '_MklNativeFusedDepthwiseConv2dNative',
  'eigen-conv': '_FusedConv2D',
};
const ACTS: Record<Family, Partial<Record<PlanActivation, string>>> = {
  'onednn-conv': { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', swish: '_MklSwish', hardSwish: '_FusedHardSwish' },
  'onednn-depthwise': { relu: 'Relu', relu6: 'Relu6', elu: 'Elu', hardSwish: '_FusedHardSwish' },
  'eigen-conv': { relu: 'Relu', relu6: 'Relu6', elu: 'Elu' },
};

interface Probed {
  backend: string;
  /** TF_ENABLE_ONEDNN_OPTS when probed (tests switch oneDNN's kernels off by it). */
  oneDnnSetting: string | undefined;
  native: NativeBackend | undefined;
  oneDnn: boolean;
  /** fused-op combination -> whether it works (tried once). */
  works: Map<string, boolean>;
}
let probed: Probed | undefined;

function state(): Probed {
  const t = tf();
  if (probed?.backend === t.getBackend() && probed.oneDnnSetting === process.env.TF_ENABLE_ONEDNN_OPTS) return probed;
  const backend = t.backend() as unknown as Partial<NativeBackend>;
  const native =
    t.getBackend() === 'tensorflow' && typeof backend.executeSingleOutput === 'function' && backend.binding ? (backend as NativeBackend) : undefined;
  // oneDNN's kernels only where TensorFlow itself may use them (backend.ts switches them off
  // on CPUs where they crash).
  probed = {
    backend: t.getBackend(),
    oneDnnSetting: process.env.TF_ENABLE_ONEDNN_OPTS,
    native,
    oneDnn: native !== undefined && oneDnnDecision(process.env).enabled,
    works: new Map(),
  };
  return probed;
}

function execute(
  b: NativeBackend,
  family: Family,
  fusedOps: string[],
  x: Tensor,
  filter: Tensor,
  args: Tensor[],
  s: Pick<ConvSpec, 'strides' | 'dilations' | 'pad'>,
): Tensor {
  const n = b.binding;
  const explicit = Array.isArray(s.pad);
  const attrs: { name: string; type: number; value: unknown }[] = [
    { name: 'T', type: n.TF_ATTR_TYPE, value: n.TF_FLOAT },
    { name: 'num_args', type: n.TF_ATTR_INT, value: args.length },
    { name: 'strides', type: n.TF_ATTR_INT, value: [1, s.strides[0], s.strides[1], 1] },
    { name: 'padding', type: n.TF_ATTR_STRING, value: explicit ? 'EXPLICIT' : (s.pad as string).toUpperCase() },
    { name: 'data_format', type: n.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: n.TF_ATTR_INT, value: [1, s.dilations[0], s.dilations[1], 1] },
    { name: 'fused_ops', type: n.TF_ATTR_STRING, value: fusedOps },
  ];
  if (family !== 'onednn-depthwise') {
    attrs.push(
      { name: 'TArgs', type: n.TF_ATTR_TYPE, value: args.map(() => n.TF_FLOAT) },
      { name: 'num_host_args', type: n.TF_ATTR_INT, value: 0 },
      { name: 'explicit_paddings', type: n.TF_ATTR_INT, value: explicit ? (s.pad as number[][]).flat() : [] },
    );
  }
  // oneDNN's kernels for these ops are registered under this label.
  if (family !== 'eigen-conv') attrs.push({ name: '_kernel', type: n.TF_ATTR_STRING, value: 'MklNameChangeOp' });
  return b.executeSingleOutput(OP[family], attrs, [x, filter, ...args]);
}

/** Whether `family` with these fused ops (and explicit padding or not) gives what TensorFlow.js ops give. */
function works(p: Probed, family: Family, fusedOps: string[], act: PlanActivation, residual: boolean, explicit: boolean): boolean {
  const key = `${family}|${fusedOps.join(',')}|${explicit}`;
  const known = p.works.get(key);
  if (known !== undefined) return known;
  const t = tf();
  let ok = false;
  try {
    ok = t.tidy(() => {
      // Values on both sides of every activation's kinks; a 1x1 filter so the numbers are exact.
      const x = t.tensor4d([-5, -2.5, -1, -0.2, 0, 0.3, 1.5, 2.9, 4, 7, -3.2, 6.4, 0.7, -0.9, 2.2, 9, -7, 3.3], [1, 3, 3, 2]);
      const depthwise = family === 'onednn-depthwise';
      const filter = depthwise ? t.tensor4d([1, 0.5], [1, 1, 2, 1]) : t.tensor4d([1, 0.5, -0.25, 1], [1, 1, 2, 2]);
      const bias = t.tensor1d([0.25, -0.5]);
      const pad: Padding = explicit
        ? [
            [0, 0],
            [1, 0],
            [0, 1],
            [0, 0],
          ]
        : 'valid';
      const conv = depthwise ? t.depthwiseConv2d(x, filter as tfTypes.Tensor4D, 1, pad as 'valid') : t.conv2d(x, filter as tfTypes.Tensor4D, 1, pad as 'valid');
      const res = residual ? t.randomNormal(conv.shape, 0, 2, 'float32', 1) : undefined;
      let expected = t.add(conv, bias);
      if (res) expected = t.add(expected, res);
      expected = activate(act, expected);
      const y = execute(p.native!, family, fusedOps, x, filter, res ? [bias, res] : [bias], { strides: [1, 1], dilations: [1, 1], pad });
      return y.shape.join() === expected.shape.join() && t.max(t.abs(t.sub(y, expected))).dataSync()[0] <= 1e-5 * (1 + t.max(t.abs(expected)).dataSync()[0]);
    });
  } catch {
    // not registered, not this fusion, or a binding without list attributes ("Argument is not a string!")
  }
  p.works.set(key, ok);
  return ok;
}

/**
 * The fewest-kernel native way to run this convolution with a bias, or undefined (then
 * tf.fused ops). Dilated convolutions stay with TensorFlow.js's ops.
 */
export function nativeConv(spec: ConvSpec): NativeConv | undefined {
  const p = state();
  if (!p.native || spec.dilations.some((d) => d !== 1)) return undefined;
  const b = p.native;
  const explicit = Array.isArray(spec.pad);
  const families: Family[] = spec.depthwise ? (p.oneDnn && !explicit ? ['onednn-depthwise'] : []) : p.oneDnn ? ['onednn-conv', 'eigen-conv'] : ['eigen-conv'];
  for (const family of families) {
    const actName = ACTS[family][spec.act];
    // Most fused first: BiasAdd [+ Add] + activation, then BiasAdd [+ Add], then BiasAdd alone
    // (the residual and the activation applied after it).
    const fusedAdd = spec.residual && family === 'onednn-conv';
    const base = ['BiasAdd', ...(fusedAdd ? ['Add'] : [])];
    const tries: { ops: string[]; residualAfter: boolean; after: PlanActivation }[] = [];
    if (actName && (fusedAdd || !spec.residual)) tries.push({ ops: [...base, actName], residualAfter: false, after: 'linear' });
    tries.push({ ops: base, residualAfter: spec.residual && !fusedAdd, after: spec.act });
    if (fusedAdd) tries.push({ ops: ['BiasAdd'], residualAfter: true, after: spec.act });
    for (const attempt of tries) {
      const actInside = attempt.after === 'linear' ? spec.act : 'linear';
      if (!works(p, family, attempt.ops, actInside, spec.residual && !attempt.residualAfter, explicit)) continue;
      const withResidual = spec.residual && !attempt.residualAfter;
      return {
        kernel: `${OP[family]}(${attempt.ops.join('+')})`,
        residualAfter: attempt.residualAfter,
        after: attempt.after,
        run: (x, filter, bias, residual) => execute(b, family, attempt.ops, x, filter, withResidual ? [bias, residual!] : [bias], spec),
      };
    }
  }
  return undefined;
}
