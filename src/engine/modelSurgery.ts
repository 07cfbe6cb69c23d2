// Model surgery: cut a backbone at a layer, split it at the freeze boundary into a frozen
// prefix (run in inference mode, outside the gradient tape, cacheable) and a trainable
// suffix, and build the new classification head. Layers are shared, not copied, so the
// trained weights are in the cut base when the export model is assembled from it.
import type * as tfTypes from '@tensorflow/tfjs';
import type { HeadSpec, ResolvedExperiment } from '../core/experiment';
import { firstPartIndex } from '../core/rewrittenLayers';
import { tf } from './tf';
import { layerSeed, seedInitializers } from './seededLayers';
import { inLayer } from './stageError';

type LayersModel = tfTypes.LayersModel;
type SymbolicTensor = tfTypes.SymbolicTensor;
type Layer = tfTypes.layers.Layer;

/** A user-facing problem with a layer name: what is wrong and what to do. */
export class LayerError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FreezePlan {
  cutAt: string;
  /** Base layers that stay frozen (the prefix), in topological order. */
  frozen: string[];
  /** Base layers that train (the suffix), in topological order. */
  trainable: string[];
  /** Layers whose outputs cross from the frozen prefix into the trainable part. */
  boundary: string[];
  /** True for scratch: same architecture, fresh random weights, everything trains. */
  reinitialize: boolean;
}

export interface SplitModel {
  plan: FreezePlan;
  /** The base up to the cut; its layers hold the weights that train. Null for a graph-model base. */
  cut: LayersModel | null;
  /** Frozen part: image -> boundary activations. Null when the trainable part starts at the input. */
  prefix: LayersModel | null;
  /** Trainable base part: boundary activations -> features. Null for feature extraction. */
  suffix: LayersModel | null;
  /** New head: features -> class probabilities. */
  head: LayersModel;
  /** Shapes (without batch) of the tensors the trainable part consumes. */
  boundaryShapes: number[][];
}

function closestNames(name: string, names: string[]): string {
  const near = names.filter((n) => n.includes(name) || name.includes(n)).slice(0, 3);
  return near.length > 0 ? ` Did you mean ${near.map((n) => `'${n}'`).join(', ')}?` : '';
}

/** The base cut at `cutAt` (sharing layers with `base`). */
export function cutModel(base: LayersModel, cutAt: string): LayersModel {
  const names = base.layers.map((l) => l.name);
  if (!names.includes(cutAt)) {
    throw new LayerError(
      'backbone.cutAt',
      `backbone.cutAt: the backbone has no layer '${cutAt}'.${closestNames(cutAt, names)} Run \`transfer-lab inspect\` or open the layer tree to see the layer names.`,
    );
  }
  const layer = base.getLayer(cutAt);
  if (layer.inboundNodes.length > 1) {
    throw new LayerError(
      'backbone.cutAt',
      `backbone.cutAt: layer '${cutAt}' is used more than once in the model, so its output is ambiguous. Cut at another layer.`,
    );
  }
  const output = layer.inboundNodes[0].outputTensors;
  if (output.length !== 1) throw new LayerError('backbone.cutAt', `backbone.cutAt: layer '${cutAt}' has ${output.length} outputs; cut at a layer with one.`);
  return tf().model({ inputs: base.inputs, outputs: output[0], name: `${base.name}_cut` });
}

const isInputLayer = (l: Layer) => l.getClassName() === 'InputLayer';

export function planFreeze(cut: LayersModel, cutAt: string, strategy: ResolvedExperiment['strategy']): FreezePlan {
  const layers = cut.layers.filter((l) => !isInputLayer(l));
  const names = layers.map((l) => l.name);
  let firstTrainable: number;
  switch (strategy.kind) {
    case 'feature-extraction':
      firstTrainable = layers.length;
      break;
    case 'scratch':
      firstTrainable = 0;
      break;
    case 'fine-tune':
      if (strategy.unfreezeFrom !== undefined) {
        firstTrainable = firstPartIndex(names, strategy.unfreezeFrom);
        if (firstTrainable < 0) {
          const inFullModel = ` (the base is cut at '${cutAt}', so only layers up to it can train)`;
          throw new LayerError(
            'strategy.unfreezeFrom',
            `strategy.unfreezeFrom: no layer '${strategy.unfreezeFrom}' in the base${inFullModel}.${closestNames(strategy.unfreezeFrom, names)}`,
          );
        }
      } else {
        const count = Math.min(layers.length, Math.max(0, strategy.unfreezeLast ?? 0));
        firstTrainable = layers.length - count;
      }
      break;
  }
  const frozen = new Set(names.slice(0, firstTrainable));
  const trainable = names.slice(firstTrainable);
  const boundary = new Set<string>();
  if (trainable.length === 0) boundary.add(cutAt);
  for (const layer of layers.slice(firstTrainable)) {
    for (const inbound of layer.inboundNodes[0].inboundLayers) {
      if (frozen.has(inbound.name) || isInputLayer(inbound)) boundary.add(inbound.name);
    }
  }
  return { cutAt, frozen: [...frozen], trainable, boundary: [...boundary], reinitialize: strategy.kind === 'scratch' };
}

/** Rebuilds `cut` from its config: same architecture and layer names, fresh initial weights. */
async function freshCopy(cut: LayersModel, seed: number | undefined): Promise<LayersModel> {
  const topology = cut.toJSON(undefined, false) as tfTypes.serialization.ConfigDict;
  // Training from scratch on a small dataset moves the weights fast; with Keras's default
  // BatchNorm momentum (0.99) the moving statistics lag so far behind that inference-mode
  // predictions collapse to one class. A faster average (0.9) tracks them; the layers and
  // their shapes are unchanged.
  const layers = ((topology.config as tfTypes.serialization.ConfigDict).layers ?? []) as tfTypes.serialization.ConfigDict[];
  for (const layer of layers) {
    if (layer.class_name === 'BatchNormalization') (layer.config as tfTypes.serialization.ConfigDict).momentum = 0.9;
  }
  if (seed !== undefined) seedInitializers(layers, seed);
  return tf().models.modelFromJSON({ modelTopology: topology });
}

/**
 * Re-applies the layers of `model` after the boundary to new inputs, giving a model from
 * the boundary activations to the model's output that shares the original layers.
 */
function suffixModel(model: LayersModel, boundaryTensors: SymbolicTensor[], trainable: Set<string>): LayersModel {
  const t = tf();
  const replaced = new Map<number, SymbolicTensor>();
  const inputs = boundaryTensors.map((s, i) => {
    const input = t.input({ shape: s.shape.slice(1) as number[], name: `boundary_${i}_${s.sourceLayer.name}`, dtype: 'float32' });
    replaced.set(s.id, input);
    return input;
  });
  for (const layer of model.layers) {
    if (!trainable.has(layer.name)) continue;
    const node = layer.inboundNodes[0];
    const args = node.inputTensors.map((s) => {
      const r = replaced.get(s.id);
      if (!r) throw new Error(`model surgery: input of layer '${layer.name}' is neither frozen nor computed (${s.name})`);
      return r;
    });
    const { training: _ignored, ...callArgs } = (node.callArgs ?? {}) as Record<string, unknown>;
    let out: SymbolicTensor | SymbolicTensor[];
    try {
      out = layer.apply(args.length === 1 ? args[0] : args, callArgs) as SymbolicTensor | SymbolicTensor[];
    } catch (e) {
      throw inLayer(e, layer.name, layer.getClassName());
    }
    const outs = Array.isArray(out) ? out : [out];
    node.outputTensors.forEach((s, i) => replaced.set(s.id, outs[i]));
  }
  const output = replaced.get(model.outputs[0].id);
  if (!output) throw new Error('model surgery: the trainable part does not reach the cut layer');
  return t.model({ inputs, outputs: output, name: 'trainable_base' });
}

/** The head; `seed` (the run's train.seed) fixes its initial weights and dropout layers' seeds. */
export function buildHead(featureShape: number[], spec: Required<HeadSpec>, classes: number, seed?: number): LayersModel {
  const t = tf();
  const kernelInitializer = (name: string) => (seed === undefined ? undefined : t.initializers.glorotUniform({ seed: layerSeed(seed, name) }));
  const dropout = (name: string) => t.layers.dropout({ rate: spec.dropout, name, ...(seed === undefined ? {} : { seed: layerSeed(seed, name) }) });
  const input = t.input({ shape: featureShape, name: 'features' });
  let x: SymbolicTensor = input;
  if (featureShape.length === 3) {
    const pool =
      spec.pooling === 'max'
        ? t.layers.globalMaxPooling2d({ name: 'head_pool' })
        : spec.pooling === 'flatten'
          ? t.layers.flatten({ name: 'head_pool' })
          : t.layers.globalAveragePooling2d({ name: 'head_pool' });
    x = pool.apply(x) as SymbolicTensor;
  } else if (featureShape.length !== 1) {
    x = t.layers.flatten({ name: 'head_pool' }).apply(x) as SymbolicTensor;
  }
  spec.dense.forEach((units, i) => {
    if (spec.dropout > 0) x = dropout(`head_dropout_${i + 1}`).apply(x) as SymbolicTensor;
    const name = `head_dense_${i + 1}`;
    x = t.layers.dense({ units, activation: 'relu', name, kernelInitializer: kernelInitializer(name) }).apply(x) as SymbolicTensor;
  });
  if (spec.dropout > 0) x = dropout('head_dropout').apply(x) as SymbolicTensor;
  x = t.layers
    .dense({ units: classes, activation: 'softmax', name: 'head_predictions', kernelInitializer: kernelInitializer('head_predictions') })
    .apply(x) as SymbolicTensor;
  return t.model({ inputs: input, outputs: x, name: 'head' });
}

export async function splitModel(
  base: LayersModel,
  cutAt: string,
  strategy: ResolvedExperiment['strategy'],
  head: Required<HeadSpec>,
  classes: number,
  seed?: number,
): Promise<SplitModel> {
  let cut = cutModel(base, cutAt);
  const plan = planFreeze(cut, cutAt, strategy);
  if (plan.reinitialize) cut = await freshCopy(cut, seed);
  const frozen = new Set(plan.frozen);
  for (const layer of cut.layers) layer.trainable = !frozen.has(layer.name) && !isInputLayer(layer);

  const outputShape = cut.outputs[0].shape.slice(1) as number[];
  const headModel = buildHead(outputShape, head, classes, seed);
  const inputNames = new Set(cut.inputLayers.map((l) => l.name));
  const boundaryAtInput = plan.boundary.every((n) => inputNames.has(n));

  if (plan.trainable.length === 0) {
    return { plan, cut, prefix: cut, suffix: null, head: headModel, boundaryShapes: [outputShape] };
  }
  const boundaryTensors = plan.boundary.map((n) => cut.getLayer(n).inboundNodes[0].outputTensors[0]);
  const prefix = boundaryAtInput ? null : tf().model({ inputs: cut.inputs, outputs: boundaryTensors, name: 'frozen_base' });
  const suffix = boundaryAtInput ? cut : suffixModel(cut, boundaryTensors, new Set(plan.trainable));
  return { plan, cut, prefix, suffix, head: headModel, boundaryShapes: boundaryTensors.map((s) => s.shape.slice(1) as number[]) };
}

/**
 * A graph model (TF Hub / Kaggle feature vector) is a frozen function, not layers: the whole
 * of it is the prefix and only the head trains (feature extraction is the one strategy).
 */
export function graphModelSplit(cutAt: string, featureShape: number[], head: Required<HeadSpec>, classes: number, seed?: number): SplitModel {
  return {
    plan: { cutAt, frozen: [cutAt], trainable: [], boundary: [cutAt], reinitialize: false },
    cut: null,
    prefix: null,
    suffix: null,
    head: buildHead(featureShape, head, classes, seed),
    boundaryShapes: [featureShape],
  };
}

/** One model from image to probabilities (base + head), for export and prediction. */
export function assembleFullModel(split: SplitModel, name: string): LayersModel {
  const t = tf();
  if (!split.cut) throw new Error('a graph-model base is exported beside its head, not merged into one layers model');
  let x = split.cut.outputs[0];
  for (const layer of split.head.layers) {
    if (isInputLayer(layer)) continue;
    x = layer.apply(x) as SymbolicTensor;
  }
  return t.model({ inputs: split.cut.inputs, outputs: x, name });
}
