// The strategy advisor: which transfer-learning strategy fits a dataset, following the four
// classic situations (small/large dataset x similar/different to the backbone's data; see
// the rules of thumb in shared/seeds/002): features of early layers are generic, late
// layers are specific to the original data; the more data, the more of the network can
// train without overfitting. Pure: the wizard and the tests call it with numbers.
import type { BackboneFamily, BackboneFormat } from './backboneCatalog';
import type { StrategySpec } from './experiment';
import { backboneBlocks, transferPoints, type LayerRef } from './layerBlocks';
import { localPoints } from './localModelCuts';

export type DataSimilarity = 'similar' | 'different';
export type DatasetSize = 'small' | 'large';
export type Situation = `${DatasetSize}-${DataSimilarity}`;

/** Below this many training images per class a dataset counts as small (fine-tuning overfits). */
export const SMALL_DATASET_PER_CLASS = 100;
/** From this many training images per class, training most of the network (or from scratch) pays off. */
export const VERY_LARGE_DATASET_PER_CLASS = 1000;

export interface AdvisorInput {
  /** Training images per class (the average over classes); undefined when unknown. */
  imagesPerClass: number | undefined;
  similarity: DataSimilarity;
  /** Graph models are frozen functions: only feature extraction works. */
  format: BackboneFormat;
  /** Known families get named layers for earlier cuts and unfreeze points. */
  family?: BackboneFamily;
  /**
   * The backbone's layers in model order (its shipped topology, or the layer table): the
   * points are then found from its stages (core/layerBlocks.ts), so ResNet152 gets
   * conv4_block36_out where ResNet50 gets conv4_block6_out.
   */
  layers?: readonly LayerRef[];
  /**
   * The user's own count, when `imagesPerClass` is a representative count of the other size
   * (allSituations): the reason then speaks of the size's range and of the user's count,
   * not of a count the user does not have.
   */
  actualImagesPerClass?: number;
}

export interface StrategyAdvice {
  situation: Situation;
  strategy: StrategySpec;
  /** An earlier layer to cut at (small + different data), when the family is known. */
  cutAt?: string;
  /** One-line summary, e.g. "Feature extraction (frozen backbone, new head)". */
  title: string;
  /** Why, in a sentence or two a user can act on. */
  reason: string;
}

interface FamilyPoints {
  earlierCut: string;
  lateBlock: string;
  earlyBlock: string;
  /** The stages they are in, for the reasons shown (when known). */
  stages?: { cut: string; late: string; early: string };
}

/**
 * Families whose catalog entries have no shipped topology to read (the TF.js-hosted
 * MobileNets, the shipped fmnist-mini): their points, fixed by the architecture. The unit
 * test checks the MobileNets' against what core/layerBlocks.ts finds in Keras's own models.
 */
export const FIXED_FAMILY_POINTS: Partial<Record<BackboneFamily, FamilyPoints>> = {
  mobilenet_v1: {
    earlierCut: 'conv_pw_11_relu',
    lateBlock: 'conv_dw_12',
    earlyBlock: 'conv_dw_2',
    stages: { cut: 'stage 4', late: 'stage 5', early: 'stage 2' },
  },
  mobilenet_v2: {
    earlierCut: 'block_13_expand_relu',
    lateBlock: 'block_13_expand',
    earlyBlock: 'block_1_expand',
    stages: { cut: 'stage 5', late: 'stage 5', early: 'stage 2' },
  },
  'fmnist-mini': { earlierCut: 'block_3_pw_relu', lateBlock: 'block_5_dw', earlyBlock: 'block_1_dw' },
};

/** Named cut and unfreeze points for the backbone, from its layers when given, else from its family. */
export function familyPoints(input: Pick<AdvisorInput, 'family' | 'layers'>): FamilyPoints | undefined {
  if (input.layers && input.layers.length > 0) {
    const blocks = backboneBlocks(input.layers);
    const points = transferPoints(input.layers, blocks);
    if (points) {
      const stageOf = new Map(input.layers.map((l, i) => [l.name, blocks.places[i].stage ?? '']));
      return { ...points, stages: { cut: stageOf.get(points.earlierCut)!, late: stageOf.get(points.lateBlock)!, early: stageOf.get(points.earlyBlock)! } };
    }
    // Not a Keras family: the fixed points only where the model has those layers.
    const fixed = input.family ? FIXED_FAMILY_POINTS[input.family] : undefined;
    const names = new Set(input.layers.map((l) => l.name));
    if (fixed && [fixed.earlierCut, fixed.lateBlock, fixed.earlyBlock].every((n) => names.has(n))) return fixed;
    // A user's own CNN: its conv/pool blocks.
    return localPoints(input.layers);
  }
  return input.family ? FIXED_FAMILY_POINTS[input.family] : undefined;
}

/** ", the end of stage conv4" / ", the start of the exit flow" / ", the end of convnext_tiny_stage_2". */
function inStage(stage: string | undefined, what: string): string {
  if (!stage) return '';
  const named = /^(stage|block) /.test(stage) || /_stage_\d+$/.test(stage) ? stage : / flow$/.test(stage) ? `the ${stage}` : `stage ${stage}`;
  return `, ${what} ${named}`;
}

export function datasetSize(imagesPerClass: number | undefined): DatasetSize {
  return imagesPerClass !== undefined && imagesPerClass >= SMALL_DATASET_PER_CLASS ? 'large' : 'small';
}

/** "about 24", or for a situation of the other size, its range ("100 or more") and a sentence with the user's own count. */
function countWords(input: AdvisorInput, size: DatasetSize): { perClass: string; yours?: string } {
  const actual = input.actualImagesPerClass;
  if (actual !== undefined && datasetSize(actual) !== size) {
    const range = size === 'large' ? `${SMALL_DATASET_PER_CLASS} or more` : `fewer than ${SMALL_DATASET_PER_CLASS}`;
    const n = Math.round(actual);
    const yours =
      size === 'large'
        ? `You have ${n} images per class; this needs ${SMALL_DATASET_PER_CLASS} or more.`
        : `You have ${n} images per class; this is for fewer than ${SMALL_DATASET_PER_CLASS}.`;
    return { perClass: range, yours };
  }
  return { perClass: input.imagesPerClass === undefined ? 'an unknown number of' : `about ${Math.round(input.imagesPerClass)}` };
}

const withYours = (yours: string | undefined, advice: StrategyAdvice): StrategyAdvice => (yours ? { ...advice, reason: `${yours} ${advice.reason}` } : advice);

/** The strategy for one situation (what the wizard shows for each of the four). */
export function adviseStrategy(input: AdvisorInput): StrategyAdvice {
  const size = datasetSize(input.imagesPerClass);
  const situation: Situation = `${size}-${input.similarity}`;
  const layers = familyPoints(input);
  const st = layers?.stages;
  const { perClass, yours } = countWords(input, size);

  if (input.format === 'graph') {
    return {
      situation,
      strategy: { kind: 'feature-extraction' },
      title: 'Feature extraction (frozen backbone, new head)',
      reason:
        'This backbone is a graph model: a frozen function with no layers to unfreeze or cut, so only a new head on its features can train. Pick a layers model (e.g. MobileNet v2) to fine-tune.',
    };
  }

  switch (situation) {
    case 'small-similar':
      return withYours(yours, {
        situation,
        strategy: { kind: 'feature-extraction' },
        title: 'Feature extraction (frozen backbone, new head)',
        reason: `With ${perClass} training images per class, training the backbone would overfit; its late features already fit data like yours, so only a new classifier trains on them.`,
      });
    case 'small-different': {
      const advice: StrategyAdvice = {
        situation,
        strategy: { kind: 'feature-extraction' },
        title: layers
          ? `Feature extraction from an earlier layer (${layers.earlierCut}${inStage(st?.cut, 'the end of')})`
          : 'Feature extraction from an earlier layer',
        reason: `With ${perClass} images per class the backbone must stay frozen, but its last layers are specific to what it was trained on; earlier layers (edges, textures, shapes) transfer better to different data.${layers ? '' : ' Set backbone.cutAt to an earlier layer (Show Layers lists them).'}`,
      };
      if (layers) advice.cutAt = layers.earlierCut;
      return withYours(yours, advice);
    }
    case 'large-similar':
      return withYours(yours, {
        situation,
        strategy: layers ? { kind: 'fine-tune', unfreezeFrom: layers.lateBlock } : { kind: 'fine-tune', unfreezeLast: 20 },
        title: layers ? `Fine-tune from a late block (${layers.lateBlock}${inStage(st?.late, 'the start of')})` : 'Fine-tune the last 20 layers',
        reason: `With ${perClass} images per class the last blocks can adapt without overfitting; the early, generic layers stay frozen and the base trains with a small learning rate.`,
      });
    case 'large-different': {
      const veryLarge = (input.imagesPerClass ?? 0) >= VERY_LARGE_DATASET_PER_CLASS;
      return withYours(yours, {
        situation,
        strategy: layers ? { kind: 'fine-tune', unfreezeFrom: layers.earlyBlock } : { kind: 'fine-tune', unfreezeLast: 100 },
        title: layers
          ? `Fine-tune most of the network (from ${layers.earlyBlock}${inStage(st?.early, 'the start of')})`
          : 'Fine-tune most of the network (last 100 layers)',
        reason: `Your data differs from the backbone's, and with ${perClass} images per class most layers can retrain; the pretrained weights are still a better start than random ones.${veryLarge ? ' With this much data, also run a scratch baseline ("strategy": { "kind": "scratch" }) to compare.' : ''}`,
      });
    }
  }
}

/** The four situations, for the wizard to explain (the recommended ones first). */
export function allSituations(input: Omit<AdvisorInput, 'similarity'>): { advice: StrategyAdvice; recommended: boolean }[] {
  const size = datasetSize(input.imagesPerClass);
  const order: [DatasetSize, DataSimilarity][] = [
    [size, 'similar'],
    [size, 'different'],
    [size === 'small' ? 'large' : 'small', 'similar'],
    [size === 'small' ? 'large' : 'small', 'different'],
  ];
  return order.map(([s, similarity]) => {
    // Advice for the other size is computed at a representative count of that size.
    const imagesPerClass = s === size ? input.imagesPerClass : s === 'small' ? SMALL_DATASET_PER_CLASS / 2 : SMALL_DATASET_PER_CLASS * 5;
    const actualImagesPerClass = s === size ? undefined : input.imagesPerClass;
    return { advice: adviseStrategy({ ...input, imagesPerClass, similarity, actualImagesPerClass }), recommended: s === size };
  });
}

export function describeSituation(situation: Situation): string {
  const [size, similarity] = situation.split('-') as [DatasetSize, DataSimilarity];
  return `${size === 'small' ? `Small dataset (< ${SMALL_DATASET_PER_CLASS}/class)` : `Large dataset (≥ ${SMALL_DATASET_PER_CLASS}/class)`}, ${similarity === 'similar' ? 'similar to' : 'different from'} the backbone's data`;
}

/** Optimizer steps a freshly initialised head needs to settle, whatever the dataset's size. */
export const TARGET_TRAINING_STEPS = 300;
/** Teachable Machine's ceiling; beyond this a tiny dataset is memorised, not learnt. */
export const MAX_SUGGESTED_EPOCHS = 50;

export interface TrainingSuggestion {
  epochs: number;
  batchSize: number;
  /** Why, for the experiment's description. */
  reason: string;
}

/**
 * Epochs and batch size for a dataset's size. Keras's defaults (10 epochs of 32) are for
 * thousands of images; on 20-100 images per class they stop after a few dozen steps with
 * the head still under-trained. Like Teachable Machine, small datasets get smaller batches
 * and more epochs, aiming at about TARGET_TRAINING_STEPS optimizer steps.
 */
export function suggestTraining(trainImages: number | undefined, defaults: { epochs: number; batchSize: number }): TrainingSuggestion {
  if (trainImages === undefined || trainImages <= 0) return { ...defaults, reason: 'the usual Keras defaults (dataset size unknown)' };
  const batchSize = trainImages < 1000 ? Math.min(16, defaults.batchSize) : defaults.batchSize;
  const stepsPerEpoch = Math.ceil(trainImages / batchSize);
  const epochs = Math.min(MAX_SUGGESTED_EPOCHS, Math.max(defaults.epochs, Math.ceil(TARGET_TRAINING_STEPS / stepsPerEpoch)));
  const reason =
    epochs === defaults.epochs && batchSize === defaults.batchSize
      ? `the usual Keras defaults suit ${trainImages} training images`
      : `${epochs} epochs of batch ${batchSize}: about ${epochs * stepsPerEpoch} steps for ${trainImages} training images`;
  return { epochs, batchSize, reason };
}
