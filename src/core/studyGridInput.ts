// The study grid as a person types it (the Run Study command's input boxes): data sizes
// "5,10,20,50,all" and a number of seeds. Checked as they type, with what is wrong and what to
// write instead; the result is the grid study.json records.
import type { PerClass } from './studyFile';
import { sortedSizes } from './studySummary';

export const DEFAULT_PER_CLASS = '5,10,20,50,all';
export const DEFAULT_SEEDS = '3';
const MAX_SEEDS = 20;

export type GridInput<T> = { ok: true; value: T } | { ok: false; error: string };

/** "5, 10,all" -> [5, 10, 'all']: ascending, 'all' last, each size once. */
export function parsePerClassText(text: string): GridInput<PerClass[]> {
  const tokens = text
    .split(/[\s,]+/)
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  if (tokens.length === 0) return { ok: false, error: `Give at least one size, e.g. ${DEFAULT_PER_CLASS}.` };
  const sizes: PerClass[] = [];
  for (const t of tokens) {
    if (t === 'all') sizes.push('all');
    else if (/^\d+$/.test(t) && Number(t) >= 1) sizes.push(Number(t));
    else return { ok: false, error: `'${t}' is not a size: use whole numbers of images per class above 0, or 'all' (e.g. ${DEFAULT_PER_CLASS}).` };
  }
  return { ok: true, value: sortedSizes(sizes) };
}

/** "3" -> seeds [1, 2, 3]: each cell is trained once per seed. */
export function parseSeedCount(text: string): GridInput<number[]> {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_SEEDS)
    return { ok: false, error: `'${t}' is not a number of seeds: use a whole number from 1 to ${MAX_SEEDS} (3 gives a mean and a spread).` };
  return { ok: true, value: Array.from({ length: Number(t) }, (_, i) => i + 1) };
}
