// The datasets New Experiment offers: folders of the workspace that look like a dataset
// (a folder per class, or train/ val/ test/ of them), found without blocking the extension
// host, and how many training images per class one has.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isImageFile } from '../../core/datasetIndex';
import { EXPERIMENT_DEFAULTS } from '../../core/experimentValidation';
import type { OffThread } from '../offThread';

const SKIP_DIRS = new Set(['node_modules', '.git', '.transferlab', 'out', 'dist', '.vscode', '__pycache__', '.venv', 'venv']);

export interface DatasetCandidate {
  dir: string;
  layout: 'folders' | 'presplit';
  classes: number;
  /** Images counted while looking (capped per folder). */
  sampleImages: number;
}

/** Lists up to `maxEntries` entries of a folder (never throws). */
async function listDir(dir: string, maxEntries = 2000): Promise<fs.Dirent[]> {
  try {
    const out: fs.Dirent[] = [];
    const handle = await fs.promises.opendir(dir);
    try {
      for (let e = await handle.read(); e && out.length < maxEntries; e = await handle.read()) out.push(e);
    } finally {
      await handle.close();
    }
    return out;
  } catch {
    return [];
  }
}

/** Images directly in a folder, counting at most `cap`. */
async function countImages(dir: string, cap = 200): Promise<number> {
  let n = 0;
  for (const e of await listDir(dir, 5000)) {
    if (e.isFile() && isImageFile(e.name) && ++n >= cap) break;
  }
  return n;
}

const classFolders = (entries: fs.Dirent[]) => entries.filter((e) => e.isDirectory() && !e.name.startsWith('.'));

/** What a folder looks like: a dataset (and which layout), or not. */
export async function looksLikeDataset(dir: string): Promise<DatasetCandidate | undefined> {
  const subdirs = classFolders(await listDir(dir));
  const train = subdirs.find((e) => e.name.toLowerCase() === 'train');
  if (train) {
    const classes = classFolders(await listDir(path.join(dir, train.name)));
    let images = 0;
    for (const c of classes) images += await countImages(path.join(dir, train.name, c.name), 50);
    if (classes.length >= 2 && images > 0) return { dir, layout: 'presplit', classes: classes.length, sampleImages: images };
    return undefined;
  }
  if (subdirs.length < 2) return undefined;
  let withImages = 0;
  let images = 0;
  for (const c of subdirs.slice(0, 200)) {
    const n = await countImages(path.join(dir, c.name), 50);
    if (n > 0) withImages++;
    images += n;
  }
  return withImages >= 2 && withImages >= subdirs.length / 2 ? { dir, layout: 'folders', classes: subdirs.length, sampleImages: images } : undefined;
}

/** Datasets under the roots, breadth-first, limited in depth and folders visited so it stays fast. */
export async function findDatasets(roots: string[], maxDepth = 4, maxFolders = 3000): Promise<DatasetCandidate[]> {
  const found: DatasetCandidate[] = [];
  const queue = roots.map((r) => ({ dir: r, depth: 0 }));
  let visited = 0;
  while (queue.length > 0 && visited < maxFolders && found.length < 50) {
    const { dir, depth } = queue.shift()!;
    visited++;
    const candidate = await looksLikeDataset(dir);
    if (candidate) {
      found.push(candidate);
      continue; // not inside a dataset
    }
    if (depth >= maxDepth) continue;
    for (const e of await listDir(dir)) {
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) queue.push({ dir: path.join(dir, e.name), depth: depth + 1 });
    }
  }
  return found.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

export type TrainImageStats = { perClass: number; smallest: { name: string; count: number }; classes: number };

/** Average training images per class, as the experiment's default split would make them (indexed in the disk worker thread). */
export async function trainImagesPerClass(dir: string, disk: OffThread): Promise<TrainImageStats | undefined> {
  const D = EXPERIMENT_DEFAULTS.data;
  const indexed = (await disk.checkDataset(dir, { split: { ...D.split }, seed: D.seed })).index;
  if (!indexed || indexed.classes.length === 0) return undefined;
  const counts = indexed.classes.map((c) => ({ name: c, count: indexed.counts[c].train }));
  const total = counts.reduce((n, c) => n + c.count, 0);
  const smallest = counts.reduce((a, b) => (b.count < a.count ? b : a));
  return { perClass: total / counts.length, smallest, classes: counts.length };
}
