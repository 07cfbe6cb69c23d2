// Reading a dataset folder: its listing (hidden entries left out, symbolic links followed),
// the images under a class folder, and which folder names mean a split. Shared by indexing
// (core/datasetIndex.ts) and scaffolding (core/datasetScaffold.ts); names and sizes only,
// decoding is the engine's.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SkippedFile, SplitName } from './datasetTypes';

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.bmp', '.tif', '.tiff'];

/** Folder names of the pre-split layout (case-insensitive) -> split. */
const SPLIT_FOLDERS: Readonly<Record<string, SplitName>> = { train: 'train', val: 'val', validation: 'val', test: 'test' };

export const isImageFile = (name: string): boolean => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
export const isHidden = (name: string): boolean => name.startsWith('.');
export const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const splitOfFolder = (name: string): SplitName | undefined => SPLIT_FOLDERS[name.toLowerCase()];
const EXTENSION_LIST = IMAGE_EXTENSIONS.join(', ');

/** Images under a class folder, recursively; symlinked folders are followed once (loops end). */
export function collectImages(classDir: string, skipped: SkippedFile[]): string[] {
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

export interface Listing {
  dirs: string[];
  files: string[];
  sizes: Map<string, number>;
  others: { name: string; reason: string }[];
}

/** Non-hidden entries of a folder, sorted, with symbolic links followed (broken ones reported). */
export function listFolder(dir: string): Listing | { error: string } {
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

export function statOrError(p: string): { stat: fs.Stats } | { error: string } {
  try {
    return { stat: fs.statSync(p) };
  } catch (e) {
    return { error: codeOf(e) };
  }
}

export const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? String(e);

export const preview = (names: string[], max = 5): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
