// What the commands ask of the disk before they write (does it exist, is it a folder, is it
// empty), asked asynchronously: the extension host never waits on the disk.
import * as fs from 'node:fs/promises';

/** 'file', 'directory', or undefined when nothing is there (or it cannot be looked at). */
export async function pathKind(p: string): Promise<'file' | 'directory' | undefined> {
  try {
    return (await fs.stat(p)).isDirectory() ? 'directory' : 'file';
  } catch {
    return undefined;
  }
}

export async function pathExists(p: string): Promise<boolean> {
  return (await pathKind(p)) !== undefined;
}

/** A folder that has at least one entry. */
export async function isNonEmptyDir(p: string): Promise<boolean> {
  return (await pathKind(p)) === 'directory' && (await fs.readdir(p)).length > 0;
}
