// The run's featurizing stage: every split's images through the frozen prefix once (the
// training split also in augmented views), cached on disk by what determines the result.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { createHash } from 'node:crypto';
import type * as tfTypes from '@tensorflow/tfjs';
import { updateRun } from '../../core/runStore';
import { featurize, type FeaturizeItem } from '../featurize';
import type { FeatureTable } from '../featureTable';
import { ActivationCache } from '../activationCache';
import { InputError } from './experimentInput';
import type { PreparedModel } from './prepareModel';
import type { RunContext, RunResources } from './runContext';

/** Number of augmented views cached per training image, besides the original. */
export const AUGMENTED_VIEWS = 4;

export type SplitName = 'train' | 'val' | 'test';

/** The featurized splits, by name: only those with images. */
export type FeatureTables = Record<string, FeatureTable>;

/** Featurizes the train, val and test splits (stage 'featurizing'); null when the run was cancelled meanwhile. */
export async function featurizeSplits(ctx: RunContext, res: RunResources, model: PreparedModel): Promise<FeatureTables | null> {
  const { opts, dataset } = ctx;
  const t0 = Date.now();
  const cacheFor = activationCaches(ctx, res, model);
  const budget = opts.memoryBudgetBytes ?? Math.min(4 * 2 ** 30, os.totalmem() / 4);
  const itemsOf = (s: SplitName): FeaturizeItem[] => dataset.items.filter((i) => i.split === s).map((i) => ({ path: i.path, label: i.label }));
  const skipped = [...dataset.skipped];
  const tables: FeatureTables = {};
  ctx.stage = 'featurizing';
  for (const s of ['train', 'val', 'test'] as const) {
    const items = itemsOf(s);
    if (items.length === 0) continue;
    const withAugment = s === 'train' && ctx.experiment.data.augment !== null;
    const cache = cacheFor(withAugment);
    const result = await featurizeSplit(ctx, model, s, items, { withAugment, cache, budget });
    if (cache) {
      ctx.cacheStats.hits += cache.hits;
      ctx.cacheStats.misses += cache.misses;
    }
    skipped.push(...result.skipped);
    if (result.cancelled) return null;
    tables[s] = result.table;
  }
  assertTablesUsable(ctx, tables);
  ctx.phaseTimes.featurizeMs = Date.now() - t0;
  // The frozen prefix is done with: its plan's tensors go before training needs the memory.
  res.frozenPlan?.dispose();
  res.frozenPlan = null;
  updateRun(ctx.runDir, { skipped, cache: { dir: opts.cacheDir, ...ctx.cacheStats } });
  if (skipped.length > dataset.skipped.length)
    ctx.forward({ type: 'warning', message: `${skipped.length - dataset.skipped.length} image(s) could not be decoded and were skipped (listed in run.json)` });
  return tables;
}

function featurizeSplit(
  ctx: RunContext,
  { split, pixels, runPrefix }: PreparedModel,
  s: SplitName,
  items: FeaturizeItem[],
  { withAugment, cache, budget }: { withAugment: boolean; cache: ActivationCache | null; budget: number },
) {
  const augment = ctx.experiment.data.augment;
  return featurize(items, {
    inputSize: pixels.size,
    preprocessing: pixels.preprocessing,
    resize: pixels.resize,
    prefix: runPrefix,
    shapes: split.boundaryShapes,
    views: withAugment ? 1 + AUGMENTED_VIEWS : 1,
    augment: withAugment ? augment : null,
    seed: ctx.experiment.data.seed,
    batchSize: 32,
    cache,
    memoryBudgetBytes: budget,
    shouldStop: ctx.opts.shouldStop,
    onProgress: (done, total) =>
      ctx.forward({
        type: 'phase',
        phase: 'featurizing',
        message: `${runPrefix ? 'Running the frozen base on' : 'Decoding'} ${s} images: ${done}/${total}`,
        done,
        total,
      }),
  });
}

/** The activation cache for a split, with or without augmented views, keyed by everything that changes the features. */
function activationCaches(ctx: RunContext, res: RunResources, { backbone, split, pixels }: PreparedModel): (withAugment: boolean) => ActivationCache | null {
  const { experiment, opts } = ctx;
  const augment = experiment.data.augment;
  const cacheKey = {
    backbone: weightsDigest(backbone.model, backbone.source),
    cutAt: split.plan.cutAt,
    boundary: split.plan.boundary,
    inputSize: pixels.size,
    preprocessing: pixels.preprocessing,
    resize: pixels.resize,
    jpegDecoder: pixels.jpegDecoder,
    seed: experiment.data.seed,
    // The plan's features differ from model.predict's in the last bits: never mix them.
    frozenPath: res.frozenPlan ? 'plan' : 'predict',
  };
  const floatsPerItem = split.boundaryShapes.reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
  return (withAugment: boolean) =>
    // Scratch runs from pixels: caching decoded images is cheap, but re-initialised weights
    // change per run, so the key includes their digest and a cache entry is only reused
    // when the same weights come back (never, in practice) — skip the cache instead.
    split.plan.reinitialize ? null : new ActivationCache(opts.cacheDir, { ...cacheKey, augment: withAugment ? augment : null }, floatsPerItem);
}

function weightsDigest(model: tfTypes.LayersModel | tfTypes.GraphModel, source: string): string {
  const hash = createHash('sha256').update(source);
  const weights = 'getWeights' in model ? model.getWeights() : Object.values((model as tfTypes.GraphModel).weights).flat();
  for (const w of weights) {
    const data = w.dataSync();
    hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return hash.digest('hex');
}

function assertTablesUsable(ctx: RunContext, tables: FeatureTables): void {
  const { opts, dataset } = ctx;
  // A dataset folder that went away mid-run (moved, deleted, an unplugged disk) makes every
  // image unreadable: say that, not 'unreadable files'.
  if (!fs.existsSync(dataset.root)) {
    throw new InputError(opts.experimentFile, [
      {
        path: 'data.dir',
        message: `the dataset folder ${dataset.root} disappeared during the run (moved, deleted or on a disk that is gone)`,
        hint: 'Put the folder back (or fix data.dir) and run again; nothing of the dataset was changed.',
      },
    ]);
  }
  for (const s of Object.keys(tables))
    if (tables[s].count === 0)
      throw new InputError(opts.experimentFile, [
        { path: 'data.dir', message: `no usable image left in the ${s} split after skipping unreadable files`, hint: 'See the skipped files in run.json.' },
      ]);
}
