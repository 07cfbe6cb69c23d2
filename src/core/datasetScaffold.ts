// Writing dataset folders: scaffolding a new dataset (class folders, optionally inside
// train/ val/ test/), its README.md of image counts, and writing a folder-per-class dataset
// out as split folders with the split indexing would make. Never deletes or overwrites
// user files. Asynchronous throughout: the extension host calls these and must never wait
// on the disk.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputProblem, Validated } from './experiment';
import type { SkippedFile, SplitCounts } from './datasetTypes';
import {
  byCodePoint,
  codeOf,
  collectImagesAsync,
  IMAGE_EXTENSIONS,
  isHidden,
  listFolderAsync,
  preview,
  splitOfFolder,
  statOrErrorAsync,
  type Listing,
} from './datasetFolders';
import { indexDataset, type DatasetIndex, type IndexOptions } from './datasetIndex';

const README = 'README.md';
const README_MARKER = '<!-- written by Transfer Lab; it rewrites this file when it scaffolds or splits the dataset -->';

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
export async function scaffoldDataset(dir: string, classes: string[], opts: ScaffoldOptions = {}): Promise<Validated<ScaffoldResult>> {
  const root = path.resolve(dir);
  const errors = [...checkClassNames(classes, !!opts.splits), ...(await checkScaffoldTarget(root, !!opts.splits))];
  if (errors.length > 0) return { ok: false, errors };

  const warnings: InputProblem[] = [];
  const created: string[] = [];
  const mkdir = async (p: string) => {
    if (await exists(p)) return;
    await fs.promises.mkdir(p, { recursive: true });
    created.push(p);
  };
  await mkdir(root);
  const parents = opts.splits ? ['train', 'val', 'test'].map((s) => path.join(root, s)) : [root];
  for (const parent of parents) for (const cls of classes) await mkdir(path.join(parent, cls));
  const listings = (await Promise.all(parents.map((p) => listFolderAsync(p)))) as Listing[];
  const all = new Set(listings.flatMap((l) => l.dirs));
  if (all.size < 2)
    warnings.push({
      path: '',
      message: `the dataset has ${all.size} class folder${all.size === 1 ? '' : 's'}; training needs at least two`,
      hint: 'Add another class.',
    });
  const readmeWritten = await writeDatasetReadme(root);
  if (!readmeWritten)
    warnings.push({
      path: '',
      message: `kept the existing ${path.join(root, README)} (not written by Transfer Lab)`,
      hint: 'Its image counts are not updated.',
    });
  return { ok: true, value: { dir: root, created, readmeWritten }, warnings };
}

/** Why `root` cannot take the new class folders: a file, unreadable, or a folder holding something other than such a dataset. */
async function checkScaffoldTarget(root: string, splits: boolean): Promise<InputProblem[]> {
  const st = await statOrErrorAsync(root);
  if (!('stat' in st)) return [];
  if (!st.stat.isDirectory()) return [{ path: '', message: `${root} is a file, not a folder`, hint: 'Pick a new folder name for the dataset.' }];
  const listing = await listFolderAsync(root);
  if ('error' in listing) return [{ path: '', message: `cannot list ${root} (${listing.error})`, hint: 'Check the folder permissions.' }];
  const strayFiles = listing.files.filter((f) => f !== README);
  const splitDirs = listing.dirs.filter((d) => splitOfFolder(d) !== undefined);
  const otherDirs = listing.dirs.filter((d) => splitOfFolder(d) === undefined);
  const mismatch = splits ? otherDirs.length > 0 : splitDirs.length > 0;
  if (strayFiles.length === 0 && !mismatch) return [];
  const what =
    strayFiles.length > 0
      ? `files (${preview(strayFiles)})`
      : splits
        ? `folders that are not train/ val/ test/ (${preview(otherDirs)})`
        : `split folders (${splitDirs.join(', ')})`;
  return [
    {
      path: '',
      message: `${root} is not empty and is not a ${splits ? 'pre-split' : 'folder-per-class'} dataset: it has ${what}`,
      hint: 'Pick a new or empty folder; Transfer Lab only adds missing class folders to an existing dataset and never overwrites files.',
    },
  ];
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
export async function writeDatasetReadme(root: string): Promise<boolean> {
  const file = path.join(root, README);
  if ((await exists(file)) && !(await fs.promises.readFile(file, 'utf8')).includes(README_MARKER)) return false;
  const top = (await listFolderAsync(root)) as Listing;
  const splitDirs = top.dirs.filter((d) => splitOfFolder(d) !== undefined);
  const presplit = splitDirs.length > 0;
  const sinkSkipped: SkippedFile[] = [];
  const columns = presplit ? splitDirs : ['images'];
  const table = new Map<string, number[]>();
  for (const [i, col] of columns.entries()) {
    const parent = presplit ? path.join(root, col) : root;
    const listing = await listFolderAsync(parent);
    if ('error' in listing) continue;
    for (const cls of listing.dirs) {
      if (!presplit && splitOfFolder(cls)) continue;
      const row = table.get(cls) ?? columns.map(() => 0);
      row[i] = (await collectImagesAsync(path.join(parent, cls), sinkSkipped)).length;
      table.set(cls, row);
    }
  }
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
  await fs.promises.writeFile(file, lines.join('\n'));
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
 * The destination must be new or empty and must not overlap the source. `index` indexes the
 * source (default: indexDataset here; the extension host runs it in a worker thread, since it
 * stats every image).
 */
export async function splitDatasetOnDisk(
  srcDir: string,
  destDir: string,
  split: { val: number; test: number },
  seed: number,
  mode: 'copy' | 'move' = 'copy',
  index: (dir: string, opts: IndexOptions) => Promise<Validated<DatasetIndex>> = async (dir, opts) => indexDataset(dir, opts),
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
  const indexed = await index(src, { split, seed });
  if (!indexed.ok) return { ok: false, errors: indexed.errors.map((e) => ({ ...e, path: '' })) };
  const dataset = indexed.value;
  if (dataset.layout === 'presplit')
    return bad(`${src} is already split into train/ val/ test/`, 'Point the experiment at it directly; there is nothing to split.');
  const destStat = await statOrErrorAsync(dest);
  if ('stat' in destStat) {
    const listing = destStat.stat.isDirectory() ? await listFolderAsync(dest) : undefined;
    if (!listing || 'error' in listing || listing.dirs.length + listing.files.length + listing.others.length > 0) {
      return bad(`the destination ${dest} already exists and is not an empty folder`, 'Choose a new folder; splitting never overwrites files.');
    }
  }

  const counts = await placeItems(dataset, src, dest, mode);
  if (mode === 'move') for (const cls of dataset.classes) await removeEmptyFolders(path.join(src, cls));
  await writeDatasetReadme(dest);
  return {
    ok: true,
    value: { destDir: dest, classes: dataset.classes, counts, files: dataset.items.length, skipped: dataset.skipped },
    warnings: indexed.warnings,
  };
}

/** Copies or moves each image to `<dest>/<split>/<class>/` (its path inside the class folder kept); the counts per class and split. */
async function placeItems(index: DatasetIndex, src: string, dest: string, mode: 'copy' | 'move'): Promise<Record<string, SplitCounts>> {
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
  return counts;
}

async function moveFile(from: string, to: string): Promise<void> {
  // rename would replace an existing file; the destination is new, but check anyway.
  if (await exists(to)) throw new Error(`${to} already exists; not overwriting it`);
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

/** Whether `p` exists (as fs.existsSync says: anything stat cannot reach does not). */
const exists = (p: string): Promise<boolean> =>
  fs.promises.stat(p).then(
    () => true,
    () => false,
  );
