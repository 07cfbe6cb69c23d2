// An inference-only plan for the frozen part of a network. A Keras-style layers model runs a
// convolution, then BatchNormalization as seven small ops (three passes over the activation),
// then ReLU6 as relu + clip (two more). Frozen, all of that is one affine map and a clamp:
// BatchNorm is folded into the convolution's weights and bias once, ZeroPadding2D goes into
// the convolution's explicit padding, and each convolution runs as one fused op (conv + bias
// + activation) where the backend has one. Tensors are freed as soon as their last consumer
// has run, so memory does not grow with depth. Anything the plan does not know runs as the
// layer itself (in inference mode), so the plan is always correct and usually faster.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';
import { activationOf, configOf, isChannelBatchNorm, layerGraph, pair, type Activation } from './layerGraph';
import { inLayer } from './stageError';

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;
type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;
type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

export class InferencePlanError extends Error {}

type Step =
  | { kind: 'conv'; name: string; inputs: string[]; depthwise: boolean; filter: Tensor; bias: Tensor | null; strides: [number, number]; dilations: [number, number]; pad: Padding; activation: Activation }
  | { kind: 'add'; name: string; inputs: string[] }
  | { kind: 'activation'; name: string; inputs: string[]; activation: Activation }
  | { kind: 'layer'; name: string; inputs: string[]; layer: Layer };

export interface InferencePlan {
  /** Output of the planned layer for a batch of images; the caller owns (and disposes) both. */
  run(x: Tensor4D): Tensor;
  /** Frees the folded weights (the model's own weights are untouched). */
  dispose(): void;
  /** What was fused, for logs and tests. */
  readonly stats: { steps: number; folded: number; paddingsMerged: number; generic: number; layers: number; nativeFused: number };
}

export interface InferencePlanOptions {
  /** Stop at this layer (its output is the plan's output). Default: the model's output. */
  upTo?: string;
}

const cls = (l: Layer) => l.getClassName();

export function compileInferencePlan(model: LayersModel, opts: InferencePlanOptions = {}): InferencePlan {
  const t = tf();
  if (model.inputs.length !== 1) throw new InferencePlanError(`the model has ${model.inputs.length} inputs; the plan handles one`);
  const inputName = model.inputLayers[0].name;

  const { byName, inputsOf, consumers } = layerGraph(model, (m) => new InferencePlanError(m));
  const outputName = opts.upTo ?? model.outputLayers[0].name;
  if (!byName.has(outputName)) throw new InferencePlanError(`no layer named '${outputName}'`);
  if (!opts.upTo && model.outputs.length !== 1) throw new InferencePlanError(`the model has ${model.outputs.length} outputs; the plan handles one`);

  // Only what the output depends on.
  const needed = new Set<string>();
  const visit = (n: string) => {
    if (needed.has(n)) return;
    needed.add(n);
    for (const i of inputsOf.get(n) ?? []) visit(i);
  };
  visit(outputName);
  const onlyConsumer = (n: string) => {
    const c = (consumers.get(n) ?? []).filter((x) => needed.has(x));
    return c.length === 1 && n !== outputName ? c[0] : undefined;
  };

  const steps: Step[] = [];
  const absorbed = new Set<string>();
  const rename = new Map<string, string>(); // absorbed layer -> the step that produces its value
  const stats = { steps: 0, folded: 0, paddingsMerged: 0, generic: 0, layers: 0, nativeFused: 0 };
  const source = (n: string) => rename.get(n) ?? n;
  const owned: Tensor[] = [];

  for (const layer of model.layers) {
    const name = layer.name;
    if (!needed.has(name) || absorbed.has(name) || name === inputName) continue;
    stats.layers++;
    const kind = cls(layer);
    let inputs = (inputsOf.get(name) ?? []).map(source);

    if (kind === 'Conv2D' || kind === 'DepthwiseConv2D') {
      const c = configOf(layer);
      const depthwise = kind === 'DepthwiseConv2D';
      const act = (c.activation ?? 'linear') as string;
      if (act !== 'linear' && act !== 'relu' && act !== 'relu6') {
        steps.push({ kind: 'layer', name, inputs, layer });
        stats.generic++;
        continue;
      }
      const [kernel, bias] = layer.getWeights();
      let pad: Padding = c.padding === 'same' ? 'same' : 'valid';
      // ZeroPadding2D right before a 'valid' convolution: the same numbers as explicit padding.
      const producer = byName.get(inputsOf.get(name)![0]);
      if (pad === 'valid' && producer && cls(producer) === 'ZeroPadding2D' && onlyConsumer(producer.name) === name && steps.at(-1)?.name === producer.name) {
        const p = (configOf(producer).padding ?? [[1, 1], [1, 1]]) as number[][] | number;
        const [[top, bottom], [left, right]] = typeof p === 'number' ? [[p, p], [p, p]] : (p as number[][]).map((q) => (typeof q === 'number' ? [q, q] : q));
        pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
        const padStep = steps.pop()!;
        inputs = padStep.inputs;
        stats.paddingsMerged++;
        stats.generic--;
      }
      let filter = kernel.clone();
      let b: Tensor | null = c.useBias === false || !bias ? null : bias.clone();
      let activation: Activation = act as Activation;
      let last = name;
      // Conv -> BatchNormalization: fold (frozen statistics are constants).
      const next = onlyConsumer(name) && byName.get(onlyConsumer(name)!);
      if (activation === 'linear' && next && isChannelBatchNorm(next)) {
        const folded = foldBatchNorm(filter, b, next, depthwise);
        t.dispose([filter, ...(b ? [b] : [])]);
        ({ filter, bias: b } = folded);
        absorbed.add(next.name);
        last = next.name;
        stats.folded++;
      }
      // ... -> ReLU / ReLU6: fused into the same op.
      const after = onlyConsumer(last) && byName.get(onlyConsumer(last)!);
      if (activation === 'linear' && after && activationOf(after) !== undefined) {
        activation = activationOf(after)!;
        absorbed.add(after.name);
        last = after.name;
      }
      owned.push(filter, ...(b ? [b] : []));
      steps.push({ kind: 'conv', name: last, inputs, depthwise, filter, bias: b, strides: pair(c.strides, 1), dilations: pair(c.dilationRate, 1), pad, activation });
      for (const n of [name, last]) rename.set(n, last);
      continue;
    }
    if (kind === 'Add' && inputs.length === 2) {
      steps.push({ kind: 'add', name, inputs });
      continue;
    }
    if (activationOf(layer) !== undefined) {
      steps.push({ kind: 'activation', name, inputs, activation: activationOf(layer)! });
      continue;
    }
    if (kind === 'Dropout' || kind === 'SpatialDropout2D') {
      rename.set(name, inputs[0]); // identity at inference
      continue;
    }
    steps.push({ kind: 'layer', name, inputs, layer });
    stats.generic++;
  }
  stats.steps = steps.length;
  const output = source(outputName);

  const native = nativeFusedConv();
  if (native) stats.nativeFused = steps.filter((s) => s.kind === 'conv' && !s.depthwise && s.bias && (native.explicit || !Array.isArray(s.pad))).length;

  // How many steps read each value: a value is freed after its last reader.
  const readers = new Map<string, number>();
  for (const s of steps) for (const i of s.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);

  return {
    stats,
    run(x: Tensor4D): Tensor {
      const values = new Map<string, Tensor>([[inputName, x]]);
      const left = new Map(readers);
      const take = (n: string): Tensor => {
        const v = values.get(n);
        if (!v) throw new InferencePlanError(`internal: '${n}' has no value`);
        return v;
      };
      const release = (n: string) => {
        const r = (left.get(n) ?? 0) - 1;
        left.set(n, r);
        if (r === 0 && n !== inputName && n !== output) {
          values.get(n)!.dispose();
          values.delete(n);
        }
      };
      let current: Step | undefined;
      try {
        for (const s of steps) {
          current = s;
          const ins = s.inputs.map(take);
          let y: Tensor;
          if (s.kind === 'conv') {
            const args = { x: ins[0] as Tensor4D, filter: s.filter as tfTypes.Tensor4D, strides: s.strides, pad: s.pad as 'same', dilations: s.dilations, bias: s.bias ?? undefined, activation: s.activation };
            y = s.depthwise ? t.fused.depthwiseConv2d(args) : native && s.bias && (native.explicit || !Array.isArray(s.pad)) ? native.conv2d(args.x, s.filter, s.bias, s) : t.fused.conv2d(args);
          } else if (s.kind === 'add') {
            y = t.add(ins[0], ins[1]);
          } else if (s.kind === 'activation') {
            y = s.activation === 'relu6' ? t.relu6(ins[0]) : s.activation === 'relu' ? t.relu(ins[0]) : ins[0].clone();
          } else {
            y = t.tidy(() => s.layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as Tensor);
          }
          values.set(s.name, y);
          for (const i of s.inputs) release(i);
        }
        const out = values.get(output) ?? (output === inputName ? x.clone() : undefined);
        if (!out) throw new InferencePlanError(`internal: no output '${output}'`);
        values.delete(output);
        return out;
      } catch (e) {
        // A failure inside TensorFlow.js names the layer it happened in.
        throw current ? inLayer(e, current.name, stepClass(current)) : e;
      } finally {
        for (const [n, v] of values) if (n !== inputName) v.dispose();
      }
    },
    dispose() {
      t.dispose(owned);
      owned.length = 0;
    },
  };
}

/** The Keras class a step stands for, for messages. */
function stepClass(s: Step): string {
  return s.kind === 'layer' ? s.layer.getClassName() : s.kind === 'conv' ? (s.depthwise ? 'DepthwiseConv2D' : 'Conv2D') : s.kind === 'add' ? 'Add' : 'Activation';
}

/**
 * conv(x, W) + b followed by BatchNorm (gamma, beta, mean, var, eps) equals
 * conv(x, W * s) + (b - mean) * s + beta with s = gamma / sqrt(var + eps), per output channel.
 * For a depthwise kernel [kh, kw, in, mult] the output channel of (i, m) is i * mult + m.
 */
function foldBatchNorm(filter: Tensor, bias: Tensor | null, bnLayer: Layer, depthwise: boolean): { filter: Tensor; bias: Tensor } {
  const t = tf();
  const c = configOf(bnLayer);
  const w = bnLayer.getWeights();
  // Weights in Keras order: [gamma if scale], [beta if center], moving mean, moving variance.
  let k = 0;
  const gamma = c.scale === false ? null : w[k++];
  const beta = c.center === false ? null : w[k++];
  const mean = w[k++];
  const variance = w[k++];
  return t.tidy(() => {
    let s = t.rsqrt(t.add(variance, c.epsilon ?? 1e-3));
    if (gamma) s = t.mul(s, gamma);
    const [, , inChannels, outOrMult] = filter.shape as number[];
    const scaleShape = depthwise ? [1, 1, inChannels, outOrMult] : [1, 1, 1, outOrMult];
    const newFilter = t.mul(filter, t.reshape(s, scaleShape));
    let newBias = t.mul(t.sub(bias ?? t.zerosLike(mean), mean), s);
    if (beta) newBias = t.add(newBias, beta);
    return { filter: newFilter, bias: newBias };
  });
}

// ---------------------------------------------------------------------------------------
// TensorFlow's fused convolution, called by name on the native backend

interface NativeBackend {
  binding: Record<string, number>;
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: Tensor[]): Tensor;
}

interface NativeFusedConv {
  /** Whether explicit paddings (merged ZeroPadding2D) are accepted too. */
  explicit: boolean;
  conv2d(x: Tensor, filter: Tensor, bias: Tensor, s: { strides: [number, number]; dilations: [number, number]; pad: Padding; activation: Activation }): Tensor;
}

let probed: { backend: string; fused: NativeFusedConv | undefined } | undefined;

/**
 * _FusedConv2D (conv + BiasAdd + Relu/Relu6 in one oneDNN kernel, what Keras's graph
 * optimizer uses) on the tensorflow backend, if its binding passes list attributes (the
 * offline build adds that: scripts/setup-native.mjs step 3b). Probed once; undefined on any
 * other backend or binding, and the plan uses tf.fused ops (three kernels) instead.
 */
function nativeFusedConv(): NativeFusedConv | undefined {
  const t = tf();
  if (probed?.backend === t.getBackend()) return probed.fused;
  const backend = t.backend() as unknown as Partial<NativeBackend>;
  let fused: NativeFusedConv | undefined;
  if (t.getBackend() === 'tensorflow' && typeof backend.executeSingleOutput === 'function' && backend.binding) {
    const b = backend as NativeBackend;
    const n = b.binding;
    const conv2d: NativeFusedConv['conv2d'] = (x, filter, bias, s) => {
      const explicit = Array.isArray(s.pad);
      return b.executeSingleOutput(
        '_FusedConv2D',
        [
          { name: 'T', type: n.TF_ATTR_TYPE, value: n.TF_FLOAT },
          { name: 'num_args', type: n.TF_ATTR_INT, value: 1 },
          { name: 'TArgs', type: n.TF_ATTR_TYPE, value: [n.TF_FLOAT] },
          { name: 'num_host_args', type: n.TF_ATTR_INT, value: 0 },
          { name: 'strides', type: n.TF_ATTR_INT, value: [1, s.strides[0], s.strides[1], 1] },
          { name: 'padding', type: n.TF_ATTR_STRING, value: explicit ? 'EXPLICIT' : (s.pad as string).toUpperCase() },
          { name: 'explicit_paddings', type: n.TF_ATTR_INT, value: explicit ? (s.pad as number[][]).flat() : [] },
          { name: 'data_format', type: n.TF_ATTR_STRING, value: 'NHWC' },
          { name: 'dilations', type: n.TF_ATTR_INT, value: [1, s.dilations[0], s.dilations[1], 1] },
          { name: 'fused_ops', type: n.TF_ATTR_STRING, value: s.activation === 'linear' ? ['BiasAdd'] : ['BiasAdd', s.activation === 'relu6' ? 'Relu6' : 'Relu'] },
        ],
        [x, filter, bias],
      );
    };
    const probe = (pad: Padding) => {
      const out = t.tidy(() => {
        const one = t.ones([1, 2, 2, 1]);
        return conv2d(one, t.ones([1, 1, 1, 1]), t.ones([1]), { strides: [1, 1], dilations: [1, 1], pad, activation: 'relu6' }).dataSync();
      });
      return out.length > 0 && out.every((v) => v === 2);
    };
    try {
      if (probe('valid')) fused = { explicit: false, conv2d };
    } catch {
      // a binding without list attributes (tfjs-node's prebuilt one): "Argument is not a string!"
    }
    try {
      if (fused && probe([[0, 0], [0, 0], [0, 0], [0, 0]])) fused.explicit = true;
    } catch {
      // explicit paddings not supported by this TensorFlow's kernel
    }
  }
  probed = { backend: t.getBackend(), fused };
  return fused;
}
