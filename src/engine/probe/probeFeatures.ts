// The layer probe's one pass of the frozen base: a multi-output model over the probed
// blocks' outputs, each global-average-pooled inside the same tidy (so only [n, channels]
// per block ever leaves TensorFlow), run in batches through the run's image pipeline
// (engine/featurize.ts: decode, resize, the backbone's preprocessing) in inference mode.
import type * as tfTypes from '@tensorflow/tfjs';
import type { ResizeMode } from '../../core/preprocessing';
import type { ProbeTarget } from '../../core/probePoints';
import type { LoadedBackbone } from '../backboneLoader';
import { featurize, type FeaturizeItem } from '../featurize';
import type { FeatureTable } from '../featureTable';
import { tf } from '../tf';

export interface PooledFeatures {
  /** Per target, in order: n x channels. */
  tables: Record<'train' | 'val', FeatureTable>;
  skipped: { path: string; reason: string }[];
  cancelled: boolean;
}

const pool = (t: tfTypes.Tensor): tfTypes.Tensor => (t.rank === 4 ? t.mean([1, 2]) : t);

/** The function that maps a batch of preprocessed images to one pooled tensor per target. */
export function pooledPrefix(backbone: LoadedBackbone, targets: readonly ProbeTarget[]): (images: tfTypes.Tensor4D) => tfTypes.Tensor[] {
  const t = tf();
  if (backbone.kind === 'graph') {
    const graph = backbone.model;
    return (images) => targets.map((x) => pool(graph.execute(images, x.layer) as tfTypes.Tensor));
  }
  const model = backbone.model;
  const outputs = targets.map((x) => model.getLayer(x.layer).output as tfTypes.SymbolicTensor);
  // Shares the backbone's layers: disposing the backbone frees them; this model owns nothing.
  const multi = t.model({ inputs: model.inputs, outputs });
  return (images) => {
    const out = multi.predict(images, { batchSize: images.shape[0] });
    return (Array.isArray(out) ? out : [out]).map(pool);
  };
}

export interface PoolOptions {
  resize: ResizeMode;
  seed: number;
  batchSize?: number;
  onProgress?(split: 'train' | 'val', done: number, total: number): void;
  shouldStop?(): boolean;
}

/** Pooled features of every train and val image at every target (unaugmented, uncached: one pass, a few MB). */
export async function pooledFeatures(
  backbone: LoadedBackbone,
  targets: readonly ProbeTarget[],
  items: Record<'train' | 'val', FeaturizeItem[]>,
  opts: PoolOptions,
): Promise<PooledFeatures> {
  const prefix = pooledPrefix(backbone, targets);
  const shapes = targets.map((x) => [x.shape.at(-1)!]);
  const skipped: PooledFeatures['skipped'] = [];
  const tables = {} as Record<'train' | 'val', FeatureTable>;
  for (const split of ['train', 'val'] as const) {
    const result = await featurize(items[split], {
      inputSize: [backbone.inputShape[0], backbone.inputShape[1]],
      preprocessing: backbone.preprocessing,
      resize: opts.resize,
      prefix,
      shapes,
      views: 1,
      augment: null,
      seed: opts.seed,
      batchSize: opts.batchSize ?? 32,
      cache: null,
      memoryBudgetBytes: 2 ** 31,
      onProgress: (done, total) => opts.onProgress?.(split, done, total),
      shouldStop: opts.shouldStop,
    });
    skipped.push(...result.skipped);
    if (result.cancelled) return { tables, skipped, cancelled: true };
    tables[split] = result.table;
  }
  return { tables, skipped, cancelled: false };
}
