// Cuts and unfreeze points for a user's own model (a model.json or Keras file given as the
// backbone), from its layer list alone (no shapes, no TensorFlow.js): so the wizard can write
// a cutAt that leaves out the model's old classifier head, and offer real layers for an
// earlier cut and for fine-tuning. Pure: the wizard and the unit tests call it with layers.
import { backboneBlocks, type LayerRef } from './layerBlocks';

/** Layers that pool or flatten a feature map into a vector: a classifier head starts at one. */
const FLATTENING = new Set(['Flatten', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'GlobalAveragePooling1D', 'GlobalMaxPooling1D']);
/** Normalization and activation layers a head's Dense layers may carry (also engine/backbone/classifierCut.ts's). */
export const HEAD_NORMALIZATION_AND_ACTIVATIONS = ['BatchNormalization', 'LayerNormalization', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU'] as const;
/** Layers a classifier head is built from after its flattening layer. */
const HEAD = new Set<string>([
  'Dense',
  'Dropout',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'Softmax',
  'Activation',
  'Reshape',
  ...HEAD_NORMALIZATION_AND_ACTIVATIONS,
]);
/** Weightless layers that may sit between the feature map and the flattening layer. */
const BEFORE_FLATTENING = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise']);
/** Layers that end a block of a plain CNN (conv, conv, pool). */
const POOLING = new Set(['MaxPooling2D', 'AveragePooling2D', 'MaxPooling1D', 'AveragePooling1D']);

export interface LocalCut {
  /** The last feature layer: what the new head reads. */
  cutAt: string;
  /** The old head's layers, in model order, that the cut leaves out. */
  dropped: string[];
}

/**
 * The default cut of a user model: before its old classifier head, i.e. before the trailing
 * run of head layers (Dense, Dropout, Softmax, ...) that starts at a Flatten or global
 * pooling layer after the last conv/pool block. Undefined when the model has no such head
 * (a "no-top" export, or a head this cannot tell apart from the features): the run then
 * decides from the loaded model's shapes.
 */
export function defaultLocalCut(layers: readonly LayerRef[]): LocalCut | undefined {
  let i = layers.length - 1;
  let sawDense = false;
  while (i >= 0 && HEAD.has(layers[i].className ?? '')) {
    if (layers[i].className === 'Dense') sawDense = true;
    i--;
  }
  if (!sawDense || i < 0 || !FLATTENING.has(layers[i].className ?? '')) return undefined;
  i--;
  while (i >= 0 && BEFORE_FLATTENING.has(layers[i].className ?? '')) i--;
  if (i < 0 || layers[i].className === 'InputLayer') return undefined;
  return { cutAt: layers[i].name, dropped: layers.slice(i + 1).map((l) => l.name) };
}

/** A block of the features: its layers in model order (the last one is where a cut there goes). */
export interface FeatureBlock {
  name: string;
  layers: string[];
}

/**
 * The feature layers' blocks, up to and including `cutAt`: a Keras family's own blocks
 * (core/layerBlocks.ts) when the names say which family it is, else a plain CNN's, each
 * ending at a pooling layer (the layers after the last pooling layer form the last block).
 */
export function featureBlocks(layers: readonly LayerRef[], cutAt: string): FeatureBlock[] {
  const end = layers.findIndex((l) => l.name === cutAt);
  if (end < 0) return [];
  const features = layers.slice(0, end + 1);
  const known = backboneBlocks(features).stages.flatMap((s) => s.blocks.map((b) => ({ name: b.name, layers: b.layers })));
  if (known.length > 0) return known;
  const blocks: FeatureBlock[] = [];
  let current: string[] = [];
  const close = () => {
    if (current.length > 0) blocks.push({ name: `block ${blocks.length + 1}`, layers: current });
    current = [];
  };
  for (const l of features) {
    if (l.className === 'InputLayer') continue;
    current.push(l.name);
    if (POOLING.has(l.className ?? '')) close();
  }
  close();
  return blocks;
}

/** Cut and unfreeze points of a plain CNN, the way strategyAdvisor's family points are shaped. */
export interface LocalPoints {
  earlierCut: string;
  lateBlock: string;
  earlyBlock: string;
  stages: { cut: string; late: string; early: string };
}

/**
 * For a model with two or more blocks before its default cut: the end of the block before
 * the last (an earlier cut), the start of the last block (fine-tune the last block) and the
 * start of the second block (fine-tune most of it). Undefined with fewer blocks.
 */
export function localPoints(layers: readonly LayerRef[]): LocalPoints | undefined {
  const cut = defaultLocalCut(layers)?.cutAt ?? layers.at(-1)?.name;
  if (!cut) return undefined;
  const blocks = featureBlocks(layers, cut);
  if (blocks.length < 2) return undefined;
  const before = blocks[blocks.length - 2];
  const last = blocks[blocks.length - 1];
  const second = blocks[1];
  return {
    earlierCut: before.layers.at(-1)!,
    lateBlock: last.layers[0],
    earlyBlock: second.layers[0],
    stages: { cut: before.name, late: last.name, early: second.name },
  };
}

/** One layer the wizard offers for a cut or an unfreeze point. */
export interface LayerChoice {
  layer: string;
  /** "end of block 2" / "start of block_13". */
  where: string;
}

/** The layers a cut can go at (each block's last layer) and fine-tuning can start from (each block's first), before the default cut. */
export function localLayerChoices(layers: readonly LayerRef[]): { cuts: LayerChoice[]; unfreezes: LayerChoice[] } {
  const cut = defaultLocalCut(layers)?.cutAt ?? layers.at(-1)?.name;
  const blocks = cut ? featureBlocks(layers, cut) : [];
  return {
    cuts: blocks.map((b) => ({ layer: b.layers.at(-1)!, where: `end of ${b.name}` })),
    unfreezes: blocks.slice(1).map((b) => ({ layer: b.layers[0], where: `start of ${b.name}` })),
  };
}
