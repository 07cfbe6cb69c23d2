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
  const found = new ImageWalk(skipped);
  const walk = (dir: string) => {
    if (
      !found.enter(
        dir,
        realPathOrError(() => fs.realpathSync(dir)),
      )
    )
      return;
    const listing = listFolder(dir);
    for (const d of found.subfolders(dir, listing)) walk(d);
    found.take(dir, listing);
  };
  walk(classDir);
  return found.images;
}

/** collectImages without blocking (the extension host): the same images, in the same order, the same files skipped. */
export async function collectImagesAsync(classDir: string, skipped: SkippedFile[]): Promise<string[]> {
  const found = new ImageWalk(skipped);
  const walk = async (dir: string) => {
    if (!found.enter(dir, await fs.promises.realpath(dir).then((real) => ({ real }), errorOf))) return;
    const listing = await listFolderAsync(dir);
    for (const d of found.subfolders(dir, listing)) await walk(d);
    found.take(dir, listing);
  };
  await walk(classDir);
  return found.images;
}

const realPathOrError = (resolve: () => string): { real: string } | { error: string } => {
  try {
    return { real: resolve() };
  } catch (e) {
    return errorOf(e);
  }
};
const errorOf = (e: unknown) => ({ error: codeOf(e) });

/** One walk of collectImages, whichever way it reads the disk: what each folder adds. */
class ImageWalk {
  readonly images: string[] = [];
  private readonly visited = new Set<string>();

  constructor(private readonly skipped: SkippedFile[]) {}

  /** Whether to list `dir`: its real path resolved and not walked before (else skipped, with why). */
  enter(dir: string, real: { real: string } | { error: string }): boolean {
    if ('error' in real) {
      this.skipped.push({ path: dir, reason: `cannot resolve folder (${real.error})` });
      return false;
    }
    if (this.visited.has(real.real)) {
      this.skipped.push({ path: dir, reason: 'folder already indexed through another path (symbolic link loop or duplicate link)' });
      return false;
    }
    this.visited.add(real.real);
    return true;
  }

  /** The subfolders to walk next (none when `dir` cannot be listed, which is reported). */
  subfolders(dir: string, listing: Listing | { error: string }): string[] {
    if (!('error' in listing)) return listing.dirs.map((d) => path.join(dir, d));
    this.skipped.push({ path: dir, reason: `cannot list folder (${listing.error})` });
    return [];
  }

  /** After its subfolders: the folder's own images, and what is skipped and why. */
  take(dir: string, listing: Listing | { error: string }): void {
    if ('error' in listing) return;
    for (const f of listing.files) {
      const full = path.join(dir, f);
      if (!isImageFile(f)) {
        const ext = path.extname(f);
        this.skipped.push({ path: full, reason: `not an image (${ext ? `extension ${ext}` : 'no file extension'}; accepted: ${EXTENSION_LIST})` });
      } else if (listing.sizes.get(f) === 0) {
        this.skipped.push({ path: full, reason: 'empty file (0 bytes)' });
      } else {
        this.images.push(full);
      }
    }
    for (const o of listing.others) this.skipped.push({ path: path.join(dir, o.name), reason: o.reason });
  }
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
  const names = visibleNames(entries);
  return listingOf(
    names,
    names.map((name) => statOrError(path.join(dir, name))),
  );
}

/** listFolder without blocking (the extension host): the same listing. */
export async function listFolderAsync(dir: string): Promise<Listing | { error: string }> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    return { error: codeOf(e) };
  }
  const names = visibleNames(entries);
  return listingOf(names, await Promise.all(names.map((name) => statOrErrorAsync(path.join(dir, name)))));
}

const visibleNames = (entries: fs.Dirent[]): string[] =>
  entries
    .map((e) => e.name)
    .filter((name) => !isHidden(name))
    .sort(byCodePoint);

/** The listing of entries `names`, each with what stat said of it. */
function listingOf(names: string[], stats: ({ stat: fs.Stats } | { error: string })[]): Listing {
  const out: Listing = { dirs: [], files: [], sizes: new Map(), others: [] };
  names.forEach((name, i) => {
    const st = stats[i];
    if ('error' in st) {
      const reason =
        st.error === 'ELOOP' ? 'symbolic link loop' : st.error === 'ENOENT' ? 'broken symbolic link (its target does not exist)' : `cannot read (${st.error})`;
      out.others.push({ name, reason });
    } else if (st.stat.isDirectory()) out.dirs.push(name);
    else if (st.stat.isFile()) {
      out.files.push(name);
      out.sizes.set(name, st.stat.size);
    } else out.others.push({ name, reason: 'not a regular file' });
  });
  return out;
}

export function statOrError(p: string): { stat: fs.Stats } | { error: string } {
  try {
    return { stat: fs.statSync(p) };
  } catch (e) {
    return { error: codeOf(e) };
  }
}

export const statOrErrorAsync = (p: string): Promise<{ stat: fs.Stats } | { error: string }> => fs.promises.stat(p).then((stat) => ({ stat }), errorOf);

export const codeOf = (e: unknown): string => (e as NodeJS.ErrnoException)?.code ?? String(e);

export const preview = (names: string[], max = 5): string =>
  names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
