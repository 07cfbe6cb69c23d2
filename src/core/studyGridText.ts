// A study's grid as a person types it, the one parser for both places it is typed: the Run Study
// command's input boxes and the CLI's `--per-class 5,10,20,50,all --seeds 3 --strategies
// scratch,fine-tune`. Errors name the value, say what is wrong and what to write instead; they
// carry no field name, as each caller names the field its own way (the box's title, `--seeds:`).
import { closest } from './didYouMean';
import { STUDY_STRATEGIES, type PerClass, type StudyGrid, type StudyStrategy } from './studyFile';
import { sortedSizes } from './studySummary';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const DEFAULT_STUDY_GRID: StudyGrid = { perClass: [5, 10, 20, 50, 'all'], seeds: [1, 2, 3], strategies: ['scratch', 'feature-extraction', 'fine-tune'] };
/** The defaults as the input boxes show them. */
export const DEFAULT_PER_CLASS = DEFAULT_STUDY_GRID.perClass.join(',');
export const DEFAULT_SEEDS = String(DEFAULT_STUDY_GRID.seeds.length);
/** More seeds than this is a mistyped count far more often than a wanted study (each seed trains the whole grid again). */
export const MAX_SEED_COUNT = 20;
const MAX_SEED = 0xffffffff;

/** Commas or spaces between items: "5, 10 all" is three. */
const items = (text: string) => text.split(/[\s,]+/).filter((s) => s !== '');

/** "20, 5,all 10": positive whole numbers and 'all' (any case), each once; sorted ascending, 'all' last. */
export function parsePerClass(text: string): Parsed<PerClass[]> {
  const out: PerClass[] = [];
  for (const item of items(text)) {
    const size: PerClass | null = item.toLowerCase() === 'all' ? 'all' : /^\d+$/.test(item) && Number(item) >= 1 ? Number(item) : null;
    if (size === null)
      return {
        ok: false,
        error: `'${item}' is not a number of images per class: use whole numbers from 1, or 'all' for the whole training split (e.g. ${DEFAULT_PER_CLASS})`,
      };
    out.push(size);
  }
  if (out.length === 0) return { ok: false, error: `no size given: write at least one number of images per class, e.g. ${DEFAULT_PER_CLASS}` };
  return { ok: true, value: sortedSizes(out) };
}

/** "3": three seeds, 1, 2 and 3; "7,8": exactly those seeds (train.seed of each cell). */
export function parseSeeds(text: string): Parsed<number[]> {
  const list = items(text);
  const bad = list.find((s) => !/^\d+$/.test(s) || Number(s) > MAX_SEED);
  if (list.length === 0 || bad !== undefined) {
    const what = bad === undefined ? 'no seeds given' : `'${bad}' is not a count of seeds or a seed`;
    return { ok: false, error: `${what}: write a count (e.g. ${DEFAULT_SEEDS}: seeds 1, 2, 3) or a list of seeds, whole numbers from 0 (e.g. 1,2,3)` };
  }
  if (list.length === 1 && !/[\s,]/.test(text.trim())) {
    const n = Number(list[0]);
    if (n < 1 || n > MAX_SEED_COUNT)
      return { ok: false, error: `${n} seeds: give a count from 1 to ${MAX_SEED_COUNT} (3 gives a mean and a spread for most small studies)` };
    return { ok: true, value: Array.from({ length: n }, (_, i) => i + 1) };
  }
  return { ok: true, value: [...new Set(list.map(Number))] };
}

/** "scratch,feature-extraction,fine-tune,earlier-cut", each once, in the given order. */
export function parseStrategies(text: string): Parsed<StudyStrategy[]> {
  const out: StudyStrategy[] = [];
  for (const item of items(text)) {
    const strategy = STUDY_STRATEGIES.find((s) => s === item);
    if (!strategy) {
      const near = closest(item, STUDY_STRATEGIES);
      return { ok: false, error: `'${item}' is not a strategy${near ? ` (did you mean ${near}?)` : ''}; use any of ${STUDY_STRATEGIES.join(', ')}` };
    }
    if (!out.includes(strategy)) out.push(strategy);
  }
  if (out.length === 0) return { ok: false, error: `no strategy given: write at least one of ${STUDY_STRATEGIES.join(', ')}` };
  return { ok: true, value: out };
}
