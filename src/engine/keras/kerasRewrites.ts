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

export function rewriteForTfjs({ graph, weightsOf, where }: RewriteInput): RewriteResult {
  const keras3 = isKeras3(graph);
  const layers: KerasLayer[] = [];
  const weights = new Map<string, WeightValue[]>();
  const alias = new Map<string, TensorRef>();
  const done = new Map<string, number>();
  const note = (what: string) => done.set(what, (done.get(what) ?? 0) + 1);
  const fail = (layer: KerasLayer, why: string): never => {
    throw new KerasConfigError(`${where}: layer '${layer.name}' (${layer.className}) ${why}`, layer.name);
  };
  const keep = (layer: KerasLayer, values = weightsOf(layer)) => {
    layers.push(layer);
    if (values) weights.set(layer.name, values);
  };

  for (const original of graph.layers) {
    const layer: KerasLayer = { ...original, config: { ...original.config }, nodes: original.nodes.map((n) => ({ ...n })) };
    const cls = layer.className;
    const x = layer.nodes[0]?.refs[0];
    if (layer.module.startsWith('keras.src.ops') || cls === 'TFOpLambda' || cls === 'SlicingOpLambda') {
      const kind = cls === 'TFOpLambda' ? String(layer.config.function ?? '') : cls;
      if (cls === 'TFOpLambda' && /^nn\.(relu6|relu|silu|swish)$|^math\.sigmoid$/.test(kind) && x) {
        const act = kind.split('.')[1] === 'silu' ? 'swish' : kind.split('.')[1];
        keep(op(layer.name, 'Activation', { activation: act }, [x]), undefined);
      } else {
        const replaced = arithmetic(layer, kind);
        if (!replaced)
          fail(
            layer,
            `is the operation '${kind}', which Transfer Lab cannot express in TensorFlow.js layers (it handles add, subtract, multiply and divide by a number or between two tensors). Cut the model before it with backbone.cutAt`,
          );
        replaced!.forEach((l) => keep(l, undefined));
      }
      note(`${cls === 'TFOpLambda' ? 'TFOpLambda' : 'Keras ops'} -> Rescaling/Add/Multiply`);
      continue;
    }
    switch (cls) {
      case 'Activation': {
        const a = activationName(layer.config.activation);
        const replaced = x ? activationLayers(layer.name, a, x, keras3) : undefined;
        if (replaced) {
          replaced.forEach((l) => keep(l, undefined));
          note(`activation ${a} -> Rescaling/ReLU/Multiply`);
          continue;
        }
        if (!(a in SAME_ACTIVATIONS)) fail(layer, `uses the activation '${a}', which TensorFlow.js lacks`);
        layer.config.activation = SAME_ACTIVATIONS[a];
        keep(layer);
        continue;
      }
      case 'Normalization': {
        const c = layer.config;
        if (c.invert) fail(layer, 'inverts a normalization (invert=True); only the forward normalization is supported');
        let mean = c.mean as number[] | number | undefined;
        let variance = c.variance as number[] | number | undefined;
        if (mean === undefined || mean === null || variance === undefined || variance === null) {
          const w = weightsOf(original);
          if (!w || w.length < 2) fail(layer, 'has no mean and variance (neither in its config nor in the weight files)');
          mean = Array.from(w![0].data);
          variance = Array.from(w![1].data);
        }
        const m = Array.isArray(mean) ? mean.map(Number) : [Number(mean)];
        const v = Array.isArray(variance) ? variance.map(Number) : [Number(variance)];
        const scale = v.map((s) => 1 / Math.max(Math.sqrt(s), 1e-7));
        const offset = m.map((mu, i) => -mu * scale[m.length === v.length ? i : 0]);
        keep(
          op(layer.name, 'Rescaling', { scale: scale.length === 1 ? scale[0] : scale, offset: offset.length === 1 ? offset[0] : offset }, layer.nodes[0].refs),
          undefined,
        );
        note('Normalization -> Rescaling');
        continue;
      }
      case 'LayerScale': {
        const w = weightsOf(original);
        const gamma = w?.[0];
        if (!gamma) fail(layer, 'has no gamma in the weight files');
        const channels = gamma!.shape[gamma!.shape.length - 1];
        keep(
          op(
            layer.name,
            'DepthwiseConv2D',
            { kernel_size: [1, 1], strides: [1, 1], padding: 'valid', depth_multiplier: 1, use_bias: false, activation: 'linear' },
            layer.nodes[0].refs,
          ),
          [{ name: `${layer.name}/depthwise_kernel`, shape: [1, 1, channels, 1], data: gamma!.data }],
        );
        note('LayerScale -> DepthwiseConv2D 1x1');
        continue;
      }
      case 'StochasticDepth':
        if (!x) fail(layer, 'has no input');
        alias.set(layer.name, x!);
        note('StochasticDepth -> identity (no drop-path during fine-tuning)');
        continue;
      case 'CustomScaleLayer': {
        const refs = layer.nodes[0]?.refs ?? [];
        if (refs.length !== 2) fail(layer, `has ${refs.length} inputs; expected a shortcut and a residual`);
        const scale = Number(layer.config.scale);
        keep(op(`${layer.name}__scaled`, 'Rescaling', { scale, offset: 0 }, [refs[1]]), undefined);
        keep(op(layer.name, 'Add', {}, [refs[0], [`${layer.name}__scaled`, 0, 0]]), undefined);
        note('CustomScaleLayer -> Rescaling + Add');
        continue;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D':
        if (layer.config.keepdims) {
          const w = channelsOf(original);
          if (!w) fail(layer, 'keeps its dimensions (keepdims=True) but the file does not record its channel count');
          delete layer.config.keepdims;
          const pooled = { ...layer, name: `${layer.name}__pooled`, config: { ...layer.config, name: `${layer.name}__pooled` } };
          keep(pooled, undefined);
          keep(op(layer.name, 'Reshape', { target_shape: [1, 1, w] }, [[pooled.name, 0, 0]]), undefined);
          note(`${cls}(keepdims) -> ${cls} + Reshape`);
          continue;
        }
        break;
      case 'Conv2D': {
        const groups = Number(layer.config.groups ?? 1);
        delete layer.config.groups;
        if (groups > 1) {
          const w = weightsOf(original);
          const kernel = w?.[0];
          const filters = Number(layer.config.filters);
          if (!kernel || kernel.shape.length !== 4 || kernel.shape[2] !== 1 || filters !== groups) {
            fail(
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
          pushWithActivation(dw, values);
          note('Conv2D(groups = channels) -> DepthwiseConv2D');
          continue;
        }
        break;
      }
      case 'SeparableConv2D':
        for (const k of ['kernel_initializer', 'kernel_regularizer', 'kernel_constraint']) delete layer.config[k];
        break;
      default:
        break;
    }
    pushWithActivation(layer, weightsOf(original));
  }

  /** A layer whose own `activation` TF.js lacks: the layer runs linear, the activation follows under its name. */
  function pushWithActivation(layer: KerasLayer, values: WeightValue[] | undefined): void {
    if (!('activation' in layer.config) || layer.className === 'Activation') {
      keep(layer, values);
      return;
    }
    const a = activationName(layer.config.activation);
    const replaced = activationLayers(layer.name, a, [`${layer.name}__linear`, 0, 0], keras3);
    if (!replaced) {
      if (!(a in SAME_ACTIVATIONS)) fail(layer, `uses the activation '${a}', which TensorFlow.js lacks`);
      layer.config.activation = SAME_ACTIVATIONS[a];
      keep(layer, values);
      return;
    }
    const linear = { ...layer, name: `${layer.name}__linear`, config: { ...layer.config, name: `${layer.name}__linear`, activation: 'linear' } };
    keep(linear, values);
    replaced.forEach((l) => keep(l, undefined));
    note(`activation ${a} -> Rescaling/ReLU/Multiply`);
  }

  const resolve = (r: TensorRef): TensorRef => {
    const a = alias.get(r[0]);
    return a ? resolve(a) : r;
  };
  for (const l of layers) for (const n of l.nodes) n.refs = n.refs.map(resolve);
  const notes = [...done].map(([what, n]) => `${what} (${n} layer${n > 1 ? 's' : ''}): rewritten into TensorFlow.js layers with the same outputs.`);
  return { graph: { ...graph, layers, inputs: graph.inputs.map(resolve), outputs: graph.outputs.map(resolve) }, weights, notes };
}
