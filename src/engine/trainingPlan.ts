// Lean fine-tuning of the trainable part of a base. TensorFlow.js differentiates a Keras
// block (convolution, BatchNormalization in inference mode as the Keras rule has it, ReLU6)
// op by op and keeps every intermediate tensor for the backward pass: the normalised
// activation, its shifted and scaled copies, relu's and clip's inputs. Here each block is one
// custom-gradient op that keeps only its input and the convolution's output, and computes the
// gradients of the kernel, bias, gamma and beta in closed form (the moving statistics are
// constants in inference mode). Results equal autodiff's; memory per block drops to two
// activations. Layers it does not know run as themselves, under ordinary autodiff.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';
import { activationOf, configOf, isChannelBatchNorm, layerGraph, pair, type Activation } from './layerGraph';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;
interface Block {
  kind: 'block';
  name: string;
  inputs: string[];
  conv: Layer;
  depthwise: boolean;
  bn: Layer | null;
  activation: Activation;
  strides: [number, number];
  dilations: [number, number];
  pad: 'same' | 'valid';
  /** One custom-gradient op per block, made once. */
  op: (x: Tensor, w: Tensor, b: Tensor, gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) => Tensor;
}
type Step = Block | { kind: 'add'; name: string; inputs: string[] } | { kind: 'layer'; name: string; inputs: string[]; layer: Layer };

export interface TrainingPlan {
  /** The model's output for its inputs, differentiable with respect to the model's own variables. */
  apply(inputs: Tensor[]): Tensor;
  readonly stats: { blocks: number; generic: number; layers: number };
  dispose(): void;
}

export function compileTrainingPlan(model: LayersModel): TrainingPlan {
  const t = tf();
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
  const stats = { blocks: 0, generic: 0, layers: 0 };
  for (const layer of model.layers) {
    const name = layer.name;
    if (inputNames.includes(name) || absorbed.has(name)) continue;
    stats.layers++;
    const inputs = (inputsOf.get(name) ?? []).map(source);
    const kind = layer.getClassName();
    const c = configOf(layer);
    if ((kind === 'Conv2D' || kind === 'DepthwiseConv2D') && (c.activation ?? 'linear') === 'linear' && (c.padding === 'same' || c.padding === 'valid')) {
      let last = name;
      const next = onlyConsumer(name);
      const bn = next && isChannelBatchNorm(next) ? next : null;
      if (bn) {
        absorbed.add(bn.name);
        last = bn.name;
      }
      const after = onlyConsumer(last);
      const activation = after && activationOf(after) !== undefined ? activationOf(after)! : 'linear';
      if (after && activation !== 'linear') {
        absorbed.add(after.name);
        last = after.name;
      }
      const block: Omit<Block, 'op'> = { kind: 'block', name: last, inputs, conv: layer, depthwise: kind === 'DepthwiseConv2D', bn, activation, strides: pair(c.strides, 1), dilations: pair(c.dilationRate, 1), pad: c.padding as 'same' | 'valid' };
      steps.push({ ...block, op: blockOp(block, bn ? configOf(bn).epsilon ?? 1e-3 : 0) });
      rename.set(name, last);
      if (bn) rename.set(bn.name, last);
      stats.blocks++;
      continue;
    }
    if (kind === 'Add' && inputs.length === 2) {
      steps.push({ kind: 'add', name, inputs });
      continue;
    }
    steps.push({ kind: 'layer', name, inputs, layer });
    stats.generic++;
  }
  const output = source(outputName);

  /** The block's parameters as tensors: the layers' own variables, constants where a part is absent. */
  const paramsOf = (s: Block): Tensor[] => {
    const [kernel, bias] = s.conv.weights.map((w) => w.read());
    const channels = s.depthwise ? (kernel.shape[2] as number) * (kernel.shape[3] as number) : (kernel.shape[3] as number);
    const constant = (key: string, value: number) => {
      const k = `${s.name}/${key}`;
      let found = constants.get(k);
      if (!found) {
        found = t.keep(t.fill([channels], value));
        constants.set(k, found);
        owned.push(found);
      }
      return found;
    };
    const b = configOf(s.conv).useBias === false || !bias ? constant('bias', 0) : bias;
    if (!s.bn) return [kernel, b, constant('gamma', 1), constant('beta', 0), constant('mean', 0), constant('variance', 1)];
    const bnc = configOf(s.bn);
    const w = s.bn.weights.map((v) => v.read());
    let k = 0;
    const gamma = bnc.scale === false ? constant('gamma', 1) : w[k++];
    const beta = bnc.center === false ? constant('beta', 0) : w[k++];
    return [kernel, b, gamma, beta, w[k], w[k + 1]];
  };
  const constants = new Map<string, Tensor>();

  return {
    stats,
    apply(inputs: Tensor[]): Tensor {
      const values = new Map<string, Tensor>(inputNames.map((n, i) => [n, inputs[i]]));
      for (const s of steps) {
        const ins = s.inputs.map((n) => values.get(n)!);
        let y: Tensor;
        if (s.kind === 'block') {
          const [w, b, gamma, beta, mean, variance] = paramsOf(s);
          y = s.op(ins[0], w, b, gamma, beta, mean, variance);
        } else if (s.kind === 'add') {
          y = t.add(ins[0], ins[1]);
        } else {
          y = s.layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as Tensor;
        }
        values.set(s.name, y);
      }
      // Intermediates are the caller's tidy's (the tape needs them until the backward pass).
      return values.get(output)!;
    },
    dispose() {
      t.dispose(owned);
    },
  };
}

/**
 * conv (+ bias) -> BatchNorm in inference mode -> activation, as one op with a closed-form
 * gradient. With s = rsqrt(variance + eps), a = gamma * s, c = beta - mean * a:
 *   z = conv(x, W) + b,  pre = z * a + c,  y = act(pre)
 *   dpre = dy * act'(pre),  dbeta = sum(dpre),  dgamma = sum(dpre * (z - mean)) * s,  dz = dpre * a,
 *   db = sum(dz),  dW = conv filter-gradient(x, dz),  dx = conv input-gradient(dz, W).
 * The moving statistics are constants (zero gradient). Saves x and z only.
 */
function blockOp(s: Omit<Block, 'op'>, epsilon: number): Block['op'] {
  const t = tf();
  const engine = t.engine();
  const conv = (x: Tensor, w: Tensor) =>
    s.depthwise ? t.depthwiseConv2d(x as tfTypes.Tensor4D, w as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations) : t.conv2d(x as tfTypes.Tensor4D, w as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations);
  const affine = (gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor) => {
    const inv = s.bn ? t.rsqrt(t.add(variance, epsilon)) : t.onesLike(gamma);
    const a = t.mul(gamma, inv);
    return { inv, a, c: t.sub(beta, t.mul(mean, a)) };
  };
  const op = t.customGrad(((...args: unknown[]) => {
    const [x, w, b, gamma, beta, mean, variance] = args as Tensor[];
    const save = args[7] as (ts: Tensor[]) => void;
    // tfjs runs this in a tidy: only y and the saved copies of x and z outlive it.
    const z = t.add(conv(x, w), b);
    const { a, c } = affine(gamma, beta, mean, variance);
    const pre = s.bn ? t.add(t.mul(z, a), c) : z;
    const y = s.activation === 'relu6' ? t.relu6(pre) : s.activation === 'relu' ? t.relu(pre) : pre;
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
      const { inv, a: sa, c: sc } = affine(sgamma, sbeta, smean, svariance);
      const spre = s.bn ? t.add(t.mul(sz, sa), sc) : sz;
      const mask = s.activation === 'relu6' ? t.logicalAnd(t.greater(spre, 0), t.less(spre, 6)) : s.activation === 'relu' ? t.greater(spre, 0) : null;
      const dpre = mask ? t.mul(dy, t.cast(mask, 'float32')) : dy;
      const axes = [0, 1, 2];
      const dbeta = t.sum(dpre, axes);
      // d pre / d gamma = (z - mean) * s
      const dgamma = t.mul(t.sub(t.sum(t.mul(dpre, sz), axes), t.mul(smean, dbeta)), inv);
      const dz = s.bn ? t.mul(dpre, sa) : dpre;
      const db = t.sum(dz, axes);
      const attrs = { strides: s.strides, pad: s.pad, dataFormat: 'NHWC', dilations: s.dilations, dimRoundingMode: undefined };
      const dw = s.depthwise
        ? (engine.runKernel('DepthwiseConv2dNativeBackpropFilter', { x: sx, dy: dz }, { ...attrs, filterShape: sw.shape } as never) as Tensor)
        : (engine.runKernel('Conv2DBackpropFilter', { x: sx, dy: dz }, { ...attrs, filterShape: sw.shape } as never) as Tensor);
      const dx = s.depthwise
        ? (engine.runKernel('DepthwiseConv2dNativeBackpropInput', { dy: dz, filter: sw }, { ...attrs, inputShape: sx.shape } as never) as Tensor)
        : (engine.runKernel('Conv2DBackpropInput', { dy: dz, filter: sw }, { ...attrs, inputShape: sx.shape } as never) as Tensor);
      return [dx, dw, db, s.bn ? dgamma : t.zerosLike(sgamma), s.bn ? dbeta : t.zerosLike(sbeta), t.zerosLike(smean), t.zerosLike(svariance)];
    }
  }) as never) as unknown as Block['op'];
  return op;
}
