// Lean fine-tuning of the trainable part of a base. TensorFlow.js differentiates a Keras
// block (convolution, BatchNormalization in inference mode as the Keras rule has it, ReLU6)
// op by op and keeps every intermediate tensor for the backward pass: the normalised
// activation, its shifted and scaled copies, relu's and clip's inputs. Here each block is one
// custom-gradient op (plan/trainingBlocks.ts) that keeps only its input and the convolution's
// output, and computes the gradients of the kernel, bias, gamma and beta in closed form (the
// moving statistics are constants in inference mode). Results equal autodiff's; memory per
// block drops to two activations.
//
// What is a block: a convolution -- Conv2D, DepthwiseConv2D, the pointwise half of a
// SeparableConv2D (its depthwise half runs as one plain op before it), or a Dense layer on a
// 4-D tensor (ConvNeXt's pointwise layers: a 1x1 convolution) -- channels last, 'same' or
// 'valid', with or without bias, with its own activation (any of plan/activations.ts) ->
// optionally a BatchNormalization over the channels (with or without gamma and beta: Keras
// InceptionV3 has scale=False) -> optionally an activation (a layer, or the loader's
// multi-layer hard-sigmoid / hard-swish). A BatchNormalization over the last axis that no
// convolution absorbs (the cut fell between the two, or a pre-activation net such as
// DenseNet) is a block without convolution; so is a LayerNormalization over the last axis,
// and an activation standing alone (gelu, swish, hard-swish: several ops under autodiff).
// Parameter-free layers (Add, Multiply, Concatenate, pooling, padding, cropping, Reshape,
// Rescaling, ...) run as their TensorFlow.js ops, which autodiff differentiates leanly.
// Everything else runs as the layer itself under ordinary autodiff (`stats.plain` names
// them), except BatchNormalization and LayerNormalization without gamma or without beta
// where TensorFlow.js's own layer has no gradient (its batchNorm kernel saves the absent
// scale and the tape walks the absent offset: "Cannot read properties of undefined (reading
// 'dataId')"): those run as the same arithmetic in plain ops. With `training` (scratch:
// BatchNorm learns its batch statistics) nothing is fused; only those normalisations run as
// plain ops, updating their moving statistics as TensorFlow.js's layer does.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';
import { activationGroups, configOf, isLastAxis, layerGraph, pair } from './layerGraph';
import { inLayer } from './stageError';
import { activationNamed, layerActivation, type PlanActivation } from './plan/activations';
import {
  activationOp,
  convBlockOp,
  layerNormOp,
  normBlockOp,
  normalizeWithOps,
  normParts,
  type ActivationOp,
  type ConvOp,
  type LayerNormOp,
  type NormOp,
} from './plan/trainingBlocks';
import { stepTensors, translateLayer, type Step as OpStep } from './plan/inferenceNodes';
import { runStep } from './plan/inferenceRun';
import { addByClass, describeByClass, type LayersByClass } from './plan/planReport';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;

/** Activations a block computes (and differentiates) itself. */
export type BlockActivation = PlanActivation;

interface StepBase {
  name: string;
  inputs: string[];
  /** The layer named in error messages. */
  head: Layer;
}
interface ConvBlock extends StepBase {
  kind: 'conv-block';
  conv: Layer;
  /** Where the kernel and bias are among the layer's weights (bias null: none), and the kernel's 4-D shape if it is not 4-D (Dense). */
  kernelIndex: number;
  biasIndex: number | null;
  reshape: number[] | null;
  depthwise: boolean;
  bn: Layer | null;
  /** One custom-gradient op per block, made once. */
  op: ConvOp;
}
type Step =
  | ConvBlock
  | (StepBase & { kind: 'bn-block'; bn: Layer; op: NormOp })
  | (StepBase & { kind: 'ln-block'; ln: Layer; op: LayerNormOp })
  | (StepBase & { kind: 'act-block'; op: ActivationOp })
  | (StepBase & { kind: 'depthwise'; layer: Layer; strides: [number, number]; dilations: [number, number]; pad: 'same' | 'valid' })
  | (StepBase & { kind: 'ops'; step: OpStep })
  | (StepBase & { kind: 'norm-ops'; layer: Layer })
  | (StepBase & { kind: 'layer'; layer: Layer });

export interface TrainingPlanOptions {
  /** BatchNorm in training mode (scratch): nothing is fused, layers run with training=true. */
  training?: boolean;
}

export interface TrainingPlanStats {
  /** Custom-gradient ops. */
  blocks: number;
  /** Layers run as TensorFlow.js layers under autodiff. */
  generic: number;
  /** Normalisations run as plain ops (no gamma or beta). */
  normOps: number;
  /** Layers of the model (its input layers not counted). */
  layers: number;
  /** Layers inside the custom-gradient blocks. */
  blockLayers: number;
  /** Parameter-free layers run as their TensorFlow.js ops. */
  ops: number;
  /** The layers run as TensorFlow.js layers (`generic` of them), by class. */
  plain: LayersByClass;
}

export interface TrainingPlan {
  /** The model's output for its inputs, differentiable with respect to the model's own variables. */
  apply(inputs: Tensor[]): Tensor;
  /** blocks: custom-gradient ops; normOps: normalisations run as plain ops; generic: layers run as themselves. */
  readonly stats: TrainingPlanStats;
  dispose(): void;
}

/** The run log's line: what the lean blocks take and which layers fell back to autodiff. */
export function describeTrainingPlan(s: TrainingPlanStats, training = false): string {
  const head = `lean fine-tuning (training plan): ${s.blocks} custom-gradient block(s) for ${s.blockLayers} of ${s.layers} layers, ${s.ops} layer(s) as plain ops, ${s.normOps} normalisation(s) as plain ops${training ? ' (BatchNorm in training mode: nothing fused)' : ''}`;
  return s.generic === 0 ? `${head}; none fell back to autodiff` : `${head}; fell back to autodiff: ${describeByClass(s.plain)}`;
}

const isNormalization = (l: Layer) => l.getClassName() === 'BatchNormalization' || l.getClassName() === 'LayerNormalization';
/** TensorFlow.js's layer has no gradient (or, in training mode, no forward pass) without gamma or beta. */
const lacksScaleOrOffset = (l: Layer) => isNormalization(l) && (!normParts(l).gamma || !normParts(l).beta);
/** Parameter-free layers that run as their TensorFlow.js ops (inferenceNodes' translation). */
const PLAIN_OPS = new Set([
  'Multiply',
  'Concatenate',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'ZeroPadding2D',
  'Cropping2D',
  'Reshape',
  'Flatten',
  'Rescaling',
  'ReLU',
  'LeakyReLU',
]);
const IDENTITY_AT_INFERENCE = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

export function compileTrainingPlan(model: LayersModel, options: TrainingPlanOptions = {}): TrainingPlan {
  const t = tf();
  const training = options.training === true;
  const inputNames = model.inputLayers.map((l) => l.name);
  if (model.outputs.length !== 1) throw new Error(`the model has ${model.outputs.length} outputs; the training plan handles one`);
  const graph = layerGraph(model, (m) => new Error(m));
  const { byName, inputsOf, consumers, inputShapesOf } = graph;
  const outputName = model.outputLayers[0].name;
  const consumersOf = (n: string) => consumers.get(n) ?? [];
  const onlyConsumer = (n: string) => (n !== outputName && consumersOf(n).length === 1 ? byName.get(consumersOf(n)[0]) : undefined);
  const groups = activationGroups(graph, consumersOf, (n) => n === outputName);
  const groupOf = new Map<string, string>();
  for (const g of groups.values()) for (const m of g.members) groupOf.set(m, g.output);

  const owned: Tensor[] = [];
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  const rename = new Map<string, string>();
  const source = (n: string) => rename.get(n) ?? n;
  const stats: TrainingPlanStats = { blocks: 0, generic: 0, normOps: 0, layers: 0, blockLayers: 0, ops: 0, plain: {} };
  const rankOf = (n: string) => inputShapesOf.get(n)?.[0]?.length;
  const isLastAxisBatchNorm = (l: Layer) => l.getClassName() === 'BatchNormalization' && isLastAxis(normParts(l).axis, rankOf(l.name) ?? NaN);

  /** The activation right after `from` (a layer or a group of them), if it is `from`'s only reader. */
  const nextActivation = (from: string): { activation: PlanActivation; last: string; members: string[] } | undefined => {
    if (from === outputName) return undefined;
    const readers = consumersOf(from);
    const targets = new Set(readers.map((c) => groupOf.get(c) ?? c));
    if (targets.size !== 1) return undefined;
    const [target] = targets;
    const group = groups.get(target);
    if (group) return group.input === from ? { activation: group.activation, last: group.output, members: group.members } : undefined;
    const activation = readers.length === 1 && !groupOf.has(target) ? layerActivation(byName.get(target)!) : undefined;
    return activation !== undefined ? { activation, last: target, members: [target] } : undefined;
  };
  /** BatchNorm (if the next layer is one this block can take) and the activation after it. */
  const absorbTail = (from: string, withBatchNorm: boolean, ownActivation: PlanActivation) => {
    let last = from;
    let bn: Layer | null = null;
    const members: string[] = [];
    if (ownActivation !== 'linear') return { bn, activation: ownActivation, last, members };
    if (withBatchNorm) {
      const next = onlyConsumer(from);
      if (next && isLastAxisBatchNorm(next)) {
        bn = next;
        last = bn.name;
        members.push(bn.name);
      }
    }
    const act = nextActivation(last);
    if (act) members.push(...act.members);
    return { bn, activation: act?.activation ?? 'linear', last: act?.last ?? last, members };
  };
  const push = (step: Step, covered: string[], kind: 'block' | 'ops' | 'norm-ops' | 'layer') => {
    steps.push(step);
    for (const n of covered) absorbed.add(n);
    if (kind === 'block') {
      stats.blocks++;
      stats.blockLayers += covered.length;
    } else if (kind === 'ops') stats.ops += covered.length;
  };
  const convBlock = (
    layer: Layer,
    inputs: string[],
    name: string,
    at: {
      kernelIndex: number;
      biasIndex: number | null;
      reshape: number[] | null;
      depthwise: boolean;
      strides: [number, number];
      dilations: [number, number];
      pad: 'same' | 'valid';
      activation: PlanActivation;
    },
    covered: string[],
  ) => {
    const tail = absorbTail(name, true, at.activation);
    const op = convBlockOp(
      { depthwise: at.depthwise, hasBatchNorm: tail.bn !== null, activation: tail.activation, strides: at.strides, dilations: at.dilations, pad: at.pad },
      tail.bn ? (normParts(tail.bn).epsilon ?? 1e-3) : 0,
    );
    push(
      {
        kind: 'conv-block',
        name: tail.last,
        inputs,
        head: layer,
        conv: layer,
        kernelIndex: at.kernelIndex,
        biasIndex: at.biasIndex,
        reshape: at.reshape,
        depthwise: at.depthwise,
        bn: tail.bn,
        op,
      },
      [...covered, ...tail.members],
      'block',
    );
    for (const n of [name, ...tail.members]) rename.set(n, tail.last);
  };

  stats.layers = model.layers.filter((l) => !inputNames.includes(l.name)).length;
  for (const layer of model.layers) {
    const name = layer.name;
    if (inputNames.includes(name) || absorbed.has(name)) continue;
    const inputs = (inputsOf.get(name) ?? []).map(source);
    const kind = layer.getClassName();
    const c = configOf(layer);
    const rank = rankOf(name);
    const convLike = (c.padding === 'same' || c.padding === 'valid') && (c.dataFormat ?? 'channelsLast') === 'channelsLast' && rank === 4;
    const ownActivation = activationNamed(c.activation);
    const useBias = c.useBias !== false;
    const group = groups.get(name);
    if (groupOf.has(name)) {
      if (!group) continue; // an inner layer of a group: its output layer computes it
      const input = [source(group.input)];
      if (training)
        push(
          {
            kind: 'ops',
            name,
            inputs: input,
            head: layer,
            step: { name, inputs: input, covers: group.members, head: { name, className: kind }, op: 'act', act: group.activation },
          },
          group.members,
          'ops',
        );
      else push({ kind: 'act-block', name, inputs: input, head: byName.get(group.members[0])!, op: activationOp(group.activation) }, group.members, 'block');
      continue;
    }
    if (!training && (kind === 'Conv2D' || kind === 'DepthwiseConv2D') && convLike && ownActivation !== undefined) {
      const depthwise = kind === 'DepthwiseConv2D';
      convBlock(
        layer,
        inputs,
        name,
        {
          kernelIndex: 0,
          biasIndex: useBias ? 1 : null,
          reshape: null,
          depthwise,
          strides: pair(c.strides, 1),
          dilations: pair(c.dilationRate, 1),
          pad: c.padding as 'same' | 'valid',
          activation: ownActivation,
        },
        [name],
      );
      continue;
    }
    if (!training && kind === 'SeparableConv2D' && convLike && ownActivation !== undefined) {
      // The depthwise half as one op (autodiff keeps only its input), then the pointwise half as a block.
      const depthName = `${name}/depthwise`;
      steps.push({
        kind: 'depthwise',
        name: depthName,
        inputs,
        head: layer,
        layer,
        strides: pair(c.strides, 1),
        dilations: pair(c.dilationRate, 1),
        pad: c.padding as 'same' | 'valid',
      });
      convBlock(
        layer,
        [depthName],
        name,
        {
          kernelIndex: 1,
          biasIndex: useBias ? 2 : null,
          reshape: null,
          depthwise: false,
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
          activation: ownActivation,
        },
        [name],
      );
      continue;
    }
    if (!training && kind === 'Dense' && rank === 4 && ownActivation !== undefined) {
      const [cin, cout] = layer.weights[0].shape as number[];
      convBlock(
        layer,
        inputs,
        name,
        {
          kernelIndex: 0,
          biasIndex: useBias ? 1 : null,
          reshape: [1, 1, cin, cout],
          depthwise: false,
          strides: [1, 1],
          dilations: [1, 1],
          pad: 'valid',
          activation: ownActivation,
        },
        [name],
      );
      continue;
    }
    if (!training && isLastAxisBatchNorm(layer)) {
      const tail = absorbTail(name, false, 'linear');
      push(
        { kind: 'bn-block', name: tail.last, inputs, head: layer, bn: layer, op: normBlockOp(tail.activation, normParts(layer).epsilon ?? 1e-3) },
        [name, ...tail.members],
        'block',
      );
      for (const n of [name, ...tail.members]) rename.set(n, tail.last);
      continue;
    }
    if (!training && kind === 'LayerNormalization' && rank !== undefined && isLastAxis(normParts(layer).axis, rank)) {
      push({ kind: 'ln-block', name, inputs, head: layer, ln: layer, op: layerNormOp(normParts(layer).epsilon ?? 1e-3) }, [name], 'block');
      continue;
    }
    if (kind === 'Add' && inputs.length >= 2) {
      push(
        { kind: 'ops', name, inputs, head: layer, step: { name, inputs, covers: [name], head: { name, className: kind }, op: 'add', act: 'linear' } },
        [name],
        'ops',
      );
      continue;
    }
    const act = layerActivation(layer);
    if (act !== undefined) {
      if (act === 'linear') rename.set(name, inputs[0]);
      else if (training || act === 'relu' || act === 'relu6' || act === 'sigmoid' || act === 'tanh')
        push(
          { kind: 'ops', name, inputs, head: layer, step: { name, inputs, covers: [name], head: { name, className: kind }, op: 'act', act } },
          [name],
          'ops',
        );
      else push({ kind: 'act-block', name, inputs, head: layer, op: activationOp(act) }, [name], 'block');
      continue;
    }
    if (!training && IDENTITY_AT_INFERENCE.has(kind)) {
      rename.set(name, inputs[0]);
      stats.ops++;
      continue;
    }
    if (PLAIN_OPS.has(kind) || (kind === 'Activation' && c.activation === 'softmax')) {
      let translated: OpStep | null = null;
      t.tidy(() => {
        const tr = translateLayer(layer, inputs, graph);
        if (!tr || !('steps' in tr) || tr.steps.length !== 1) return;
        translated = tr.steps[0];
        for (const v of stepTensors(tr.steps)) t.keep(v);
      });
      if (translated) {
        const step: OpStep = translated;
        owned.push(...stepTensors([step]));
        push({ kind: 'ops', name, inputs, head: layer, step }, [name], 'ops');
        continue;
      }
    }
    if (lacksScaleOrOffset(layer)) {
      push({ kind: 'norm-ops', name, inputs, head: layer, layer }, [name], 'norm-ops');
      stats.normOps++;
      continue;
    }
    push({ kind: 'layer', name, inputs, head: layer, layer }, [name], 'layer');
    addByClass(stats.plain, kind, name);
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
  const scaleAndOffset = (key: string, layer: Layer, channels: number): Tensor[] => {
    const p = normParts(layer);
    return [p.gamma ? p.gamma.read() : constant(`${key}/gamma`, channels, 1), p.beta ? p.beta.read() : constant(`${key}/beta`, channels, 0)];
  };
  /** gamma, beta, mean, variance of a block's BatchNorm: the layer's own variables, constants where a part is absent. */
  const normParamsOf = (key: string, bn: Layer | null, channels: number): Tensor[] => {
    if (!bn)
      return [
        constant(`${key}/gamma`, channels, 1),
        constant(`${key}/beta`, channels, 0),
        constant(`${key}/mean`, channels, 0),
        constant(`${key}/variance`, channels, 1),
      ];
    const p = normParts(bn);
    return [...scaleAndOffset(key, bn, channels), p.movingMean!.read(), p.movingVariance!.read()];
  };
  /** The conv block's parameters as tensors. */
  const convParamsOf = (s: ConvBlock): Tensor[] => {
    const raw = s.conv.weights[s.kernelIndex].read();
    const kernel = s.reshape ? t.reshape(raw, s.reshape) : raw;
    const channels = s.depthwise ? (kernel.shape[2] as number) * (kernel.shape[3] as number) : (kernel.shape[3] as number);
    const b = s.biasIndex === null ? constant(`${s.name}/bias`, channels, 0) : s.conv.weights[s.biasIndex].read();
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
          values.set(
            s.name,
            run(
              s,
              s.inputs.map((n) => values.get(n)!),
            ),
          );
        }
      } catch (e) {
        // A failure inside TensorFlow.js names the layer it happened in.
        throw current ? inLayer(e, current.head.name, current.head.getClassName()) : e;
      }
      // Intermediates are the caller's tidy's (the tape needs them until the backward pass).
      return values.get(output)!;
    },
    dispose() {
      t.dispose(owned);
    },
  };

  function run(s: Step, ins: Tensor[]): Tensor {
    const x = ins[0];
    switch (s.kind) {
      case 'conv-block': {
        const [w, b, gamma, beta, mean, variance] = convParamsOf(s);
        return s.op(x, w, b, gamma, beta, mean, variance);
      }
      case 'bn-block': {
        const [gamma, beta, mean, variance] = normParamsOf(s.name, s.bn, x.shape[x.rank - 1] as number);
        return s.op(x, gamma, beta, mean, variance);
      }
      case 'ln-block': {
        const [gamma, beta] = scaleAndOffset(s.name, s.ln, x.shape[x.rank - 1] as number);
        return s.op(x, gamma, beta);
      }
      case 'act-block':
        return s.op(x);
      case 'depthwise':
        return t.depthwiseConv2d(x as tfTypes.Tensor4D, s.layer.weights[0].read() as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations);
      case 'ops':
        return runStep(s.step, ins, undefined);
      case 'norm-ops':
        return normalizeWithOps(s.layer, x, training);
      default:
        return s.layer.apply(ins.length === 1 ? x : ins, { training }) as Tensor;
    }
  }
}
