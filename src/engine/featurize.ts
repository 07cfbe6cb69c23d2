// Images -> inputs of the trainable part (a FeatureTable): decode, augment per view,
// preprocess, run the frozen prefix in inference mode outside any gradient tape, and
// cache the result per image and view.
import * as fs from 'node:fs/promises';
import type * as tfTypes from '@tensorflow/tfjs';
import type { AugmentSpec } from '../core/experiment';
import { preprocessPixels, type PixelTransform } from '../core/preprocessing';
import { seedFrom, seededRandom } from '../core/random';
import { ActivationCache, hashFileContent } from './activationCache';
import { augmentRgb } from './augment';
import { allocateTable, sizeOf, tableBytes, type FeatureTable } from './featureTable';
import { decodeImageBytes, ImageDecodeError, type ResizeMode } from './imageDecode';
import { tf } from './tf';

export interface FeaturizeItem {
  path: string;
  label: number;
}

export interface FeaturizeOptions {
  inputSize: [number, number];
  /** Keras's preprocess_input mode as an affine map, applied after resize and augmentation. */
  preprocessing: PixelTransform;
  resize: ResizeMode;
  /** The frozen prefix: preprocessed images [n,h,w,3] -> boundary activations. Null: identity. */
  prefix: ((images: tfTypes.Tensor4D) => tfTypes.Tensor[]) | null;
  shapes: number[][];
  views: number;
  augment: Required<AugmentSpec> | null;
  seed: number;
  batchSize: number;
  cache: ActivationCache | null;
  memoryBudgetBytes: number;
  onProgress?(done: number, total: number): void;
  shouldStop?(): boolean;
}

export interface FeaturizeResult {
  table: FeatureTable;
  skipped: { path: string; reason: string }[];
  cancelled: boolean;
}

export class MemoryBudgetError extends Error {}

type Skipped = { path: string; reason: string };

/** An image of a chunk: its content hash, its views (those in the cache, then all), and its decoded pixels when a view was missing. */
interface LoadedImage {
  item: FeaturizeItem;
  hash: string;
  views: (Float32Array | undefined)[];
  pixels: Uint8Array | Float32Array | null;
}

export async function featurize(items: FeaturizeItem[], opts: FeaturizeOptions): Promise<FeaturizeResult> {
  checkMemoryBudget(items.length, opts);
  const t = tf();
  const rows: { item: FeaturizeItem; views: Float32Array[] }[] = [];
  const skipped: Skipped[] = [];
  let cancelled = false;

  for (let start = 0; start < items.length; start += opts.batchSize) {
    if (opts.shouldStop?.()) {
      cancelled = true;
      break;
    }
    const chunk = items.slice(start, start + opts.batchSize);
    const ok = await loadChunk(chunk, opts, skipped);
    // Compute the missing views, one prefix batch per view.
    for (let v = 0; v < opts.views; v++) computeMissingView(t, ok, v, opts);
    for (const r of ok) rows.push({ item: r.item, views: r.views as Float32Array[] });
    opts.onProgress?.(Math.min(items.length, start + chunk.length), items.length);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { table: tableOf(rows, opts), skipped, cancelled };
}

function checkMemoryBudget(count: number, opts: FeaturizeOptions): void {
  const needed = tableBytes(count, opts.views, opts.shapes);
  if (needed > opts.memoryBudgetBytes) {
    const gb = (b: number) => (b / 2 ** 30).toFixed(1);
    throw new MemoryBudgetError(
      `the trainable part's inputs for ${count} images x ${opts.views} view(s) need ${gb(needed)} GB, over the ${gb(opts.memoryBudgetBytes)} GB budget. ` +
        'Unfreeze from a later layer (smaller activations), use fewer augmented views, or fewer images.',
    );
  }
}

/** Reads and hashes every file of the chunk; decodes only those with an uncached view. Unreadable ones go to `skipped`. */
async function loadChunk(chunk: FeaturizeItem[], opts: FeaturizeOptions, skipped: Skipped[]): Promise<LoadedImage[]> {
  const [h, w] = opts.inputSize;
  const loaded = await Promise.all(
    chunk.map(async (item) => {
      try {
        const bytes = await fs.readFile(item.path);
        const hash = hashFileContent(bytes);
        const views: (Float32Array | undefined)[] = [];
        for (let v = 0; v < opts.views; v++) views.push(opts.cache?.get(hash, v));
        const pixels = views.some((x) => !x) ? (await decodeImageBytes(bytes, item.path, { height: h, width: w, resize: opts.resize })).pixels : null;
        return { item, hash, views, pixels };
      } catch (e) {
        const reason = e instanceof ImageDecodeError ? e.reason : `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
        skipped.push({ path: item.path, reason });
        return null;
      }
    }),
  );
  return loaded.filter((x): x is NonNullable<typeof x> => x !== null);
}

/** View `v` of the images that lack it: augment, preprocess, run the prefix as one batch, and cache each image's floats. */
function computeMissingView(t: ReturnType<typeof tf>, ok: LoadedImage[], v: number, opts: FeaturizeOptions): void {
  const [h, w] = opts.inputSize;
  const perItem = opts.shapes.reduce((s, shape) => s + sizeOf(shape), 0);
  const missing = ok.filter((r) => !r.views[v]);
  if (missing.length === 0) return;
  const input = new Float32Array(missing.length * h * w * 3);
  missing.forEach((r, i) => {
    const pixels = v === 0 || !opts.augment ? r.pixels! : augmentRgb(r.pixels!, h, w, opts.augment, seededRandom(seedFrom(r.hash, opts.seed * 1000 + v)));
    preprocessPixels(pixels, opts.preprocessing, input.subarray(i * h * w * 3, (i + 1) * h * w * 3));
  });
  const outputs = t.tidy(() => {
    const images = t.tensor4d(input, [missing.length, h, w, 3]);
    return opts.prefix ? opts.prefix(images) : [images];
  });
  const arrays = outputs.map((o) => o.dataSync() as Float32Array);
  t.dispose(outputs);
  missing.forEach((r, i) => {
    const floats = new Float32Array(perItem);
    let offset = 0;
    opts.shapes.forEach((shape, b) => {
      const size = sizeOf(shape);
      floats.set(arrays[b].subarray(i * size, (i + 1) * size), offset);
      offset += size;
    });
    r.views[v] = floats;
    opts.cache?.put(r.hash, v, floats);
  });
}

/** The rows, in order, as one table: per view, per boundary tensor, one contiguous array. */
function tableOf(rows: { item: FeaturizeItem; views: Float32Array[] }[], opts: FeaturizeOptions): FeatureTable {
  const table = allocateTable(
    rows.length,
    opts.views,
    opts.shapes,
    Int32Array.from(rows, (r) => r.item.label),
    rows.map((r) => r.item.path),
  );
  rows.forEach((r, i) => {
    for (let v = 0; v < opts.views; v++) {
      let offset = 0;
      opts.shapes.forEach((shape, b) => {
        const size = sizeOf(shape);
        table.data[v][b].set(r.views[v].subarray(offset, offset + size), i * size);
        offset += size;
      });
    }
  });
  return table;
}
