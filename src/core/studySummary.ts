// A study's numbers, aggregated: per strategy and data size the mean, spread and range of
// test accuracy over seeds, training time and epochs to the target; and where transfer stops
// paying off, computed from those rows (never from a threshold tuned to a result).
import type { PerClass, StudyCell, StudyGrid, StudyStrategy, StudySummary, StudySummaryRow } from './studyFile';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Sample standard deviation (n - 1), as numpy's std(ddof=1) and pandas's default; 0 for one value. */
export function sampleStd(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

/** Data sizes in ascending order, 'all' last. */
export function sortedSizes(sizes: readonly PerClass[]): PerClass[] {
  return [...new Set(sizes)].sort((a, b) => (a === 'all' ? 1 : b === 'all' ? -1 : a - b));
}

/** One row per strategy and size with at least one completed cell, in the grid's strategy order and ascending size. */
export function summaryRows(cells: readonly StudyCell[], grid: StudyGrid): StudySummaryRow[] {
  const rows: StudySummaryRow[] = [];
  for (const strategy of grid.strategies) {
    for (const perClass of sortedSizes(grid.perClass)) {
      const done = cells.filter((c) => c.strategy === strategy && c.perClass === perClass && c.status === 'completed' && c.testAccuracy !== null);
      if (done.length === 0) continue;
      const acc = done.map((c) => c.testAccuracy!);
      const reached = done.filter((c) => c.epochsToTarget !== null).map((c) => c.epochsToTarget!);
      rows.push({
        strategy,
        perClass,
        n: done.length,
        meanTestAccuracy: mean(acc),
        stdTestAccuracy: sampleStd(acc),
        minTestAccuracy: Math.min(...acc),
        maxTestAccuracy: Math.max(...acc),
        meanTrainSeconds: mean(done.map((c) => c.trainSeconds ?? 0)),
        meanEpochsToTarget: reached.length > 0 ? mean(reached) : null,
        reachedTarget: reached.length,
      });
    }
  }
  return rows;
}

const sizeWords = (s: PerClass) => (s === 'all' ? 'all images' : `${s} per class`);
const points = (x: number) => `${(x * 100).toFixed(1)} points`;

/**
 * The smallest data size from which on (that size and every larger one measured) scratch's
 * mean test accuracy is within one standard deviation (over seeds) of the best transfer
 * strategy's mean at that size, or above it. Null: transfer leads by more than its spread at
 * the largest size, or there is nothing to compare (no scratch, or no transfer rows).
 */
export function transferStopsPayingAt(rows: readonly StudySummaryRow[]): { at: PerClass | null; comparable: PerClass[] } {
  const sizes = sortedSizes(rows.map((r) => r.perClass));
  const comparable = sizes.filter((s) => rows.some((r) => r.perClass === s && r.strategy === 'scratch') && bestTransfer(rows, s));
  let at: PerClass | null = null;
  for (let i = comparable.length - 1; i >= 0; i--) {
    const size = comparable[i];
    const scratch = rows.find((r) => r.perClass === size && r.strategy === 'scratch')!;
    const best = bestTransfer(rows, size)!;
    if (scratch.meanTestAccuracy < best.meanTestAccuracy - best.stdTestAccuracy) break;
    at = size;
  }
  return { at, comparable };
}

function bestTransfer(rows: readonly StudySummaryRow[], size: PerClass): StudySummaryRow | undefined {
  return rows.filter((r) => r.perClass === size && r.strategy !== 'scratch').sort((a, b) => b.meanTestAccuracy - a.meanTestAccuracy)[0];
}

/** The sentence under the table: where transfer stops paying off, with the numbers that say so. */
export function stopsPayingSentence(rows: readonly StudySummaryRow[]): string {
  const { at, comparable } = transferStopsPayingAt(rows);
  if (comparable.length === 0) return 'Nothing to compare: the study needs completed scratch cells and transfer cells at the same data size.';
  const lead = (size: PerClass) => {
    const scratch = rows.find((r) => r.perClass === size && r.strategy === 'scratch')!;
    const best = bestTransfer(rows, size)!;
    const d = best.meanTestAccuracy - scratch.meanTestAccuracy;
    return {
      best,
      text: `${best.strategy} ${d >= 0 ? 'leads' : 'trails'} scratch by ${points(Math.abs(d))} at ${sizeWords(size)}, spread ±${points(best.stdTestAccuracy)}`,
    };
  };
  const largest = comparable[comparable.length - 1];
  if (at === null) return `Transfer pays off at every size measured: ${lead(largest).text}.`;
  if (at === comparable[0])
    return `Transfer does not pay off on this data: from ${sizeWords(at)} on, scratch is within the spread of the best transfer strategy (${lead(at).text}).`;
  const before = comparable[comparable.indexOf(at) - 1];
  return `Transfer pays off up to ${sizeWords(before)} (${lead(before).text}); from ${sizeWords(at)} on, scratch is within the spread of the best transfer strategy (${lead(at).text}).`;
}

export function summarizeStudy(cells: readonly StudyCell[], grid: StudyGrid): StudySummary | null {
  const rows = summaryRows(cells, grid);
  if (rows.length === 0) return null;
  return { rows, transferStopsPayingAt: transferStopsPayingAt(rows).at, sentence: stopsPayingSentence(rows) };
}

export type { StudyStrategy };
