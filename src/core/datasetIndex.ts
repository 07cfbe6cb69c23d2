// A dataset folder -> the list of labelled images and which split each belongs to.
//
// Two layouts: folder per class (`cats/`, `dogs/`), split here deterministically, or
// already split (`train/`, `val/` or `validation/`, `test/`, each with class folders).
// Indexing reads names and sizes only; decoding (and its failures) is the engine's.
// Everything that would make training meaningless is an error before training starts,
// each naming the folder or class and what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputProblem, Validated } from './experiment';
import { seededRandom, seedFrom } from './random';

export { SPLIT_NAMES, type DatasetItem, type SkippedFile, type SplitCounts, type SplitName } from './datasetTypes';
import { SPLIT_NAMES, type DatasetItem, type SkippedFile, type SplitCounts, type SplitName } from './datasetTypes';

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

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'];
/** Imbalance (largest / smallest class) above which indexing warns. */
export const IMBALANCE_WARNING_RATIO = 3;

/** Folder names of the pre-split layout (case-insensitive) -> split. */
const SPLIT_FOLDERS: Readonly<Record<string, SplitName>> = { train: 'train', val: 'val', validation: 'val', test: 'test' };
const README = 'README.md';
const README_MARKER = '<!-- written by Transfer Lab; it rewrites this file when it scaffolds or splits the dataset -->';

export const isImageFile = (name: string): boolean => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
const isHidden = (name: string): boolean => name.startsWith('.');
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const splitOfFolder = (name: string): SplitName | undefined => SPLIT_FOLDERS[name.toLowerCase()];
const EXTENSION_LIST = IMAGE_EXTENSIONS.join(', ');

/** Indexes a dataset folder and assigns every image a split. Never throws for bad input. */
export function indexDataset(dir: string, opts: IndexOptions): Validated<DatasetIndex> {
  const root = path.resolve(dir);
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  const fail = (message: string, hint: string, at = 'data.dir'): Validated<DatasetIndex> => ({ ok: false, errors: [{ path: at, message, hint }] });

  const rootStat = statOrError(root);
  if ('error' in rootStat) {
    return rootStat.error === 'ENOENT'
      ? fail(
          `the dataset folder ${root} does not exist`,
          "Check data.dir (a relative path is resolved against the experiment file's folder), or create the folder with Transfer Lab: Scaffold Dataset.",
        )
      : fail(`cannot read the dataset folder ${root} (${rootStat.error})`, 'Check that the folder exists and is readable.');
  }
  if (!rootStat.stat.isDirectory()) return fail(`${root} is a file, not a folder`, 'Set data.dir to the folder that holds one subfolder per class.');

  const top = listFolder(root);
  if ('error' in top) return fail(`cannot list the dataset folder ${root} (${top.error})`, 'Check the folder permissions.');
  const skipped: SkippedFile[] = [];
  for (const f of top.files) if (isImageFile(f)) skipped.push({ path: path.join(root, f), reason: 'not inside a class folder' });

  const splitDirs = top.dirs.filter((d) => splitOfFolder(d) !== undefined);
  const classDirs = top.dirs.filter((d) => splitOfFolder(d) === undefined);
  let layout: DatasetIndex['layout'];
  // class -> split -> image paths
  const found = new Map<string, Record<SplitName, string[]>>();
  const slot = (cls: string) => {
    let s = found.get(cls);
    if (!s) found.set(cls, (s = { train: [], val: [], test: [] }));
    return s;
  };

  if (splitDirs.length > 0 && classDirs.length > 0) {
    return fail(
      `${root} mixes split folders (${splitDirs.map((d) => `${d}/`).join(', ')}) with class folders (${preview(classDirs.map((d) => `${d}/`))})`,
      `Use one layout: move the class folders into ${splitDirs[0]}/ (and val/, test/), or move the classes out of ${splitDirs.join('/, ')}/ for a folder-per-class dataset that Transfer Lab splits itself.`,
    );
  }
  if (splitDirs.length > 0) {
    layout = 'presplit';
    const bySplit = new Map<SplitName, string>();
    for (const d of splitDirs) {
      const s = splitOfFolder(d)!;
      const other = bySplit.get(s);
      if (other) {
        return fail(`${root} has both ${other}/ and ${d}/, which are the same split`, `Merge them into one folder (val/ or validation/).`);
      }
      bySplit.set(s, d);
    }
    if (!bySplit.has('train')) {
      return fail(
        `${root} has ${SPLIT_NAMES.filter((x) => bySplit.has(x))
          .map((x) => `${bySplit.get(x)}/`)
          .join(' and ')} but no train/ folder`,
        'Add a train/ folder with one subfolder per class, or put the class folders directly in the dataset folder to let Transfer Lab split them.',
      );
    }
    for (const split of SPLIT_NAMES) {
      const name = bySplit.get(split);
      if (!name) continue;
      const splitRoot = path.join(root, name);
      const listing = listFolder(splitRoot);
      if ('error' in listing) {
        errors.push({ path: 'data.dir', message: `cannot list ${splitRoot} (${listing.error})`, hint: 'Check the folder permissions.' });
        continue;
      }
      for (const f of listing.files) if (isImageFile(f)) skipped.push({ path: path.join(splitRoot, f), reason: `not inside a class folder of ${name}/` });
      for (const cls of listing.dirs) slot(cls)[split].push(...collectImages(path.join(splitRoot, cls), skipped));
    }
    if (errors.length > 0) return { ok: false, errors };
    if (found.size === 0) {
      return fail(
        `${path.join(root, bySplit.get('train')!)} has no class folders`,
        `Put each class's images in its own subfolder, e.g. ${bySplit.get('train')}/cats/ and ${bySplit.get('train')}/dogs/.`,
      );
    }
    for (const split of ['val', 'test'] as const) {
      const name = bySplit.get(split);
      if (name && [...found.values()].every((s) => s[split].length === 0)) {
        errors.push({
          path: 'data.dir',
          message: `the ${split} split is empty: ${path.join(root, name)} has no usable image`,
          hint: `Put images in its class folders (${name}/<class>/), or remove the ${name}/ folder.`,
        });
      }
    }
    if (!bySplit.has('val')) {
      warnings.push({
        path: 'data.dir',
        message: `there is no val/ folder, so early stopping and the best checkpoint use the ${bySplit.has('test') ? 'test' : 'training'} images`,
        hint: 'Add a val/ folder with the same class folders for an honest validation score.',
      });
    }
  } else {
    layout = 'folders';
    if (classDirs.length === 0) {
      const loose = skipped.length;
      return fail(
        `${root} has no class folders${loose ? ` (${loose} image${loose === 1 ? ' is' : 's are'} directly in it)` : ''}`,
        "Put each class's images in its own subfolder, e.g. cats/ and dogs/; the folder names are the class names.",
      );
    }
    for (const cls of classDirs) slot(cls).train.push(...collectImages(path.join(root, cls), skipped));
  }

  const classes = [...found.keys()].sort(byCodePoint);
  const classFolder = (cls: string) => (layout === 'folders' ? path.join(root, cls) : `${cls}/ in ${root}`);
  for (const cls of classes) {
    const s = found.get(cls)!;
    const total = s.train.length + s.val.length + s.test.length;
    const skippedHere = skipped.filter((f) => isInside(f.path, layout === 'folders' ? path.join(root, cls) : undefined, cls)).length;
    if (total === 0) {
      errors.push({
        path: 'data.dir',
        message: `class '${cls}' (${classFolder(cls)}) has no usable image${skippedHere ? ` (${skippedHere} file${skippedHere === 1 ? '' : 's'} skipped)` : ''}`,
        hint: `Add ${IMAGE_EXTENSIONS.slice(0, 3).join('/')}/... images to it, or remove the folder.`,
      });
    } else if (layout === 'presplit' && s.train.length === 0) {
      errors.push({
        path: 'data.dir',
        message: `class '${cls}' has images in ${SPLIT_NAMES.filter((x) => s[x].length > 0).join('/')} but none in train/, so the model could never learn it`,
        hint: `Add images to train/${cls}/, or remove the class's folders.`,
      });
    }
  }
  if (classes.length === 1) {
    errors.push({
      path: 'data.dir',
      message: `${root} has only one class ('${classes[0]}'); a classifier needs at least two`,
      hint: 'Add a folder for each other class, e.g. one for images that are not this class.',
    });
  }
  if (errors.length > 0) return { ok: false, errors };

  // Assign splits. Folder-per-class: per class, sort the paths (directory order differs
  // between machines), shuffle with a stream seeded by the seed and the class name (so
  // adding a class does not reshuffle the others), hold out round(n * fraction), and
  // always keep at least one training image.
  const items: DatasetItem[] = [];
  const counts: Record<string, SplitCounts> = {};
  const tooFewToHoldOut: string[] = [];
  classes.forEach((cls, label) => {
    const s = found.get(cls)!;
    const assigned: Record<SplitName, string[]> = layout === 'presplit' ? s : assignSplits(s.train, opts.split, seedFrom(cls, opts.seed));
    if (layout === 'folders' && assigned.val.length + assigned.test.length === 0 && opts.split.val + opts.split.test > 0) tooFewToHoldOut.push(cls);
    counts[cls] = { train: assigned.train.length, val: assigned.val.length, test: assigned.test.length };
    const classItems: DatasetItem[] = [];
    for (const split of SPLIT_NAMES) for (const p of assigned[split]) classItems.push({ path: p, label, split });
    classItems.sort((a, b) => byCodePoint(a.path, b.path));
    items.push(...classItems);
  });

  if (layout === 'folders') {
    for (const split of ['val', 'test'] as const) {
      const fraction = opts.split[split];
      if (fraction > 0 && classes.every((c) => counts[c][split] === 0)) {
        const largest = Math.max(...classes.map((c) => counts[c].train + counts[c].val + counts[c].test));
        const needed = imagesNeededFor(split, opts.split);
        errors.push({
          path: `data.split.${split}`,
          message: `the ${split} split is empty: ${fraction} of each class rounds to 0 images (the largest class has ${largest})`,
          hint: `Add images (${needed === undefined ? 'more' : `at least ${needed}`} per class for ${split} ${fraction}), or set data.split.${split} to 0${split === 'val' ? ' (validation then uses the test or training images)' : ' (evaluation then uses the validation images)'}.`,
        });
      }
    }
    if (errors.length > 0) return { ok: false, errors };
    if (tooFewToHoldOut.length > 0) {
      warnings.push({
        path: 'data.dir',
        message: `${tooFewToHoldOut.length === 1 ? 'class' : 'classes'} ${quoteList(tooFewToHoldOut)} ${tooFewToHoldOut.length === 1 ? 'has' : 'have'} too few images to hold any out, so validation and test cannot measure ${tooFewToHoldOut.length === 1 ? 'it' : 'them'}`,
        hint: 'Add images to these classes (5 or more each).',
      });
    }
  }

  const index: DatasetIndex = { root, layout, classes, items, skipped, counts };
  const totals = classes.map((c) => ({ c, n: counts[c].train + counts[c].val + counts[c].test }));
  if (totals.length >= 2) {
    const largest = totals.reduce((a, b) => (b.n > a.n ? b : a));
    const smallest = totals.reduce((a, b) => (b.n < a.n ? b : a));
    index.imbalance = { ratio: largest.n / smallest.n, largest: largest.c, smallest: smallest.c };
    if (index.imbalance.ratio > IMBALANCE_WARNING_RATIO) {
      const small = totals.filter((t) => t.n * IMBALANCE_WARNING_RATIO < largest.n).map((t) => `'${t.c}' (${t.n})`);
      warnings.push({
        path: 'data.dir',
        message: `classes are imbalanced: '${largest.c}' has ${largest.n} images, ${index.imbalance.ratio.toFixed(1)}x the ${smallest.n} of '${smallest.c}'; classes with less than a third of the largest: ${preview(small, 10)}`,
        hint: `Add images to the smaller classes, or expect the model to favour '${largest.c}'; per-class recall in the evaluation shows the effect.`,
      });
    }
  }
  return { ok: true, value: index, warnings };
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

/** Images under a class folder, recursively; symlinked folders are followed once (loops end). */
function collectImages(classDir: string, skipped: SkippedFile[]): string[] {
  const images: string[] = [];
  const visited = new Set<string>();
  const walk = (dir: string) => {
    let real: string;
    try {
      real = fs.realpathSync(dir);
    } catch (e) {
      skipped.push({ path: dir, reason: `cannot resolve folder (${codeOf(e)})` });
      return;
    }
    if (visited.has(real)) {
      skipped.push({ path: dir, reason: 'folder already indexed through another path (symbolic link loop or duplicate link)' });
      return;
    }
    visited.add(real);
    const listing = listFolder(dir);
    if ('error' in listing) {
      skipped.push({ path: dir, reason: `cannot list folder (${listing.error})` });
      return;
    }
    for (const d of listing.dirs) walk(path.join(dir, d));
    for (const f of listing.files) {
      const full = path.join(dir, f);
      if (!isImageFile(f)) {
        const ext = path.extname(f);
        skipped.push({ path: full, reason: `not an image (${ext ? `extension ${ext}` : 'no file extension'}; accepted: ${EXTENSION_LIST})` });
      } else if (listing.sizes.get(f) === 0) {
        skipped.push({ path: full, reason: 'empty file (0 bytes)' });
      } else {
        images.push(full);
      }
    }
    for (const o of listing.others) skipped.push({ path: path.join(dir, o.name), reason: o.reason });
  };
  walk(classDir);
  return images;
}

interface Listing {
  dirs: string[];
  files: string[];
  sizes: Map<string, number>;
  others: { name: string; reason: string }[];
}

/** Non-hidden entries of a folder, sorted, with symbolic links followed (broken ones reported). */
function listFolder(dir: string): Listing | { error: string } {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return { error: codeOf(e) };
  }
  const out: Listing = { dirs: [], files: [], sizes: new Map(), others: [] };
  for (const e of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
    if (isHidden(e.name)) continue;
    const st = statOrError(path.join(dir, e.name));
    if ('error' in st) {
      const reason =
        st.error === 'ELOOP' ? 'symbolic link loop' : st.error === 'ENOENT' ? 'broken symbolic link (its target does not exist)' : `cannot read (${st.error})`;
      out.others.push({ name: e.name, reason });
    } else if (st.stat.isDirectory()) out.dirs.push(e.name);
    else if (st.stat.isFile()) {
      out.files.push(e.name);
      out.sizes.set(e.name, st.stat.size);
    } else out.others.push({ name: e.name, reason: 'not a regular file' });
  }
  return out;
}

function statOrError(p: string): { stat: fs.Stats } | { error: string } {
  try {
    return { stat: fs.statSync(p) };
  } catch (e) {
    return { error: codeOf(e) };
  }
}

const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? String(e);

function isInside(file: string, dir: string | undefined, cls: string): boolean {
  if (dir) return file.startsWith(dir + path.sep);
  return file.split(path.sep).includes(cls);
}

const preview = (names: string[], max = 5): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
const quoteList = (names: string[]): string =>
  preview(
    names.map((n) => `'${n}'`),
    10,
  );

// ---------------------------------------------------------------------------------------
// Scaffolding and splitting on disk
// ---------------------------------------------------------------------------------------

export interface ScaffoldOptions {
  /** Create train/ val/ test/, each with the class folders (default: one folder per class). */
  splits?: boolean;
}

export interface ScaffoldResult {
  dir: string;
  /** Folders created (absolute), in creation order. */
  created: string[];
  /** True when README.md was (re)written; a README.md Transfer Lab did not write is kept. */
  readmeWritten: boolean;
}

/**
 * Creates a dataset folder with a folder per class (or train/ val/ test/ with class
 * folders) and a README.md of counts. Adding missing class folders to an existing dataset
 * of the same layout is fine; a non-empty folder that is not such a dataset is refused.
 * Never deletes or overwrites user files.
 */
export function scaffoldDataset(dir: string, classes: string[], opts: ScaffoldOptions = {}): Validated<ScaffoldResult> {
  const root = path.resolve(dir);
  const errors: InputProblem[] = [];
  const warnings: InputProblem[] = [];
  errors.push(...checkClassNames(classes, !!opts.splits));
  const st = statOrError(root);
  if ('stat' in st && !st.stat.isDirectory())
    errors.push({ path: '', message: `${root} is a file, not a folder`, hint: 'Pick a new folder name for the dataset.' });
  if ('stat' in st && st.stat.isDirectory()) {
    const listing = listFolder(root);
    if ('error' in listing) {
      errors.push({ path: '', message: `cannot list ${root} (${listing.error})`, hint: 'Check the folder permissions.' });
    } else {
      const strayFiles = listing.files.filter((f) => f !== README);
      const splitDirs = listing.dirs.filter((d) => splitOfFolder(d) !== undefined);
      const otherDirs = listing.dirs.filter((d) => splitOfFolder(d) === undefined);
      const mismatch = opts.splits ? otherDirs.length > 0 : splitDirs.length > 0;
      if (strayFiles.length > 0 || mismatch) {
        const what =
          strayFiles.length > 0
            ? `files (${preview(strayFiles)})`
            : opts.splits
              ? `folders that are not train/ val/ test/ (${preview(otherDirs)})`
              : `split folders (${splitDirs.join(', ')})`;
        errors.push({
          path: '',
          message: `${root} is not empty and is not a ${opts.splits ? 'pre-split' : 'folder-per-class'} dataset: it has ${what}`,
          hint: 'Pick a new or empty folder; Transfer Lab only adds missing class folders to an existing dataset and never overwrites files.',
        });
      }
    }
  }
  if (errors.length > 0) return { ok: false, errors };

  const created: string[] = [];
  const mkdir = (p: string) => {
    if (fs.existsSync(p)) return;
    fs.mkdirSync(p, { recursive: true });
    created.push(p);
  };
  mkdir(root);
  const parents = opts.splits ? ['train', 'val', 'test'].map((s) => path.join(root, s)) : [root];
  for (const parent of parents) for (const cls of classes) mkdir(path.join(parent, cls));
  const all = opts.splits ? new Set(parents.flatMap((p) => (listFolder(p) as Listing).dirs)) : new Set((listFolder(root) as Listing).dirs);
  if (all.size < 2)
    warnings.push({
      path: '',
      message: `the dataset has ${all.size} class folder${all.size === 1 ? '' : 's'}; training needs at least two`,
      hint: 'Add another class.',
    });
  const readmeWritten = writeDatasetReadme(root);
  if (!readmeWritten)
    warnings.push({
      path: '',
      message: `kept the existing ${path.join(root, README)} (not written by Transfer Lab)`,
      hint: 'Its image counts are not updated.',
    });
  return { ok: true, value: { dir: root, created, readmeWritten }, warnings };
}

function checkClassNames(classes: string[], splits: boolean): InputProblem[] {
  const problems: InputProblem[] = [];
  if (classes.length === 0) problems.push({ path: 'classes', message: 'no class names given', hint: 'Give the class names, e.g. cats,dogs.' });
  const seen = new Map<string, string>();
  for (const cls of classes) {
    const bad =
      cls.trim() === ''
        ? 'is empty'
        : cls !== cls.trim()
          ? 'starts or ends with a space'
          : cls === '.' || cls === '..'
            ? 'is not a folder name'
            : // eslint-disable-next-line no-control-regex -- control characters are exactly what folder names cannot hold
              /[/\\<>:"|?*\u0000-\u001f]/.test(cls)
              ? 'contains a character that folder names cannot hold (/ \\ < > : " | ? *)'
              : isHidden(cls)
                ? 'starts with a dot (hidden folders are ignored)'
                : !splits && splitOfFolder(cls)
                  ? 'is a split folder name (train, val, validation, test), which would make the dataset look pre-split'
                  : undefined;
    if (bad) problems.push({ path: 'classes', message: `class name '${cls}' ${bad}`, hint: 'Pick another name.' });
    const folded = cls.toLowerCase();
    const previous = seen.get(folded);
    if (previous !== undefined)
      problems.push({
        path: 'classes',
        message: `class names '${previous}' and '${cls}' are the same folder on case-insensitive file systems`,
        hint: 'Give each class a distinct name.',
      });
    seen.set(folded, cls);
  }
  return problems;
}

/**
 * Writes README.md with the image counts of the dataset at `root` (either layout), unless a
 * README.md that Transfer Lab did not write is there. Returns whether it was written.
 */
export function writeDatasetReadme(root: string): boolean {
  const file = path.join(root, README);
  if (fs.existsSync(file) && !fs.readFileSync(file, 'utf8').includes(README_MARKER)) return false;
  const top = listFolder(root) as Listing;
  const splitDirs = top.dirs.filter((d) => splitOfFolder(d) !== undefined);
  const presplit = splitDirs.length > 0;
  const sinkSkipped: SkippedFile[] = [];
  const columns = presplit ? splitDirs : ['images'];
  const table = new Map<string, number[]>();
  columns.forEach((col, i) => {
    const parent = presplit ? path.join(root, col) : root;
    const listing = listFolder(parent);
    if ('error' in listing) return;
    for (const cls of listing.dirs) {
      if (!presplit && splitOfFolder(cls)) continue;
      const row = table.get(cls) ?? columns.map(() => 0);
      row[i] = collectImages(path.join(parent, cls), sinkSkipped).length;
      table.set(cls, row);
    }
  });
  const classes = [...table.keys()].sort(byCodePoint);
  const lines = [
    `# ${path.basename(root)}`,
    '',
    README_MARKER,
    '',
    presplit
      ? 'A pre-split image dataset for Transfer Lab: each split folder holds one folder per class.'
      : "An image dataset for Transfer Lab: one folder per class (the folder name is the class name). Transfer Lab splits it into train/val/test from the experiment's seed.",
    '',
    `Images: ${IMAGE_EXTENSIONS.join(', ')} (any case). Hidden files are ignored; other files are skipped and reported.`,
    '',
    `| class | ${columns.join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
    ...classes.map((c) => `| ${c} | ${table.get(c)!.join(' | ')} |`),
    `| **total** | ${columns.map((_, i) => classes.reduce((s, c) => s + table.get(c)![i], 0)).join(' | ')} |`,
    '',
  ];
  fs.writeFileSync(file, lines.join('\n'));
  return true;
}

export interface SplitOnDiskResult {
  destDir: string;
  classes: string[];
  counts: Record<string, SplitCounts>;
  /** Files copied or moved. */
  files: number;
  /** Files left where they were (not images, unreadable, outside class folders). */
  skipped: SkippedFile[];
}

/**
 * Writes a folder-per-class dataset as `train/ val/ test/` class folders in `destDir`,
 * with the same deterministic split `indexDataset` would use. 'copy' (the default) leaves
 * the source untouched; 'move' moves the images and removes the class folders it emptied.
 * The destination must be new or empty and must not overlap the source.
 */
export async function splitDatasetOnDisk(
  srcDir: string,
  destDir: string,
  split: { val: number; test: number },
  seed: number,
  mode: 'copy' | 'move' = 'copy',
): Promise<Validated<SplitOnDiskResult>> {
  const src = path.resolve(srcDir);
  const dest = path.resolve(destDir);
  const bad = (message: string, hint: string): Validated<SplitOnDiskResult> => ({ ok: false, errors: [{ path: '', message, hint }] });
  if (!(split.val >= 0 && split.val < 1 && split.test >= 0 && split.test < 1 && split.val + split.test < 1)) {
    return bad(
      `the split fractions must each be from 0 up to 1 and leave images for training, got val ${split.val} and test ${split.test}`,
      'Use e.g. val 0.2 and test 0.1.',
    );
  }
  const overlaps = (a: string, b: string) => a === b || b.startsWith(a + path.sep);
  if (overlaps(src, dest) || overlaps(dest, src)) {
    return bad(`the destination ${dest} overlaps the source ${src}`, 'Choose a destination folder outside the source dataset, e.g. next to it.');
  }
  const indexed = indexDataset(src, { split, seed });
  if (!indexed.ok) return { ok: false, errors: indexed.errors.map((e) => ({ ...e, path: '' })) };
  const index = indexed.value;
  if (index.layout === 'presplit')
    return bad(`${src} is already split into train/ val/ test/`, 'Point the experiment at it directly; there is nothing to split.');
  const destStat = statOrError(dest);
  if ('stat' in destStat) {
    const listing = destStat.stat.isDirectory() ? listFolder(dest) : undefined;
    if (!listing || 'error' in listing || listing.dirs.length + listing.files.length + listing.others.length > 0) {
      return bad(`the destination ${dest} already exists and is not an empty folder`, 'Choose a new folder; splitting never overwrites files.');
    }
  }

  const counts: Record<string, SplitCounts> = Object.fromEntries(index.classes.map((c) => [c, { train: 0, val: 0, test: 0 }]));
  const madeDirs = new Set<string>();
  for (const item of index.items) {
    const cls = index.classes[item.label];
    const rel = path.relative(path.join(src, cls), item.path);
    const target = path.join(dest, item.split, cls, rel);
    const targetDir = path.dirname(target);
    if (!madeDirs.has(targetDir)) {
      await fs.promises.mkdir(targetDir, { recursive: true });
      madeDirs.add(targetDir);
    }
    if (mode === 'move') await moveFile(item.path, target);
    else await fs.promises.copyFile(item.path, target, fs.constants.COPYFILE_EXCL);
    counts[cls][item.split]++;
  }
  if (mode === 'move') for (const cls of index.classes) await removeEmptyFolders(path.join(src, cls));
  writeDatasetReadme(dest);
  return { ok: true, value: { destDir: dest, classes: index.classes, counts, files: index.items.length, skipped: index.skipped }, warnings: indexed.warnings };
}

async function moveFile(from: string, to: string): Promise<void> {
  // rename would replace an existing file; the destination is new, but check anyway.
  if (fs.existsSync(to)) throw new Error(`${to} already exists; not overwriting it`);
  try {
    await fs.promises.rename(from, to);
  } catch (e) {
    if (codeOf(e) !== 'EXDEV') throw e;
    await fs.promises.copyFile(from, to, fs.constants.COPYFILE_EXCL);
    await fs.promises.unlink(from);
  }
}

/** Removes `dir` and its subfolders when they hold nothing at all (hidden files count). */
async function removeEmptyFolders(dir: string): Promise<void> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await removeEmptyFolders(path.join(dir, e.name));
  try {
    await fs.promises.rmdir(dir); // fails, harmlessly, when anything is left
  } catch {
    /* not empty */
  }
}
