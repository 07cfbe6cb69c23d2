// The training subsets of a study: stratified (the same number of images from every class) and
// nested (the 10-per-class set contains the 5-per-class set), drawn from the training split
// only, so every cell of a study is evaluated on the same validation and test images.
//
// Nested per seed: each seed shuffles each class's training images once (seeded) and takes
// prefixes of that order. So within a seed, more data only ever adds images (a cell's gain is
// the data, never a luckier draw), and across seeds the draw changes too, so the spread over
// seeds includes which images a small subset happens to hold, as in a real small dataset.
import type { DatasetIndex } from './datasetIndex';
import type { DatasetItem, SplitCounts } from './datasetTypes';
import { seedFrom, seededRandom } from './random';
import type { PerClass } from './studyFile';

/** Each class's training images in the seed's order (a Fisher-Yates shuffle per class, seeded by the seed and the class name). */
export function subsetOrder(dataset: DatasetIndex, seed: number): DatasetItem[][] {
  return dataset.classes.map((name, label) => {
    const items = dataset.items.filter((item) => item.split === 'train' && item.label === label);
    const random = seededRandom(seedFrom(name, seed));
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  });
}

/** The training images a cell uses: the first `perClass` of each class in the seed's order (all of a class that has fewer). */
export function drawSubset(dataset: DatasetIndex, perClass: PerClass, seed: number): DatasetItem[] {
  return subsetOrder(dataset, seed).flatMap((items) => (perClass === 'all' ? items : items.slice(0, perClass)));
}

/** The dataset a cell trains on: its training subset, and the full validation and test splits; counts follow. */
export function restrictTraining(dataset: DatasetIndex, perClass: PerClass, seed: number): DatasetIndex {
  const train = new Set(drawSubset(dataset, perClass, seed));
  const items = dataset.items.filter((item) => item.split !== 'train' || train.has(item));
  const counts: Record<string, SplitCounts> = {};
  dataset.classes.forEach((name) => (counts[name] = { train: 0, val: 0, test: 0 }));
  for (const item of items) counts[dataset.classes[item.label]][item.split]++;
  return { ...dataset, items, counts };
}

/**
 * Sizes larger than the smallest class's training images: such a cell is not stratified (the
 * small class gives all it has). Returned so the caller can say so before anything runs.
 */
export function sizesBeyondSmallestClass(dataset: DatasetIndex, sizes: readonly PerClass[]): { smallest: number; className: string; sizes: number[] } | null {
  const perClass = dataset.classes.map((name, label) => ({
    name,
    n: dataset.items.filter((i) => i.split === 'train' && i.label === label).length,
  }));
  const least = perClass.reduce((a, b) => (b.n < a.n ? b : a), perClass[0]);
  const over = sizes.filter((s): s is number => s !== 'all' && s > least.n);
  return over.length > 0 ? { smallest: least.n, className: least.name, sizes: over } : null;
}

/** Training images a cell will have. */
export function subsetSize(dataset: DatasetIndex, perClass: PerClass): number {
  return dataset.classes.reduce((sum, _, label) => {
    const n = dataset.items.filter((i) => i.split === 'train' && i.label === label).length;
    return sum + (perClass === 'all' ? n : Math.min(n, perClass));
  }, 0);
}
