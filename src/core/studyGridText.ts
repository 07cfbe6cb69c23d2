// A study's grid as typed on the command line (`--per-class 5,10,20,50,all --seeds 3
// --strategies scratch,fine-tune`), parsed with errors that say what is wrong and what to write
// instead. The defaults match the Run Study command's (5,10,20,50,all; 3 seeds).
import { closest } from './didYouMean';
import { STUDY_STRATEGIES, type PerClass, type StudyGrid, type StudyStrategy } from './studyFile';
import { sortedSizes } from './studySummary';

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const DEFAULT_STUDY_GRID: StudyGrid = { perClass: [5, 10, 20, 50, 'all'], seeds: [1, 2, 3], strategies: ['scratch', 'feature-extraction', 'fine-tune'] };

const items = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** "5,10,20,all": positive whole numbers and 'all', each once; sorted ascending, 'all' last. */
export function parsePerClass(text: string): Parsed<PerClass[]> {
  const out: PerClass[] = [];
  for (const item of items(text)) {
    const size: PerClass | null = item.toLowerCase() === 'all' ? 'all' : /^\d+$/.test(item) && Number(item) >= 1 ? Number(item) : null;
    if (size === null)
      return { ok: false, error: `--per-class: '${item}' is not a number of images per class (a whole number from 1) or 'all'; e.g. 5,10,20,all` };
    if (!out.includes(size)) out.push(size);
  }
  if (out.length === 0) return { ok: false, error: '--per-class: give at least one size, e.g. 5,10,20,all' };
  return { ok: true, value: sortedSizes(out) };
}

/** "3": three seeds, 1, 2 and 3; "7,8": exactly those seeds (train.seed of each cell). */
export function parseSeeds(text: string): Parsed<number[]> {
  const list = items(text);
  const bad = list.find((s) => !/^\d+$/.test(s) || Number(s) > 0xffffffff);
  if (list.length === 0 || bad !== undefined) {
    return { ok: false, error: `--seeds: '${bad ?? text}' is not a count of seeds (e.g. 3: seeds 1, 2, 3) or a list of seeds (e.g. 1,2,3)` };
  }
  if (list.length === 1 && !text.includes(',')) {
    const n = Number(list[0]);
    if (n < 1 || n > 100) return { ok: false, error: `--seeds: ${n} seeds; give from 1 to 100 (3 shows the spread of most small studies)` };
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
      return {
        ok: false,
        error: `--strategies: '${item}' is not a strategy${near ? ` (did you mean ${near}?)` : ''}; use any of ${STUDY_STRATEGIES.join(', ')}`,
      };
    }
    if (!out.includes(strategy)) out.push(strategy);
  }
  if (out.length === 0) return { ok: false, error: `--strategies: give at least one of ${STUDY_STRATEGIES.join(', ')}` };
  return { ok: true, value: out };
}
