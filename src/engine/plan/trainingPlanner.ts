// Which step each layer of the training plan (trainingPlan.ts) becomes: the model's layers in
// order, each taken by the first rule below that fits it, alone or as the head of a block.
//
// What is a block: a convolution -- Conv2D, DepthwiseConv2D, the pointwise half of a
// SeparableConv2D (its depthwise half runs as one plain op before it), or a Dense layer on a
// 4-D tensor (ConvNeXt's pointwise layers: a 1x1 convolution) -- channels last, 'same' or
// 'valid', with or without bias, with its own activation (any of activations.ts) ->
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
import { tf } from '../tf';
import { activationGroups, configOf, isLastAxis, pair, type ActivationGroup, type LayerConfig, type LayerGraph } from '../layerGraph';
import { activationNamed, layerActivation, type PlanActivation } from './activations';
import { activationOp, convBlockOp, layerNormOp, normBlockOp, normParts, type ConvShape } from './trainingBlocks';
import { stepTensors, translateLayer, type Step as OpStep, type StepOp } from './inferenceNodes';
import { addByClass } from './planReport';
import type { ConvBlock, PlannedSteps, TrainingPlanStats, TrainingStep } from './trainingSteps';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;
type LayersModel = tfTypes.LayersModel;

/** What the rules share while they walk the model. */
interface Planner {
  graph: LayerGraph;
  training: boolean;
  outputName: string;
  groups: Map<string, ActivationGroup>;
  /** Each member of an activation group -> the group's output layer. */
  groupOf: Map<string, string>;
  steps: TrainingStep[];
  /** Layers a step already covers (a block's tail): skipped when the walk reaches them. */
  absorbed: Set<string>;
  /** Layer -> the value that stands for its output (a block's last layer, an identity's input). */
  rename: Map<string, string>;
  stats: TrainingPlanStats;
  owned: Tensor[];
}

/** One layer as the rules read it. */
interface LayerAt {
  layer: Layer;
  name: string;
  kind: string;
  c: LayerConfig;
  inputs: string[];
  rank: number | undefined;
  /** Channels last, 'same' or 'valid', on a 4-D tensor: what a convolution block takes. */
  convLike: boolean;
  ownActivation: PlanActivation | undefined;
  useBias: boolean;
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
/** Activations TensorFlow.js runs as one op: autodiff keeps only their input, so no block is needed. */
const ONE_OP_ACTIVATIONS = new Set<PlanActivation>(['relu', 'relu6', 'sigmoid', 'tanh']);

const source = (p: Planner, n: string) => p.rename.get(n) ?? n;
const consumersOf = (p: Planner, n: string) => p.graph.consumers.get(n) ?? [];
const rankOf = (p: Planner, n: string) => p.graph.inputShapesOf.get(n)?.[0]?.length;
const isLastAxisBatchNorm = (p: Planner, l: Layer) => l.getClassName() === 'BatchNormalization' && isLastAxis(normParts(l).axis, rankOf(p, l.name) ?? NaN);
const onlyConsumer = (p: Planner, n: string) => (n !== p.outputName && consumersOf(p, n).length === 1 ? p.graph.byName.get(consumersOf(p, n)[0]) : undefined);

function layerAt(p: Planner, layer: Layer): LayerAt {
  const name = layer.name;
  const c = configOf(layer);
  const rank = rankOf(p, name);
  return {
    layer,
    name,
    kind: layer.getClassName(),
    c,
    inputs: (p.graph.inputsOf.get(name) ?? []).map((n) => source(p, n)),
    rank,
    convLike: (c.padding === 'same' || c.padding === 'valid') && (c.dataFormat ?? 'channelsLast') === 'channelsLast' && rank === 4,
    ownActivation: activationNamed(c.activation),
    useBias: c.useBias !== false,
  };
}

/** The activation right after `from` (a layer or a group of them), if it is `from`'s only reader. */
function nextActivation(p: Planner, from: string): { activation: PlanActivation; last: string; members: string[] } | undefined {
  if (from === p.outputName) return undefined;
  const readers = consumersOf(p, from);
  const targets = new Set(readers.map((c) => p.groupOf.get(c) ?? c));
  if (targets.size !== 1) return undefined;
  const [target] = targets;
  const group = p.groups.get(target);
  if (group) return group.input === from ? { activation: group.activation, last: group.output, members: group.members } : undefined;
  const activation = readers.length === 1 && !p.groupOf.has(target) ? layerActivation(p.graph.byName.get(target)!) : undefined;
  return activation !== undefined ? { activation, last: target, members: [target] } : undefined;
}

interface Tail {
  bn: Layer | null;
  activation: PlanActivation;
  /** The tail's last layer: the block's value. */
  last: string;
  members: string[];
}

/** BatchNorm (if the next layer is one this block can take) and the activation after it. */
function absorbTail(p: Planner, from: string, withBatchNorm: boolean, ownActivation: PlanActivation): Tail {
  let last = from;
  let bn: Layer | null = null;
  const members: string[] = [];
  if (ownActivation !== 'linear') return { bn, activation: ownActivation, last, members };
  if (withBatchNorm) {
    const next = onlyConsumer(p, from);
    if (next && isLastAxisBatchNorm(p, next)) {
      bn = next;
      last = bn.name;
      members.push(bn.name);
    }
  }
  const act = nextActivation(p, last);
  if (act) members.push(...act.members);
  return { bn, activation: act?.activation ?? 'linear', last: act?.last ?? last, members };
}

function push(p: Planner, step: TrainingStep, covered: string[], kind: 'block' | 'ops' | 'norm-ops' | 'layer'): void {
  p.steps.push(step);
  for (const n of covered) p.absorbed.add(n);
  if (kind === 'block') {
    p.stats.blocks++;
    p.stats.blockLayers += covered.length;
  } else if (kind === 'ops') p.stats.ops += covered.length;
}

/** A block headed by layer `name` with `tail` after it: the tail's last layer stands for all of them. */
function pushBlock(p: Planner, step: TrainingStep, name: string, tail: Tail): void {
  push(p, step, [name, ...tail.members], 'block');
  for (const n of [name, ...tail.members]) p.rename.set(n, tail.last);
}

/** A step of plain TensorFlow.js ops (inferenceNodes' kind of step) for the layer `at` and the layers it covers. */
const opsStep = (at: LayerAt, inputs: string[], covers: string[], op: StepOp): TrainingStep => ({
  kind: 'ops',
  name: at.name,
  inputs,
  head: at.layer,
  step: { name: at.name, inputs, covers, head: { name: at.name, className: at.kind }, ...op },
});

type ConvGeometry = Pick<ConvShape, 'depthwise' | 'strides' | 'dilations' | 'pad'>;
/** A 1x1 convolution: SeparableConv2D's pointwise half, Dense on a 4-D tensor. */
const POINTWISE: ConvGeometry = { depthwise: false, strides: [1, 1], dilations: [1, 1], pad: 'valid' };
const geometryOf = (c: LayerConfig, depthwise: boolean): ConvGeometry => ({
  depthwise,
  strides: pair(c.strides, 1),
  dilations: pair(c.dilationRate, 1),
  pad: c.padding as 'same' | 'valid',
});

/**
 * The convolution of layer `at` and its tail as one block. Its kernel is the layer's weight at
 * `kernelIndex` (its bias the next one, if the layer uses one), reshaped to `reshape` if not 4-D.
 */
function convBlock(
  p: Planner,
  at: LayerAt,
  inputs: string[],
  activation: PlanActivation,
  kernelIndex: number,
  reshape: number[] | null,
  g: ConvGeometry,
): void {
  const tail = absorbTail(p, at.name, true, activation);
  const op = convBlockOp({ ...g, hasBatchNorm: tail.bn !== null, activation: tail.activation }, tail.bn ? (normParts(tail.bn).epsilon ?? 1e-3) : 0);
  const biasIndex = at.useBias ? kernelIndex + 1 : null;
  const step: ConvBlock = {
    kind: 'conv-block',
    name: tail.last,
    inputs,
    head: at.layer,
    conv: at.layer,
    kernelIndex,
    biasIndex,
    reshape,
    depthwise: g.depthwise,
    bn: tail.bn,
    op,
  };
  pushBlock(p, step, at.name, tail);
}

/** Takes the layer (true) or leaves it to the next rule (false). */
type Rule = (p: Planner, at: LayerAt) => boolean;
/** Fused blocks only where BatchNorm is in inference mode. */
const inferenceMode =
  (rule: Rule): Rule =>
  (p, at) =>
    !p.training && rule(p, at);

const activationGroupStep: Rule = (p, at) => {
  if (!p.groupOf.has(at.name)) return false;
  const group = p.groups.get(at.name);
  if (!group) return true; // an inner layer of a group: its output layer computes it
  const input = [source(p, group.input)];
  if (p.training) push(p, opsStep(at, input, group.members, { op: 'act', act: group.activation }), group.members, 'ops');
  else
    push(
      p,
      { kind: 'act-block', name: at.name, inputs: input, head: p.graph.byName.get(group.members[0])!, op: activationOp(group.activation) },
      group.members,
      'block',
    );
  return true;
};

const convStep: Rule = (p, at) => {
  if ((at.kind !== 'Conv2D' && at.kind !== 'DepthwiseConv2D') || !at.convLike || at.ownActivation === undefined) return false;
  convBlock(p, at, at.inputs, at.ownActivation, 0, null, geometryOf(at.c, at.kind === 'DepthwiseConv2D'));
  return true;
};

const separableStep: Rule = (p, at) => {
  if (at.kind !== 'SeparableConv2D' || !at.convLike || at.ownActivation === undefined) return false;
  // The depthwise half as one op (autodiff keeps only its input), then the pointwise half as a block.
  const depthName = `${at.name}/depthwise`;
  const { strides, dilations, pad } = geometryOf(at.c, true);
  p.steps.push({ kind: 'depthwise', name: depthName, inputs: at.inputs, head: at.layer, layer: at.layer, strides, dilations, pad });
  convBlock(p, at, [depthName], at.ownActivation, 1, null, POINTWISE);
  return true;
};

const densePointwiseStep: Rule = (p, at) => {
  if (at.kind !== 'Dense' || at.rank !== 4 || at.ownActivation === undefined) return false;
  const [cin, cout] = at.layer.weights[0].shape as number[];
  convBlock(p, at, at.inputs, at.ownActivation, 0, [1, 1, cin, cout], POINTWISE);
  return true;
};

const batchNormStep: Rule = (p, at) => {
  if (!isLastAxisBatchNorm(p, at.layer)) return false;
  const tail = absorbTail(p, at.name, false, 'linear');
  const op = normBlockOp(tail.activation, normParts(at.layer).epsilon ?? 1e-3);
  pushBlock(p, { kind: 'bn-block', name: tail.last, inputs: at.inputs, head: at.layer, bn: at.layer, op }, at.name, tail);
  return true;
};

const layerNormStep: Rule = (p, at) => {
  if (at.kind !== 'LayerNormalization' || at.rank === undefined || !isLastAxis(normParts(at.layer).axis, at.rank)) return false;
  const op = layerNormOp(normParts(at.layer).epsilon ?? 1e-3);
  push(p, { kind: 'ln-block', name: at.name, inputs: at.inputs, head: at.layer, ln: at.layer, op }, [at.name], 'block');
  return true;
};

const addStep: Rule = (p, at) => {
  if (at.kind !== 'Add' || at.inputs.length < 2) return false;
  push(p, opsStep(at, at.inputs, [at.name], { op: 'add', act: 'linear' }), [at.name], 'ops');
  return true;
};

const activationStep: Rule = (p, at) => {
  const act = layerActivation(at.layer);
  if (act === undefined) return false;
  if (act === 'linear') p.rename.set(at.name, at.inputs[0]);
  else if (p.training || ONE_OP_ACTIVATIONS.has(act)) push(p, opsStep(at, at.inputs, [at.name], { op: 'act', act }), [at.name], 'ops');
  else push(p, { kind: 'act-block', name: at.name, inputs: at.inputs, head: at.layer, op: activationOp(act) }, [at.name], 'block');
  return true;
};

const identityStep: Rule = (p, at) => {
  if (!IDENTITY_AT_INFERENCE.has(at.kind)) return false;
  p.rename.set(at.name, at.inputs[0]);
  p.stats.ops++;
  return true;
};

/** inferenceNodes' translation of the layer when it is one step (its tensors kept past the tidy), else undefined. */
function oneOpStep(p: Planner, at: LayerAt): OpStep | undefined {
  const t = tf();
  let translated: OpStep | undefined;
  t.tidy(() => {
    const tr = translateLayer(at.layer, at.inputs, p.graph);
    if (!tr || !('steps' in tr) || tr.steps.length !== 1) return;
    translated = tr.steps[0];
    for (const v of stepTensors(tr.steps)) t.keep(v);
  });
  return translated;
}

const plainOpsStep: Rule = (p, at) => {
  if (!PLAIN_OPS.has(at.kind) && !(at.kind === 'Activation' && at.c.activation === 'softmax')) return false;
  const step = oneOpStep(p, at);
  if (!step) return false;
  p.owned.push(...stepTensors([step]));
  push(p, { kind: 'ops', name: at.name, inputs: at.inputs, head: at.layer, step }, [at.name], 'ops');
  return true;
};

const normOpsStep: Rule = (p, at) => {
  if (!lacksScaleOrOffset(at.layer)) return false;
  push(p, { kind: 'norm-ops', name: at.name, inputs: at.inputs, head: at.layer, layer: at.layer }, [at.name], 'norm-ops');
  p.stats.normOps++;
  return true;
};

const layerStep: Rule = (p, at) => {
  push(p, { kind: 'layer', name: at.name, inputs: at.inputs, head: at.layer, layer: at.layer }, [at.name], 'layer');
  addByClass(p.stats.plain, at.kind, at.name);
  p.stats.generic++;
  return true;
};

/** In order: the first rule that takes a layer makes its step. */
const RULES: Rule[] = [
  activationGroupStep,
  inferenceMode(convStep),
  inferenceMode(separableStep),
  inferenceMode(densePointwiseStep),
  inferenceMode(batchNormStep),
  inferenceMode(layerNormStep),
  addStep,
  activationStep,
  inferenceMode(identityStep),
  plainOpsStep,
  normOpsStep,
  layerStep,
];

/** The steps for `model` (one output), whose wiring `graph` is. */
export function planTrainingSteps(model: LayersModel, graph: LayerGraph, training: boolean): PlannedSteps {
  const inputNames = model.inputLayers.map((l) => l.name);
  const outputName = model.outputLayers[0].name;
  const groups = activationGroups(
    graph,
    (n) => graph.consumers.get(n) ?? [],
    (n) => n === outputName,
  );
  const groupOf = new Map<string, string>();
  for (const g of groups.values()) for (const m of g.members) groupOf.set(m, g.output);
  const stats: TrainingPlanStats = { blocks: 0, generic: 0, normOps: 0, layers: 0, blockLayers: 0, ops: 0, plain: {} };
  const p: Planner = { graph, training, outputName, groups, groupOf, steps: [], absorbed: new Set(), rename: new Map(), stats, owned: [] };
  stats.layers = model.layers.filter((l) => !inputNames.includes(l.name)).length;
  for (const layer of model.layers) {
    if (inputNames.includes(layer.name) || p.absorbed.has(layer.name)) continue;
    const at = layerAt(p, layer);
    RULES.some((rule) => rule(p, at));
  }
  return { steps: p.steps, inputNames, output: source(p, outputName), stats, owned: p.owned };
}
