// Dataset folders as users make them (generated here in a temp folder): both layouts, the
// deterministic stratified split, skipped files, every error before training, symlink
// loops, scaffolding and splitting on disk.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InputProblem, Validated } from '../../src/core/experiment';
import { holdOutCounts, indexDataset, type DatasetIndex } from '../../src/core/datasetIndex';
import { scaffoldDataset, splitDatasetOnDisk } from '../../src/core/datasetScaffold';
import { collectImages, collectImagesAsync, listFolder, listFolderAsync } from '../../src/core/datasetFolders';
import type { SkippedFile } from '../../src/core/datasetTypes';

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-dataset-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let counter = 0;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

/** Creates files (relative path -> content; null makes a folder) in a new temp folder. */
function tree(files: Record<string, string | Buffer | null>, order: 'forward' | 'reverse' = 'forward'): string {
  const root = path.join(tmpRoot, `ds${counter++}`);
  fs.mkdirSync(root);
  const entries = Object.entries(files);
  if (order === 'reverse') entries.reverse();
  for (const [rel, content] of entries) {
    const p = path.join(root, rel);
    if (content === null) fs.mkdirSync(p, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content);
    }
  }
  return root;
}

/** `n` image files per class: { 'cats/cats_00.png': PNG, ... } */
function images(counts: Record<string, number>, prefix = ''): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [cls, n] of Object.entries(counts)) for (let i = 0; i < n; i++) out[`${prefix}${cls}/${cls}_${String(i).padStart(2, '0')}.png`] = PNG;
  return out;
}

const SPLIT = { split: { val: 0.2, test: 0.1 }, seed: 42 };

function ok(r: Validated<DatasetIndex>): { value: DatasetIndex; warnings: InputProblem[] } {
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => `${e.path}: ${e.message}`).join('\n'));
  return r;
}

function onlyError(r: Validated<unknown>): InputProblem {
  assert.equal(r.ok, false, 'expected an error');
  const errors = (r as { errors: InputProblem[] }).errors;
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
  return errors[0];
}

const relSplits = (index: DatasetIndex) => index.items.map((i) => `${path.relative(index.root, i.path).split(path.sep).join('/')}:${i.split}`).sort();

test('folder per class: classes, items, counts and skipped files', () => {
  const root = tree({
    ...images({ dogs: 10, cats: 10 }),
    'cats/nested/deeper/cat_deep.JPG': PNG,
    'cats/notes.txt': 'hello',
    'cats/LICENSE': 'x',
    'cats/.DS_Store': 'x',
    'cats/empty.jpg': '',
    '.hidden_class/x.png': PNG,
    'README.md': '# mine',
    'loose.png': PNG,
  });
  const { value, warnings } = ok(indexDataset(root, SPLIT));
  assert.equal(value.root, root);
  assert.equal(value.layout, 'folders');
  assert.deepEqual(value.classes, ['cats', 'dogs']);
  assert.equal(value.items.length, 21);
  assert.ok(value.items.some((i) => i.path.endsWith(path.join('nested', 'deeper', 'cat_deep.JPG')) && i.label === 0));
  assert.deepEqual(value.counts, { cats: { train: 8, val: 2, test: 1 }, dogs: { train: 7, val: 2, test: 1 } });
  const skipped = Object.fromEntries(value.skipped.map((s) => [path.relative(root, s.path), s.reason]));
  assert.deepEqual(
    Object.keys(skipped).sort(),
    ['cats/LICENSE', 'cats/empty.jpg', 'cats/notes.txt', 'loose.png'].map((p) => p.split('/').join(path.sep)).sort(),
  );
  assert.match(
    skipped[path.join('cats', 'notes.txt')],
    /^not an image \(extension \.txt; accepted: \.jpg, \.jpeg, \.png, \.webp, \.gif, \.bmp, \.tif, \.tiff\)$/,
  );
  assert.match(skipped[path.join('cats', 'LICENSE')], /no file extension/);
  assert.equal(skipped[path.join('cats', 'empty.jpg')], 'empty file (0 bytes)');
  assert.equal(skipped['loose.png'], 'not inside a class folder');
  assert.deepEqual(value.imbalance, { ratio: 11 / 10, largest: 'cats', smallest: 'dogs' });
  assert.deepEqual(warnings, []);
});

test('every image extension is accepted in any case', () => {
  const exts = ['jpg', 'jpeg', 'png', 'webp', 'gif', 'bmp', 'tif', 'tiff'];
  const files: Record<string, Buffer> = {};
  exts.forEach((e, i) => {
    files[`a/x${i}.${e}`] = PNG;
    files[`b/y${i}.${e.toUpperCase()}`] = PNG;
  });
  const { value } = ok(indexDataset(tree(files), { split: { val: 0, test: 0 }, seed: 1 }));
  assert.equal(value.items.length, 16);
  assert.equal(value.skipped.length, 0);
});

test('the split is deterministic, stratified and independent of directory order', () => {
  const files = images({ a: 23, b: 17, c: 9 });
  const one = ok(indexDataset(tree(files, 'forward'), SPLIT)).value;
  const two = ok(indexDataset(tree(files, 'reverse'), SPLIT)).value;
  assert.deepEqual(relSplits(one), relSplits(two));
  // round(n * fraction) per class.
  assert.deepEqual(one.counts, {
    a: { train: 16, val: 5, test: 2 },
    b: { train: 12, val: 3, test: 2 },
    c: { train: 6, val: 2, test: 1 },
  });
  const other = ok(indexDataset(tree(files), { ...SPLIT, seed: 7 })).value;
  assert.notDeepEqual(relSplits(other), relSplits(one), 'another seed, another split');
  assert.deepEqual(other.counts, one.counts, 'with the same counts');
  // Adding a class does not reshuffle the others.
  const more = ok(indexDataset(tree({ ...files, ...images({ d: 5 }) }), SPLIT)).value;
  assert.deepEqual(
    relSplits(more).filter((s) => !s.startsWith('d/')),
    relSplits(one),
  );
});

test('hold-out counts round per class and always leave a training image', () => {
  const f = { val: 0.2, test: 0.1 };
  assert.deepEqual(
    [1, 2, 3, 5, 10].map((n) => holdOutCounts(n, f)),
    [
      { val: 0, test: 0 },
      { val: 0, test: 0 },
      { val: 1, test: 0 },
      { val: 1, test: 1 },
      { val: 2, test: 1 },
    ],
  );
  assert.deepEqual(holdOutCounts(2, { val: 0.5, test: 0.45 }), { val: 1, test: 0 }, 'on a tie validation is kept');
  assert.deepEqual(holdOutCounts(3, { val: 0.2, test: 0.7 }), { val: 1, test: 1 });
  assert.deepEqual(holdOutCounts(0, f), { val: 0, test: 0 });
});

test('a class with one image trains on it and says validation cannot measure it', () => {
  const { value, warnings } = ok(indexDataset(tree(images({ big: 10, tiny: 1 })), SPLIT));
  assert.deepEqual(value.counts.tiny, { train: 1, val: 0, test: 0 });
  assert.ok(warnings.some((w) => /class 'tiny' has too few images to hold any out/.test(w.message)));
  assert.ok(warnings.some((w) => /imbalanced/.test(w.message)));
});

test('class imbalance above 3x is a warning naming the classes', () => {
  const { value, warnings } = ok(indexDataset(tree(images({ dogs: 40, cats: 10, birds: 12, fish: 30 })), SPLIT));
  assert.deepEqual(value.imbalance, { ratio: 4, largest: 'dogs', smallest: 'cats' });
  const w = warnings.find((x) => /imbalanced/.test(x.message));
  assert.ok(w);
  assert.equal(w.path, 'data.dir');
  assert.equal(
    w.message,
    "classes are imbalanced: 'dogs' has 40 images, 4.0x the 10 of 'cats'; classes with less than a third of the largest: 'birds' (12), 'cats' (10)",
  );
  assert.match(w.hint ?? '', /favour 'dogs'/);
  const balanced = ok(indexDataset(tree(images({ a: 30, b: 10 })), SPLIT));
  assert.equal(balanced.value.imbalance?.ratio, 3);
  assert.deepEqual(balanced.warnings, []);
});

test('pre-split layout: train/ val/ test/ (or validation/) with class folders', () => {
  const root = tree({
    ...images({ a: 6, b: 5 }, 'train/'),
    ...images({ a: 2, b: 2 }, 'validation/'),
    ...images({ a: 1, b: 1 }, 'test/'),
    'train/stray.jpg': PNG,
  });
  const { value, warnings } = ok(indexDataset(root, SPLIT));
  assert.equal(value.layout, 'presplit');
  assert.deepEqual(value.classes, ['a', 'b']);
  assert.deepEqual(value.counts, { a: { train: 6, val: 2, test: 1 }, b: { train: 5, val: 2, test: 1 } });
  assert.ok(value.items.filter((i) => i.split === 'val').every((i) => i.path.includes(`${path.sep}validation${path.sep}`)));
  assert.deepEqual(
    value.skipped.map((s) => [path.relative(root, s.path), s.reason]),
    [[path.join('train', 'stray.jpg'), 'not inside a class folder of train/']],
  );
  assert.deepEqual(warnings, []);
  // Without val/: allowed, with a warning.
  const noVal = ok(indexDataset(tree({ ...images({ a: 3, b: 3 }, 'train/'), ...images({ a: 1, b: 1 }, 'test/') }), SPLIT));
  assert.match(noVal.warnings[0].message, /no val\/ folder, so early stopping and the best checkpoint use the test images/);
});

test('errors: the dataset folder is missing or is a file', () => {
  const missing = path.join(tmpRoot, 'nope');
  let e = onlyError(indexDataset(missing, SPLIT));
  assert.equal(e.path, 'data.dir');
  assert.equal(e.message, `the dataset folder ${missing} does not exist`);
  assert.match(e.hint ?? '', /Scaffold Dataset/);
  const file = path.join(tree({ 'f.png': PNG }), 'f.png');
  e = onlyError(indexDataset(file, SPLIT));
  assert.equal(e.message, `${file} is a file, not a folder`);
});

test('errors: no class folders, or a single class', () => {
  const flat = tree({ 'a.png': PNG, 'b.png': PNG });
  let e = onlyError(indexDataset(flat, SPLIT));
  assert.equal(e.message, `${flat} has no class folders (2 images are directly in it)`);
  assert.match(e.hint ?? '', /e\.g\. cats\/ and dogs\//);
  const one = tree(images({ cats: 5 }));
  e = onlyError(indexDataset(one, SPLIT));
  assert.equal(e.message, `${one} has only one class ('cats'); a classifier needs at least two`);
  assert.match(onlyError(indexDataset(tree({ 'README.md': 'x' }), SPLIT)).message, /has no class folders$/);
});

test('errors: a class with no usable image names the class and its folder', () => {
  const root = tree({ ...images({ cats: 4, dogs: 4 }), 'birds/readme.txt': 'x', 'birds/blank.png': '', 'fish/': null });
  assert.equal(indexDataset(root, SPLIT).ok, false);
  const errors = (indexDataset(root, SPLIT) as { errors: InputProblem[] }).errors;
  assert.deepEqual(
    errors.map((e) => e.message),
    [`class 'birds' (${path.join(root, 'birds')}) has no usable image (2 files skipped)`, `class 'fish' (${path.join(root, 'fish')}) has no usable image`],
  );
  assert.match(errors[0].hint ?? '', /Add \.jpg\/\.jpeg\/\.png\/\.\.\. images to it, or remove the folder/);
});

test('errors: a split left empty names the fraction to change', () => {
  const root = tree(images({ a: 2, b: 1 })); // val 0.2 of 3 images
  const e = onlyError(indexDataset(root, { split: { val: 0.2, test: 0 }, seed: 1 }));
  assert.equal(e.path, 'data.split.val');
  assert.equal(e.message, 'the val split is empty: 0.2 of each class rounds to 0 images (the largest class has 2)');
  assert.match(e.hint ?? '', /at least 3 per class for val 0\.2\), or set data\.split\.val to 0/);
  const t = (indexDataset(root, { split: { val: 0, test: 0.1 }, seed: 1 }) as { errors: InputProblem[] }).errors[0];
  assert.equal(t.path, 'data.split.test');
  ok(indexDataset(root, { split: { val: 0, test: 0 }, seed: 1 }));
});

test('errors: mixed split and class folders at the top level', () => {
  const root = tree({ ...images({ a: 2, b: 2 }, 'train/'), ...images({ cats: 2 }) });
  const e = onlyError(indexDataset(root, SPLIT));
  assert.equal(e.message, `${root} mixes split folders (train/) with class folders (cats/)`);
  assert.match(e.hint ?? '', /Use one layout: move the class folders into train\//);
});

test('errors in the pre-split layout: no train/, val/ and validation/ both, a class missing from train/, an empty split', () => {
  let root = tree({ ...images({ a: 2, b: 2 }, 'val/'), ...images({ a: 2, b: 2 }, 'test/') });
  assert.equal(onlyError(indexDataset(root, SPLIT)).message, `${root} has val/ and test/ but no train/ folder`);
  root = tree({ ...images({ a: 2, b: 2 }, 'train/'), ...images({ a: 1 }, 'val/'), ...images({ b: 1 }, 'validation/') });
  assert.equal(onlyError(indexDataset(root, SPLIT)).message, `${root} has both val/ and validation/, which are the same split`);
  root = tree({ ...images({ a: 2, b: 2 }, 'train/'), ...images({ a: 1, b: 1, c: 1 }, 'val/') });
  assert.equal(onlyError(indexDataset(root, SPLIT)).message, "class 'c' has images in val but none in train/, so the model could never learn it");
  root = tree({ ...images({ a: 2, b: 2 }, 'train/'), 'test/a/': null, 'test/b/notes.txt': 'x' });
  const e = onlyError(indexDataset(root, SPLIT));
  assert.equal(e.message, `the test split is empty: ${path.join(root, 'test')} has no usable image`);
  assert.match(e.hint ?? '', /or remove the test\/ folder/);
});

test('symbolic link loops, duplicate links and broken links are skipped, not followed forever', { skip: process.platform === 'win32' }, () => {
  const root = tree({ ...images({ a: 3, b: 3 }), 'outside/o1.png': PNG });
  fs.symlinkSync(path.join(root, 'a'), path.join(root, 'a', 'loop')); // a/loop -> a
  fs.symlinkSync(path.join(root, 'a', 'self.png'), path.join(root, 'a', 'self.png')); // file link to itself
  fs.symlinkSync(path.join(root, 'missing.png'), path.join(root, 'b', 'broken.png'));
  fs.mkdirSync(path.join(root, 'c'));
  fs.symlinkSync(path.join(root, 'outside'), path.join(root, 'c', 'linked')); // followed once
  fs.symlinkSync(path.join(root, 'c'), path.join(root, 'outside', 'back')); // c/linked/back -> c: a loop across folders
  const started = Date.now();
  const { value } = ok(indexDataset(root, { split: { val: 0, test: 0 }, seed: 1 }));
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(value.classes, ['a', 'b', 'c', 'outside']);
  assert.equal(value.counts.a.train + value.counts.a.val + value.counts.a.test, 3);
  assert.equal(value.counts.c.train + value.counts.c.val + value.counts.c.test, 1);
  const reasons = Object.fromEntries(value.skipped.map((s) => [path.relative(root, s.path), s.reason]));
  assert.match(reasons[path.join('a', 'loop')], /symbolic link loop/);
  assert.equal(reasons[path.join('a', 'self.png')], 'symbolic link loop');
  assert.equal(reasons[path.join('b', 'broken.png')], 'broken symbolic link (its target does not exist)');
  assert.match(reasons[path.join('c', 'linked', 'back')], /already indexed/);
});

test('listFolderAsync and collectImagesAsync give what listFolder and collectImages give, links and skipped files included', async () => {
  const root = tree({ ...images({ a: 3, b: 2 }), 'a/sub/s1.jpg': PNG, 'a/notes.txt': 'x', 'a/empty.png': '', 'a/.hidden.png': PNG, 'outside/o1.png': PNG });
  if (process.platform !== 'win32') {
    fs.symlinkSync(path.join(root, 'a'), path.join(root, 'a', 'loop'));
    fs.symlinkSync(path.join(root, 'missing.png'), path.join(root, 'b', 'broken.png'));
    fs.symlinkSync(path.join(root, 'outside'), path.join(root, 'a', 'linked'));
  }
  for (const dir of [root, path.join(root, 'a'), path.join(root, 'b'), path.join(root, 'absent')]) {
    assert.deepEqual(await listFolderAsync(dir), listFolder(dir), dir);
    const skippedSync: SkippedFile[] = [];
    const skippedAsync: SkippedFile[] = [];
    assert.deepEqual(await collectImagesAsync(dir, skippedAsync), collectImages(dir, skippedSync), dir);
    assert.deepEqual(skippedAsync, skippedSync, dir);
  }
  assert.ok((listFolder(path.join(root, 'absent')) as { error: string }).error === 'ENOENT');
  const skipped: SkippedFile[] = [];
  assert.equal((await collectImagesAsync(path.join(root, 'a'), skipped)).length, process.platform === 'win32' ? 4 : 5);
  assert.ok(skipped.some((k) => k.reason === 'empty file (0 bytes)'));
});

test('scaffoldDataset creates class folders and a README of counts', async () => {
  const dir = path.join(tmpRoot, 'scaffold1', 'pets');
  const r = await scaffoldDataset(dir, ['cats', 'dogs']);
  assert.ok(r.ok);
  assert.deepEqual(r.value.created, [dir, path.join(dir, 'cats'), path.join(dir, 'dogs')]);
  assert.equal(r.value.readmeWritten, true);
  assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /\| cats \| 0 \|\n\| dogs \| 0 \|\n\| \*\*total\*\* \| 0 \|/);
  // Adding a class to the existing dataset is fine and keeps the images.
  fs.writeFileSync(path.join(dir, 'cats', 'c1.png'), PNG);
  const again = await scaffoldDataset(dir, ['cats', 'dogs', 'birds']);
  assert.ok(again.ok);
  assert.deepEqual(again.value.created, [path.join(dir, 'birds')]);
  assert.ok(fs.existsSync(path.join(dir, 'cats', 'c1.png')));
  assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /\| birds \| 0 \|\n\| cats \| 1 \|\n\| dogs \| 0 \|/);
});

test('scaffoldDataset with splits creates train/ val/ test/ class folders', async () => {
  const dir = path.join(tmpRoot, 'scaffold2');
  const r = await scaffoldDataset(dir, ['x', 'y'], { splits: true });
  assert.ok(r.ok);
  for (const s of ['train', 'val', 'test']) for (const c of ['x', 'y']) assert.ok(fs.statSync(path.join(dir, s, c)).isDirectory());
  assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /\| class \| test \| train \| val \|/);
});

test('scaffoldDataset refuses folders that are not a dataset of that layout, and bad class names', async () => {
  const notDataset = tree({ 'notes.txt': 'mine', 'src/': null });
  let e = onlyError(await scaffoldDataset(notDataset, ['a', 'b']));
  assert.equal(e.message, `${notDataset} is not empty and is not a folder-per-class dataset: it has files (notes.txt)`);
  assert.equal(fs.readFileSync(path.join(notDataset, 'notes.txt'), 'utf8'), 'mine');
  const presplit = tree({ 'train/a/': null });
  e = onlyError(await scaffoldDataset(presplit, ['a', 'b']));
  assert.match(e.message, /it has split folders \(train\)/);
  const flat = tree({ 'a/': null });
  e = onlyError(await scaffoldDataset(flat, ['a', 'b'], { splits: true }));
  assert.match(e.message, /not a pre-split dataset: it has folders that are not train\/ val\/ test\/ \(a\)/);
  const bad = ((await scaffoldDataset(path.join(tmpRoot, 'scaffold3'), ['ok', '', '../up', '.hidden', 'train', 'Cat', 'cat'])) as { errors: InputProblem[] })
    .errors;
  assert.deepEqual(
    bad.map((b) => b.message),
    [
      "class name '' is empty",
      "class name '../up' contains a character that folder names cannot hold (/ \\ < > : \" | ? *)",
      "class name '.hidden' starts with a dot (hidden folders are ignored)",
      "class name 'train' is a split folder name (train, val, validation, test), which would make the dataset look pre-split",
      "class names 'Cat' and 'cat' are the same folder on case-insensitive file systems",
    ],
  );
  assert.equal(fs.existsSync(path.join(tmpRoot, 'scaffold3')), false, 'nothing created on error');
});

test('scaffoldDataset keeps a README.md it did not write', async () => {
  const dir = tree({ 'README.md': '# my notes', 'a/': null });
  const r = await scaffoldDataset(dir, ['a', 'b']);
  assert.ok(r.ok);
  assert.equal(r.value.readmeWritten, false);
  assert.match(r.warnings[0].message, /kept the existing/);
  assert.equal(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), '# my notes');
});

test('splitDatasetOnDisk copies into train/ val/ test/ with the same split as indexing', async () => {
  const src = tree({ ...images({ a: 12, b: 9 }), 'a/sub/a_sub.png': PNG, 'a/notes.txt': 'keep me' });
  const before = fs.readdirSync(src, { recursive: true }).length;
  const dest = path.join(tmpRoot, 'split-out-1');
  const r = await splitDatasetOnDisk(src, dest, SPLIT.split, SPLIT.seed);
  assert.ok(r.ok, r.ok ? '' : r.errors[0].message);
  const indexed = ok(indexDataset(src, SPLIT)).value;
  assert.deepEqual(r.value.counts, indexed.counts);
  assert.equal(r.value.files, 22);
  assert.equal(fs.readdirSync(src, { recursive: true }).length, before, 'copy leaves the source as it was');
  // The copy is a pre-split dataset with exactly the assignment indexing made.
  const copy = ok(indexDataset(dest, SPLIT)).value;
  assert.equal(copy.layout, 'presplit');
  assert.deepEqual(copy.counts, indexed.counts);
  const expected = indexed.items.map((i) => path.join(i.split, path.relative(src, i.path))).sort();
  assert.deepEqual(copy.items.map((i) => path.relative(dest, i.path)).sort(), expected);
  assert.ok(fs.existsSync(path.join(dest, 'README.md')));
});

test('splitDatasetOnDisk move mode moves images and leaves other files', async () => {
  const src = tree({ ...images({ a: 5, b: 5 }), 'b/notes.txt': 'keep me' });
  const dest = path.join(tmpRoot, 'split-out-2');
  const r = await splitDatasetOnDisk(src, dest, { val: 0.2, test: 0 }, 3, 'move');
  assert.ok(r.ok);
  assert.deepEqual(r.value.counts, { a: { train: 4, val: 1, test: 0 }, b: { train: 4, val: 1, test: 0 } });
  assert.equal(fs.existsSync(path.join(src, 'a')), false, 'an emptied class folder is removed');
  assert.deepEqual(fs.readdirSync(path.join(src, 'b')), ['notes.txt']);
  assert.equal(fs.existsSync(path.join(dest, 'test')), false, 'no empty split folder');
});

test('splitDatasetOnDisk refuses overlapping, non-empty or already split folders', async () => {
  const src = tree(images({ a: 5, b: 5 }));
  let e = onlyError(await splitDatasetOnDisk(src, path.join(src, 'out'), SPLIT.split, 1));
  assert.match(e.message, /overlaps the source/);
  const busy = tree({ 'x.txt': 'mine' });
  e = onlyError(await splitDatasetOnDisk(src, busy, SPLIT.split, 1));
  assert.equal(e.message, `the destination ${busy} already exists and is not an empty folder`);
  const presplit = tree(images({ a: 2, b: 2 }, 'train/'));
  e = onlyError(await splitDatasetOnDisk(presplit, path.join(tmpRoot, 'split-out-3'), SPLIT.split, 1));
  assert.match(e.message, /is already split into train\/ val\/ test\//);
  e = onlyError(await splitDatasetOnDisk(src, path.join(tmpRoot, 'split-out-4'), { val: 0.6, test: 0.5 }, 1));
  assert.match(e.message, /leave images for training/);
  e = onlyError(await splitDatasetOnDisk(path.join(tmpRoot, 'absent'), path.join(tmpRoot, 'split-out-5'), SPLIT.split, 1));
  assert.match(e.message, /does not exist/);
});
