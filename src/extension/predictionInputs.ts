// What to predict, from whatever the user gave: explorer Uris (one, or the multi-selection),
// files and folders from the open dialog or dropped on the panel, paths from scripts. Folders
// are walked (asynchronously: the host never waits on the disk) for their images; each image
// remembers the folder it came from, so that folder's accuracy can be computed.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { isImageFile } from '../core/datasetIndex';

/** Images found under one folder at most: beyond it the user is told, and the rest is left out. */
export const MAX_IMAGES = 20_000;

export interface PredictionInputs {
  /** The files and folders given, absolute. */
  inputs: string[];
  images: { file: string; root?: string }[];
  /** Given files that are not images, and paths that do not exist or cannot be read: named in the panel. */
  problems: string[];
  /** Folders whose images were cut at MAX_IMAGES. */
  truncated: string[];
}

/** Absolute paths from (clicked, selected[]) of the explorer, a Uri, Uris, or plain paths. */
export function pathsFrom(arg: unknown, selected: unknown): string[] | undefined {
  const asPath = (x: unknown) => (x instanceof vscode.Uri ? (x.scheme === 'file' ? x.fsPath : undefined) : typeof x === 'string' ? x : undefined);
  const list = Array.isArray(selected) && selected.length > 0 ? selected : Array.isArray(arg) ? arg : arg instanceof vscode.Uri ? [arg] : undefined;
  if (!list) return undefined;
  const paths = list.map(asPath).filter((p): p is string => p !== undefined);
  return paths.length > 0 ? paths.map((p) => path.resolve(p)) : undefined;
}

/** file: URIs dropped on the panel (text/uri-list) as paths; anything else is refused by name. */
export function pathsFromUriList(uris: readonly string[]): { paths: string[]; refused: string[] } {
  const paths: string[] = [];
  const refused: string[] = [];
  for (const text of uris) {
    try {
      const uri = vscode.Uri.parse(text.trim(), true);
      if (uri.scheme === 'file') paths.push(uri.fsPath);
      else refused.push(`${text}: not a file on this machine (drop files or folders from the explorer)`);
    } catch {
      refused.push(`${text}: not a file URI`);
    }
  }
  return { paths, refused };
}

async function walk(dir: string, root: string, out: PredictionInputs, budget: { left: number }): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    out.problems.push(`${dir}: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? String(e)}); check its permissions.`);
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (budget.left <= 0) {
      if (!out.truncated.includes(root)) out.truncated.push(root);
      return;
    }
    // Hidden folders (.git, .transferlab runs) and node_modules hold no images to classify.
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, root, out, budget);
    else if (entry.isFile() && isImageFile(entry.name)) {
      out.images.push({ file: full, root });
      budget.left--;
    }
  }
}

/** The images of the given files and folders, in order, without duplicates. */
export async function collectInputs(paths: readonly string[]): Promise<PredictionInputs> {
  const out: PredictionInputs = { inputs: [...new Set(paths)], images: [], problems: [], truncated: [] };
  for (const p of out.inputs) {
    let stat;
    try {
      stat = await fs.stat(p);
    } catch {
      out.problems.push(`${p}: not found; it may have been moved or deleted.`);
      continue;
    }
    if (stat.isDirectory()) {
      const before = out.images.length;
      await walk(p, p, out, { left: MAX_IMAGES });
      if (out.images.length === before) out.problems.push(`${p}: no images in this folder (looked for .png, .jpg, .webp, .gif, .bmp, .tif).`);
    } else if (isImageFile(p)) out.images.push({ file: p });
    else out.problems.push(`${p}: not an image; pick .png, .jpg, .jpeg, .webp, .gif, .bmp or .tif files, or a folder of them.`);
  }
  const seen = new Set<string>();
  out.images = out.images.filter((i) => !seen.has(i.file) && seen.add(i.file));
  return out;
}

/**
 * The open dialog: several images, or several folders (Windows and Linux dialogs cannot pick
 * both kinds at once, so the panel has a button for each).
 */
export async function pickInputs(folders: boolean): Promise<string[] | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: folders ? 'Folders of images to classify' : 'Images to classify',
    openLabel: 'Predict',
    canSelectMany: true,
    canSelectFiles: !folders,
    canSelectFolders: folders,
    filters: folders ? undefined : { Images: ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'] },
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked && picked.length > 0 ? picked.map((u) => u.fsPath) : undefined;
}
