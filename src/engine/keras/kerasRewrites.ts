// What Keras Applications use that TensorFlow.js lacks, rewritten into layers TensorFlow.js
// has, exactly (same outputs, same gradients): so the fast frozen path, lean fine-tuning and
// export see only stock layers, and an exported model loads with plain `tf.loadLayersModel`
// (we fold away rather than register custom classes). Each rewrite keeps the original
// layer's name on the layer that produces its output, so cuts, the layer tree and
// experiment files keep using Keras's names.
//
//   Keras                                   TensorFlow.js
//   Activation/activation hard_sigmoid (3)  Rescaling(1/6, +0.5) -> ReLU(max 1)
//   hard_silu / hard_swish                  Rescaling -> ReLU(max 1) -> Multiply with the input
//   silu                                    swish
//   leaky_relu                              LeakyReLU
//   ops Add/Multiply/Subtract/Divide (3), TFOpLambda (2) with a number: Rescaling; with two tensors: Add/Multiply
//   Normalization                           Rescaling with per-channel scale and offset
//   LayerScale (ConvNeXt)                   DepthwiseConv2D 1x1 (gamma trainable, no batch statistics)
//   StochasticDepth                         removed (identity at inference; its drop-path is not applied in fine-tuning)
//   CustomScaleLayer (InceptionResNetV2)    Rescaling(scale) on the residual -> Add
//   Conv2D with groups == channels          DepthwiseConv2D
//   GlobalAveragePooling2D(keepdims)        GlobalAveragePooling2D -> Reshape [1, 1, C]
//   SeparableConv2D with tf_keras's kernel_* keys: those keys dropped
import { isKeras3, isObj, KerasConfigError, type Json, type KerasGraph, type KerasLayer, type KerasNode, type TensorRef } from './kerasGraph';
import type { WeightValue } from './kerasWeights';

export interface RewriteResult {
  graph: KerasGraph;
  /** Weights for each layer of the rewritten graph, in TensorFlow.js's order for its class. */
  weights: Map<string, WeightValue[]>;
  /** What was rewritten, one line per kind (for the run log). */
  notes: string[];
}

/** Activations TensorFlow.js knows under the same (or a mapped) name. */
const SAME_ACTIVATIONS: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  selu: 'selu',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  tanh: 'tanh',
  swish: 'swish',
  silu: 'swish',
  mish: 'mish',
  gelu: 'gelu',
  // Keras 2's 0.2x + 0.5 (Keras 3 files are rewritten before this table is read).
  hard_sigmoid: 'hardSigmoid',
};

function activationName(v: unknown): string {
  if (v === undefined || v === null) return 'linear';
  if (typeof v === 'string') return v;
  if (isObj(v)) return String(v.config ?? v.class_name ?? 'linear'); // {"class_name": "function", "config": "relu"}
  return String(v);
}

const op = (name: string, className: string, config: Json, refs: TensorRef[], weightKey: string[] = []): KerasLayer => ({
  name,
  className,
  module: '',
  config: { name, trainable: true, dtype: 'float32', ...config },
  nodes: [{ refs, constants: [], kwargs: {} }],
  weightKey,
});

const numberArg = (node: KerasNode): number | undefined => {
  const c = [...node.constants, node.kwargs.y, node.kwargs.scalar].find((v) => typeof v === 'number');
  return typeof c === 'number' ? c : undefined;
};

/** Binary arithmetic with a number or a second tensor; the class/function name says which op. */
function arithmetic(layer: KerasLayer, kind: string): KerasLayer[] | undefined {
  const node = layer.nodes[0];
  if (!node) return undefined;
  const k = kind.toLowerCase();
  const add = /(^|\.)(add|__operators__\.add)$/.test(k) || k === 'add';
  const mul = /(^|\.)multiply$/.test(k) || k === 'multiply';
  const sub = /(^|\.)subtract$/.test(k) || k === 'subtract';
  const div = /(^|\.)(truediv|divide|true_divide)$/.test(k) || k === 'divide' || k === 'true_divide';
  if (node.refs.length >= 2) {
    if (add) return [op(layer.name, 'Add', {}, node.refs)];
    if (mul) return [op(layer.name, 'Multiply', {}, node.refs)];
    return undefined;
  }
  const c = numberArg(node);
  if (c === undefined || node.refs.length !== 1) return undefined;
  const x = node.refs;
  if (add) return [op(layer.name, 'Rescaling', { scale: 1, offset: c }, x)];
  if (sub) return [op(layer.name, 'Rescaling', { scale: 1, offset: -c }, x)];
  if (mul) return [op(layer.name, 'Rescaling', { scale: c, offset: 0 }, x)];
  if (div) return [op(layer.name, 'Rescaling', { scale: 1 / c, offset: 0 }, x)];
  return undefined;
}

/** Layers computing `activation(x)` under the name `name`, or undefined when TF.js has it as-is. */
function activationLayers(name: string, activation: string, x: TensorRef, keras3: boolean): KerasLayer[] | undefined {
  const hardSigmoid = (out: string) => [
    op(`${out}__gate`, 'Rescaling', { scale: 1 / 6, offset: 0.5 }, [x]),
    op(out, 'ReLU', { max_value: 1 }, [[`${out}__gate`, 0, 0]]),
  ];
  switch (activation) {
    case 'hard_sigmoid':
      // Keras 3 defines it as relu6(x + 3) / 6; Keras 2's 0.2x + 0.5 is TF.js's hardSigmoid.
      return keras3 ? hardSigmoid(name) : undefined;
    case 'hard_silu':
    case 'hard_swish':
      return [...hardSigmoid(`${name}__hsig`), op(name, 'Multiply', {}, [x, [`${name}__hsig`, 0, 0]])];
    case 'leaky_relu':
      return [op(name, 'LeakyReLU', { alpha: 0.2 }, [x])];
    default:
      return undefined;
  }
}

function channelsOf(layer: KerasLayer): number | undefined {
  const shape = layer.nodes[0]?.shapes?.[0] ?? layer.inputShape;
  if (Array.isArray(shape) && typeof shape[shape.length - 1] === 'number') return shape[shape.length - 1] as number;
  return undefined;
}

export interface RewriteInput {
  graph: KerasGraph;
  /** Weights the files hold for a layer of the (flattened) graph, in Keras's order. */
  weightsOf(layer: KerasLayer): WeightValue[] | undefined;
  where: string;
}

/** The rewritten graph as it is built: kept layers and their weights, removed layers' aliases, what was done. */
class Rewrite {
  readonly layers: KerasLayer[] = [];
  readonly weights = new Map<string, WeightValue[]>();
  /** A removed layer's name -> the tensor that stands for its output. */
  readonly alias = new Map<string, TensorRef>();
  private readonly done = new Map<string, number>();

  constructor(
    private readonly input: RewriteInput,
    readonly keras3: boolean,
  ) {}

  weightsOf(layer: KerasLayer): WeightValue[] | undefined {
    return this.input.weightsOf(layer);
  }

  note(what: string): void {
    this.done.set(what, (this.done.get(what) ?? 0) + 1);
  }

  fail(layer: KerasLayer, why: string): never {
    throw new KerasConfigError(`${this.input.where}: layer '${layer.name}' (${layer.className}) ${why}`, layer.name);
  }

  keep(layer: KerasLayer, values = this.weightsOf(layer)): void {
    this.layers.push(layer);
    if (values) this.weights.set(layer.name, values);
  }

  /** A layer whose own `activation` TF.js lacks: the layer runs linear, the activation follows under its name. */
  pushWithActivation(layer: KerasLayer, values: WeightValue[] | undefined): void {
    if (!('activation' in layer.config) || layer.className === 'Activation') {
      this.keep(layer, values);
      return;
    }
    const a = activationName(layer.config.activation);
    const replaced = activationLayers(layer.name, a, [`${layer.name}__linear`, 0, 0], this.keras3);
    if (!replaced) {
      if (!(a in SAME_ACTIVATIONS)) this.fail(layer, `uses the activation '${a}', which TensorFlow.js lacks`);
      layer.config.activation = SAME_ACTIVATIONS[a];
      this.keep(layer, values);
      return;
    }
    const linear = { ...layer, name: `${layer.name}__linear`, config: { ...layer.config, name: `${layer.name}__linear`, activation: 'linear' } };
    this.keep(linear, values);
    replaced.forEach((l) => this.keep(l, undefined));
    this.note(`activation ${a} -> Rescaling/ReLU/Multiply`);
  }

  /** The graph with every reference to a removed layer pointing at what replaced it. */
  result(graph: KerasGraph): RewriteResult {
    const resolve = (r: TensorRef): TensorRef => {
      const a = this.alias.get(r[0]);
      return a ? resolve(a) : r;
    };
    for (const l of this.layers) for (const n of l.nodes) n.refs = n.refs.map(resolve);
    const notes = [...this.done].map(([what, n]) => `${what} (${n} layer${n > 1 ? 's' : ''}): rewritten into TensorFlow.js layers with the same outputs.`);
    return { graph: { ...graph, layers: this.layers, inputs: graph.inputs.map(resolve), outputs: graph.outputs.map(resolve) }, weights: this.weights, notes };
  }
}

export function rewriteForTfjs({ graph, weightsOf, where }: RewriteInput): RewriteResult {
  const rw = new Rewrite({ graph, weightsOf, where }, isKeras3(graph));
  for (const original of graph.layers) {
    const layer: KerasLayer = { ...original, config: { ...original.config }, nodes: original.nodes.map((n) => ({ ...n })) };
    const cls = layer.className;
    if (layer.module.startsWith('keras.src.ops') || cls === 'TFOpLambda' || cls === 'SlicingOpLambda') {
      rewriteOp(rw, layer);
      continue;
    }
    if (REWRITES.get(cls)?.(rw, layer, original)) continue;
    rw.pushWithActivation(layer, weightsOf(original));
  }
  return rw.result(graph);
}

/** Keras 3 ops layers and tf_keras's TFOpLambda: an activation, or arithmetic as Rescaling/Add/Multiply. */
function rewriteOp(rw: Rewrite, layer: KerasLayer): void {
  const cls = layer.className;
  const x = layer.nodes[0]?.refs[0];
  const kind = cls === 'TFOpLambda' ? String(layer.config.function ?? '') : cls;
  if (cls === 'TFOpLambda' && /^nn\.(relu6|relu|silu|swish)$|^math\.sigmoid$/.test(kind) && x) {
    const act = kind.split('.')[1] === 'silu' ? 'swish' : kind.split('.')[1];
    rw.keep(op(layer.name, 'Activation', { activation: act }, [x]), undefined);
  } else {
    const replaced = arithmetic(layer, kind);
    if (!replaced)
      rw.fail(
        layer,
        `is the operation '${kind}', which Transfer Lab cannot express in TensorFlow.js layers (it handles add, subtract, multiply and divide by a number or between two tensors). Cut the model before it with backbone.cutAt`,
      );
    replaced!.forEach((l) => rw.keep(l, undefined));
  }
  rw.note(`${cls === 'TFOpLambda' ? 'TFOpLambda' : 'Keras ops'} -> Rescaling/Add/Multiply`);
}

/**
 * A rewrite of one layer class: `layer` is the copy to change, `original` the graph's layer
 * (whose weights the files hold). True when the layer is done; false to keep `layer` as it
 * now is (its activation still checked).
 */
type LayerRewrite = (rw: Rewrite, layer: KerasLayer, original: KerasLayer) => boolean;

const rewriteActivation: LayerRewrite = (rw, layer) => {
  const x = layer.nodes[0]?.refs[0];
  const a = activationName(layer.config.activation);
  const replaced = x ? activationLayers(layer.name, a, x, rw.keras3) : undefined;
  if (replaced) {
    replaced.forEach((l) => rw.keep(l, undefined));
    rw.note(`activation ${a} -> Rescaling/ReLU/Multiply`);
    return true;
  }
  if (!(a in SAME_ACTIVATIONS)) rw.fail(layer, `uses the activation '${a}', which TensorFlow.js lacks`);
  layer.config.activation = SAME_ACTIVATIONS[a];
  rw.keep(layer);
  return true;
};

const rewriteNormalization: LayerRewrite = (rw, layer, original) => {
  const c = layer.config;
  if (c.invert) rw.fail(layer, 'inverts a normalization (invert=True); only the forward normalization is supported');
  let mean = c.mean as number[] | number | undefined;
  let variance = c.variance as number[] | number | undefined;
  if (mean === undefined || mean === null || variance === undefined || variance === null) {
    const w = rw.weightsOf(original);
    if (!w || w.length < 2) rw.fail(layer, 'has no mean and variance (neither in its config nor in the weight files)');
    mean = Array.from(w![0].data);
    variance = Array.from(w![1].data);
  }
  const m = Array.isArray(mean) ? mean.map(Number) : [Number(mean)];
  const v = Array.isArray(variance) ? variance.map(Number) : [Number(variance)];
  const scale = v.map((s) => 1 / Math.max(Math.sqrt(s), 1e-7));
  const offset = m.map((mu, i) => -mu * scale[m.length === v.length ? i : 0]);
  rw.keep(
    op(layer.name, 'Rescaling', { scale: scale.length === 1 ? scale[0] : scale, offset: offset.length === 1 ? offset[0] : offset }, layer.nodes[0].refs),
    undefined,
  );
  rw.note('Normalization -> Rescaling');
  return true;
};

const rewriteLayerScale: LayerRewrite = (rw, layer, original) => {
  const w = rw.weightsOf(original);
  const gamma = w?.[0];
  if (!gamma) rw.fail(layer, 'has no gamma in the weight files');
  const channels = gamma!.shape[gamma!.shape.length - 1];
  rw.keep(
    op(
      layer.name,
      'DepthwiseConv2D',
      { kernel_size: [1, 1], strides: [1, 1], padding: 'valid', depth_multiplier: 1, use_bias: false, activation: 'linear' },
      layer.nodes[0].refs,
    ),
    [{ name: `${layer.name}/depthwise_kernel`, shape: [1, 1, channels, 1], data: gamma!.data }],
  );
  rw.note('LayerScale -> DepthwiseConv2D 1x1');
  return true;
};

const rewriteStochasticDepth: LayerRewrite = (rw, layer) => {
  const x = layer.nodes[0]?.refs[0];
  if (!x) rw.fail(layer, 'has no input');
  rw.alias.set(layer.name, x!);
  rw.note('StochasticDepth -> identity (no drop-path during fine-tuning)');
  return true;
};

const rewriteCustomScale: LayerRewrite = (rw, layer) => {
  const refs = layer.nodes[0]?.refs ?? [];
  if (refs.length !== 2) rw.fail(layer, `has ${refs.length} inputs; expected a shortcut and a residual`);
  const scale = Number(layer.config.scale);
  rw.keep(op(`${layer.name}__scaled`, 'Rescaling', { scale, offset: 0 }, [refs[1]]), undefined);
  rw.keep(op(layer.name, 'Add', {}, [refs[0], [`${layer.name}__scaled`, 0, 0]]), undefined);
  rw.note('CustomScaleLayer -> Rescaling + Add');
  return true;
};

const rewriteGlobalPooling: LayerRewrite = (rw, layer, original) => {
  if (!layer.config.keepdims) return false;
  const w = channelsOf(original);
  if (!w) rw.fail(layer, 'keeps its dimensions (keepdims=True) but the file does not record its channel count');
  delete layer.config.keepdims;
  const pooled = { ...layer, name: `${layer.name}__pooled`, config: { ...layer.config, name: `${layer.name}__pooled` } };
  rw.keep(pooled, undefined);
  rw.keep(op(layer.name, 'Reshape', { target_shape: [1, 1, w] }, [[pooled.name, 0, 0]]), undefined);
  rw.note(`${layer.className}(keepdims) -> ${layer.className} + Reshape`);
  return true;
};

const rewriteConv2D: LayerRewrite = (rw, layer, original) => {
  const groups = Number(layer.config.groups ?? 1);
  delete layer.config.groups;
  if (!(groups > 1)) return false; // an ordinary convolution (an unreadable count too)
  const w = rw.weightsOf(original);
  const kernel = w?.[0];
  const filters = Number(layer.config.filters);
  if (!kernel || kernel.shape.length !== 4 || kernel.shape[2] !== 1 || filters !== groups) {
    rw.fail(
      layer,
      `is a grouped convolution (groups=${groups}); TensorFlow.js has only ordinary and depthwise convolutions (groups equal to the channel count)`,
    );
  }
  const c = layer.config;
  const dw: KerasLayer = op(
    layer.name,
    'DepthwiseConv2D',
    {
      kernel_size: c.kernel_size,
      strides: c.strides,
      padding: c.padding,
      dilation_rate: c.dilation_rate,
      data_format: c.data_format,
      depth_multiplier: 1,
      use_bias: c.use_bias,
      activation: c.activation,
    },
    layer.nodes[0].refs,
  );
  const [kh, kw] = kernel!.shape;
  const values: WeightValue[] = [{ name: `${layer.name}/depthwise_kernel`, shape: [kh, kw, groups, 1], data: kernel!.data }, ...w!.slice(1)];
  rw.pushWithActivation(dw, values);
  rw.note('Conv2D(groups = channels) -> DepthwiseConv2D');
  return true;
};

const rewriteSeparableConv2D: LayerRewrite = (_rw, layer) => {
  for (const k of ['kernel_initializer', 'kernel_regularizer', 'kernel_constraint']) delete layer.config[k];
  return false;
};

/** By Keras class name (a Map: class names such as 'constructor' must not find Object's members). */
const REWRITES = new Map<string, LayerRewrite>([
  ['Activation', rewriteActivation],
  ['Normalization', rewriteNormalization],
  ['LayerScale', rewriteLayerScale],
  ['StochasticDepth', rewriteStochasticDepth],
  ['CustomScaleLayer', rewriteCustomScale],
  ['GlobalAveragePooling2D', rewriteGlobalPooling],
  ['GlobalMaxPooling2D', rewriteGlobalPooling],
  ['Conv2D', rewriteConv2D],
  ['SeparableConv2D', rewriteSeparableConv2D],
]);
