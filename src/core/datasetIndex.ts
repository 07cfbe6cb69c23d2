// A dataset folder -> the list of labelled images and which split each belongs to.
//
// Two layouts: folder per class (`cats/`, `dogs/`), split here deterministically, or
// already split (`train/`, `val/` or `validation/`, `test/`, each with class folders).
// Indexing reads names and sizes only; decoding (and its failures) is the engine's.
// Everything that would make training meaningless is an error before training starts,
// each naming the folder or class and what to do. Creating datasets and writing split
// folders on disk is core/datasetScaffold.ts's.
import * as path from 'node:path';
import type { InputProblem, Validated } from './experiment';
import { seededRandom, seedFrom } from './random';
import { byCodePoint, collectImages, IMAGE_EXTENSIONS, isImageFile, listFolder, preview, splitOfFolder, statOrError } from './datasetFolders';

export { SPLIT_NAMES, type DatasetItem, type SkippedFile, type SplitCounts, type SplitName } from './datasetTypes';
import { SPLIT_NAMES, type DatasetItem, type SkippedFile, type SplitCounts, type SplitName } from './datasetTypes';
export { IMAGE_EXTENSIONS, isImageFile } from './datasetFolders';

export interface DatasetIndex {
  root: string;
  layout: 'folders' | 'presplit';
  /** Class names (folder names), sorted by code point; a label is an index into this. */
  classes: string[];
  /** Sorted by class, then path. */
  items: DatasetItem[];
  skipped: SkippedFile[];
  counts: Record<string, SplitCounts>;
  /** Largest over smallest class (all splits); present with two or more classes. */
  imbalance?: { ratio: number; largest: string; smallest: string };
}

export interface IndexOptions {
  /** Fractions held out per class (ignored by the pre-split layout). */
  split: { val: number; test: number };
  seed: number;
}

/** Imbalance (largest / smallest class) above which indexing warns. */
export const IMBALANCE_WARNING_RATIO = 3;

/** class -> split -> image paths */
type Found = Map<string, Record<SplitName, string[]>>;

/** What the walk of a dataset folder found, and the problems so far (errors here do not stop the checks that follow). */
interface Scan {
  root: string;
  layout: DatasetIndex['layout'];
  found: Found;
  skipped: SkippedFile[];
  errors: InputProblem[];
  warnings: InputProblem[];
}

const problem = (message: string, hint: string, at = 'data.dir'): InputProblem => ({ path: at, message, hint });
const failed = (errors: InputProblem[]): Validated<DatasetIndex> => ({ ok: false, errors });

/** Indexes a dataset folder and assigns every image a split. Never throws for bad input. */
export function indexDataset(dir: string, opts: IndexOptions): Validated<DatasetIndex> {
  const root = path.resolve(dir);
  const rootProblem = checkRoot(root);
  if (rootProblem) return failed([rootProblem]);
  const scan = scanLayout(root);
  if (Array.isArray(scan)) return failed(scan);
  const classes = checkClasses(scan);
  if (scan.errors.length > 0) return failed(scan.errors);
  const { items, counts, tooFewToHoldOut } = assignItems(scan, classes, opts);
  if (scan.layout === 'folders') {
    checkHoldOut(scan, classes, counts, opts, tooFewToHoldOut);
    if (scan.errors.length > 0) return failed(scan.errors);
  }
  const index: DatasetIndex = { root, layout: scan.layout, classes, items, skipped: scan.skipped, counts };
  const imbalance = imbalanceOf(classes, counts, scan.warnings);
  if (imbalance) index.imbalance = imbalance;
  return { ok: true, value: index, warnings: scan.warnings };
}

function checkRoot(root: string): InputProblem | undefined {
  const rootStat = statOrError(root);
  if ('error' in rootStat) {
    return rootStat.error === 'ENOENT'
      ? problem(
          `the dataset folder ${root} does not exist`,
          "Check data.dir (a relative path is resolved against the experiment file's folder), or create the folder with Transfer Lab: Scaffold Dataset.",
        )
      : problem(`cannot read the dataset folder ${root} (${rootStat.error})`, 'Check that the folder exists and is readable.');
  }
  if (!rootStat.stat.isDirectory()) return problem(`${root} is a file, not a folder`, 'Set data.dir to the folder that holds one subfolder per class.');
  return undefined;
}

/** Which layout the top folder has, and the images of each class; problems that leave nothing to check further come back alone. */
function scanLayout(root: string): Scan | InputProblem[] {
  const top = listFolder(root);
  if ('error' in top) return [problem(`cannot list the dataset folder ${root} (${top.error})`, 'Check the folder permissions.')];
  const skipped: SkippedFile[] = [];
  for (const f of top.files) if (isImageFile(f)) skipped.push({ path: path.join(root, f), reason: 'not inside a class folder' });

  const splitDirs = top.dirs.filter((d) => splitOfFolder(d) !== undefined);
  const classDirs = top.dirs.filter((d) => splitOfFolder(d) === undefined);
  if (splitDirs.length > 0 && classDirs.length > 0) {
    return [
      problem(
        `${root} mixes split folders (${splitDirs.map((d) => `${d}/`).join(', ')}) with class folders (${preview(classDirs.map((d) => `${d}/`))})`,
        `Use one layout: move the class folders into ${splitDirs[0]}/ (and val/, test/), or move the classes out of ${splitDirs.join('/, ')}/ for a folder-per-class dataset that Transfer Lab splits itself.`,
      ),
    ];
  }
  const scan: Scan = { root, layout: splitDirs.length > 0 ? 'presplit' : 'folders', found: new Map(), skipped, errors: [], warnings: [] };
  const fatal = scan.layout === 'presplit' ? scanSplitFolders(scan, splitDirs) : scanClassFolders(scan, classDirs);
  return fatal ?? scan;
}

function slotOf(found: Found, cls: string): Record<SplitName, string[]> {
  let s = found.get(cls);
  if (!s) found.set(cls, (s = { train: [], val: [], test: [] }));
  return s;
}

function scanClassFolders(scan: Scan, classDirs: string[]): InputProblem[] | undefined {
  const { root, skipped } = scan;
  if (classDirs.length === 0) {
    const loose = skipped.length;
    return [
      problem(
        `${root} has no class folders${loose ? ` (${loose} image${loose === 1 ? ' is' : 's are'} directly in it)` : ''}`,
        "Put each class's images in its own subfolder, e.g. cats/ and dogs/; the folder names are the class names.",
      ),
    ];
  }
  for (const cls of classDirs) slotOf(scan.found, cls).train.push(...collectImages(path.join(root, cls), skipped));
  return undefined;
}

function scanSplitFolders(scan: Scan, splitDirs: string[]): InputProblem[] | undefined {
  const { root, skipped, found } = scan;
  const bySplit = splitFolderNames(root, splitDirs);
  if (Array.isArray(bySplit)) return bySplit;
  for (const split of SPLIT_NAMES) {
    const name = bySplit.get(split);
    if (!name) continue;
    const splitRoot = path.join(root, name);
    const listing = listFolder(splitRoot);
    if ('error' in listing) {
      scan.errors.push(problem(`cannot list ${splitRoot} (${listing.error})`, 'Check the folder permissions.'));
      continue;
    }
    for (const f of listing.files) if (isImageFile(f)) skipped.push({ path: path.join(splitRoot, f), reason: `not inside a class folder of ${name}/` });
    for (const cls of listing.dirs) slotOf(found, cls)[split].push(...collectImages(path.join(splitRoot, cls), skipped));
  }
  if (scan.errors.length > 0) return scan.errors;
  if (found.size === 0) {
    return [
      problem(
        `${path.join(root, bySplit.get('train')!)} has no class folders`,
        `Put each class's images in its own subfolder, e.g. ${bySplit.get('train')}/cats/ and ${bySplit.get('train')}/dogs/.`,
      ),
    ];
  }
  checkSplitsFilled(scan, bySplit);
  return undefined;
}

/** Split -> its folder's name (val/ or validation/); two folders for one split, or no train/, is a problem. */
function splitFolderNames(root: string, splitDirs: string[]): Map<SplitName, string> | InputProblem[] {
  const bySplit = new Map<SplitName, string>();
  for (const d of splitDirs) {
    const s = splitOfFolder(d)!;
    const other = bySplit.get(s);
    if (other) return [problem(`${root} has both ${other}/ and ${d}/, which are the same split`, `Merge them into one folder (val/ or validation/).`)];
    bySplit.set(s, d);
  }
  if (!bySplit.has('train')) {
    return [
      problem(
        `${root} has ${SPLIT_NAMES.filter((x) => bySplit.has(x))
          .map((x) => `${bySplit.get(x)}/`)
          .join(' and ')} but no train/ folder`,
        'Add a train/ folder with one subfolder per class, or put the class folders directly in the dataset folder to let Transfer Lab split them.',
      ),
    ];
  }
  return bySplit;
}

/** A val/ or test/ folder without images is an error; no val/ at all is a warning. */
function checkSplitsFilled(scan: Scan, bySplit: Map<SplitName, string>): void {
  for (const split of ['val', 'test'] as const) {
    const name = bySplit.get(split);
    if (name && [...scan.found.values()].every((s) => s[split].length === 0)) {
      scan.errors.push(
        problem(
          `the ${split} split is empty: ${path.join(scan.root, name)} has no usable image`,
          `Put images in its class folders (${name}/<class>/), or remove the ${name}/ folder.`,
        ),
      );
    }
  }
  if (!bySplit.has('val')) {
    scan.warnings.push(
      problem(
        `there is no val/ folder, so early stopping and the best checkpoint use the ${bySplit.has('test') ? 'test' : 'training'} images`,
        'Add a val/ folder with the same class folders for an honest validation score.',
      ),
    );
  }
}

/** The class names, sorted; a class without images (or, pre-split, without training images) and a lone class are errors. */
function checkClasses(scan: Scan): string[] {
  const { root, layout, found, skipped, errors } = scan;
  const classes = [...found.keys()].sort(byCodePoint);
  const classFolder = (cls: string) => (layout === 'folders' ? path.join(root, cls) : `${cls}/ in ${root}`);
  for (const cls of classes) {
    const s = found.get(cls)!;
    const total = s.train.length + s.val.length + s.test.length;
    const skippedHere = skipped.filter((f) => isInside(f.path, layout === 'folders' ? path.join(root, cls) : undefined, cls)).length;
    if (total === 0) {
      errors.push(
        problem(
          `class '${cls}' (${classFolder(cls)}) has no usable image${skippedHere ? ` (${skippedHere} file${skippedHere === 1 ? '' : 's'} skipped)` : ''}`,
          `Add ${IMAGE_EXTENSIONS.slice(0, 3).join('/')}/... images to it, or remove the folder.`,
        ),
      );
    } else if (layout === 'presplit' && s.train.length === 0) {
      errors.push(
        problem(
          `class '${cls}' has images in ${SPLIT_NAMES.filter((x) => s[x].length > 0).join('/')} but none in train/, so the model could never learn it`,
          `Add images to train/${cls}/, or remove the class's folders.`,
        ),
      );
    }
  }
  if (classes.length === 1) {
    errors.push(
      problem(
        `${root} has only one class ('${classes[0]}'); a classifier needs at least two`,
        'Add a folder for each other class, e.g. one for images that are not this class.',
      ),
    );
  }
  return classes;
}

/**
 * Assigns splits. Folder-per-class: per class, sort the paths (directory order differs
 * between machines), shuffle with a stream seeded by the seed and the class name (so
 * adding a class does not reshuffle the others), hold out round(n * fraction), and
 * always keep at least one training image.
 */
function assignItems(scan: Scan, classes: string[], opts: IndexOptions) {
  const items: DatasetItem[] = [];
  const counts: Record<string, SplitCounts> = {};
  const tooFewToHoldOut: string[] = [];
  const folders = scan.layout === 'folders';
  classes.forEach((cls, label) => {
    const s = scan.found.get(cls)!;
    const assigned: Record<SplitName, string[]> = folders ? assignSplits(s.train, opts.split, seedFrom(cls, opts.seed)) : s;
    if (folders && assigned.val.length + assigned.test.length === 0 && opts.split.val + opts.split.test > 0) tooFewToHoldOut.push(cls);
    counts[cls] = { train: assigned.train.length, val: assigned.val.length, test: assigned.test.length };
    const classItems: DatasetItem[] = [];
    for (const split of SPLIT_NAMES) for (const p of assigned[split]) classItems.push({ path: p, label, split });
    classItems.sort((a, b) => byCodePoint(a.path, b.path));
    items.push(...classItems);
  });
  return { items, counts, tooFewToHoldOut };
}

/** Folder-per-class: a held-out split that rounds to nothing is an error; classes too small to hold any out are a warning. */
function checkHoldOut(scan: Scan, classes: string[], counts: Record<string, SplitCounts>, opts: IndexOptions, tooFewToHoldOut: string[]): void {
  for (const split of ['val', 'test'] as const) {
    const fraction = opts.split[split];
    if (fraction > 0 && classes.every((c) => counts[c][split] === 0)) {
      const largest = Math.max(...classes.map((c) => counts[c].train + counts[c].val + counts[c].test));
      const needed = imagesNeededFor(split, opts.split);
      scan.errors.push(
        problem(
          `the ${split} split is empty: ${fraction} of each class rounds to 0 images (the largest class has ${largest})`,
          `Add images (${needed === undefined ? 'more' : `at least ${needed}`} per class for ${split} ${fraction}), or set data.split.${split} to 0${split === 'val' ? ' (validation then uses the test or training images)' : ' (evaluation then uses the validation images)'}.`,
          `data.split.${split}`,
        ),
      );
    }
  }
  if (tooFewToHoldOut.length > 0) {
    const one = tooFewToHoldOut.length === 1;
    scan.warnings.push(
      problem(
        `${one ? 'class' : 'classes'} ${quoteList(tooFewToHoldOut)} ${one ? 'has' : 'have'} too few images to hold any out, so validation and test cannot measure ${one ? 'it' : 'them'}`,
        'Add images to these classes (5 or more each).',
      ),
    );
  }
}

/** Largest over smallest class, with a warning (added to `warnings`) above IMBALANCE_WARNING_RATIO; undefined with fewer than two classes. */
function imbalanceOf(classes: string[], counts: Record<string, SplitCounts>, warnings: InputProblem[]): DatasetIndex['imbalance'] {
  const totals = classes.map((c) => ({ c, n: counts[c].train + counts[c].val + counts[c].test }));
  if (totals.length < 2) return undefined;
  const largest = totals.reduce((a, b) => (b.n > a.n ? b : a));
  const smallest = totals.reduce((a, b) => (b.n < a.n ? b : a));
  const imbalance = { ratio: largest.n / smallest.n, largest: largest.c, smallest: smallest.c };
  if (imbalance.ratio > IMBALANCE_WARNING_RATIO) {
    const small = totals.filter((t) => t.n * IMBALANCE_WARNING_RATIO < largest.n).map((t) => `'${t.c}' (${t.n})`);
    warnings.push(
      problem(
        `classes are imbalanced: '${largest.c}' has ${largest.n} images, ${imbalance.ratio.toFixed(1)}x the ${smallest.n} of '${smallest.c}'; classes with less than a third of the largest: ${preview(small, 10)}`,
        `Add images to the smaller classes, or expect the model to favour '${largest.c}'; per-class recall in the evaluation shows the effect.`,
      ),
    );
  }
  return imbalance;
}

/** Per-class split of sorted-then-shuffled paths; at least one image stays in train. */
function assignSplits(paths: string[], fractions: { val: number; test: number }, seed: number): Record<SplitName, string[]> {
  const shuffled = [...paths].sort(byCodePoint);
  const random = seededRandom(seed);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const { val, test } = holdOutCounts(shuffled.length, fractions);
  return { test: shuffled.slice(0, test), val: shuffled.slice(test, test + val), train: shuffled.slice(test + val) };
}

/** How many of n images go to val and test: round(n * fraction), leaving at least one for training. */
export function holdOutCounts(n: number, fractions: { val: number; test: number }): { val: number; test: number } {
  let val = Math.round(n * fractions.val);
  let test = Math.round(n * fractions.test);
  // Too many held out: shrink the larger share; on a tie keep validation (it drives early
  // stopping and the checkpoint).
  while (n > 0 && val + test > n - 1) {
    if (test >= val && test > 0) test--;
    else val--;
  }
  return n > 0 ? { val, test } : { val: 0, test: 0 };
}

function imagesNeededFor(split: 'val' | 'test', fractions: { val: number; test: number }): number | undefined {
  for (let n = 2; n <= 1000; n++) if (holdOutCounts(n, fractions)[split] > 0) return n;
  return undefined;
}

function isInside(file: string, dir: string | undefined, cls: string): boolean {
  if (dir) return file.startsWith(dir + path.sep);
  return file.split(path.sep).includes(cls);
}

const quoteList = (names: string[]): string =>
  preview(
    names.map((n) => `'${n}'`),
    10,
  );
