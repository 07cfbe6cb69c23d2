// The content-addressed store on disk:
//
//   <cacheDir>/blobs/sha256/<hex>        every file, named by the sha256 of its bytes
//   <cacheDir>/index/<sha256(url)>.json  model.json URL -> its blob, and each weightsManifest
//                                        path -> URL, blob hash and size
//
// Every blob is re-hashed when it is read, so a corrupt cache is noticed. Files appear
// atomically: written under a temporary name, then renamed into place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';

export interface CachedFile {
  /** The path as written in model.json's weightsManifest. */
  path: string;
  url: string;
  sha256: string;
  size: number;
}

export interface IndexEntry {
  version: 1;
  url: string;
  modelJson: { sha256: string; size: number };
  weights: CachedFile[];
  fetchedAt: string;
}

export const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

export function blobPath(cacheDir: string, hash: string): string {
  return path.join(cacheDir, 'blobs', 'sha256', hash);
}

/** A fresh name in the blob folder for a download in progress (renamed once its hash is known). */
export function partialBlobPath(cacheDir: string): string {
  return path.join(cacheDir, 'blobs', 'sha256', `.partial-${process.pid}-${randomBytes(6).toString('hex')}`);
}

function indexPath(cacheDir: string, url: string): string {
  return path.join(cacheDir, 'index', `${sha256(url)}.json`);
}

function writeAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export type BlobRead = { status: 'ok'; data: Buffer } | { status: 'missing' } | { status: 'corrupt'; actual: string };

/** Reads a blob and re-hashes it: the bytes are returned only when they match their name. */
export function readVerifiedBlob(cacheDir: string, hash: string): BlobRead {
  let data: Buffer;
  try {
    data = fs.readFileSync(blobPath(cacheDir, hash));
  } catch {
    return { status: 'missing' };
  }
  const actual = sha256(data);
  return actual === hash ? { status: 'ok', data } : { status: 'corrupt', actual };
}

/** Stores bytes under their hash (kept as is when a verified copy is already there). */
export function putBlob(cacheDir: string, data: Uint8Array): string {
  const hash = sha256(data);
  const file = blobPath(cacheDir, hash);
  if (readVerifiedBlob(cacheDir, hash).status !== 'ok') writeAtomic(file, data);
  return hash;
}

/** Moves a finished download (see partialBlobPath) to its blob name; returns that name. */
export function commitPartialBlob(cacheDir: string, partial: string, hash: string): string {
  const target = blobPath(cacheDir, hash);
  fs.renameSync(partial, target);
  return target;
}

export function removeBlob(cacheDir: string, hash: string): void {
  fs.rmSync(blobPath(cacheDir, hash), { force: true });
}

export function readIndex(cacheDir: string, url: string): IndexEntry | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(indexPath(cacheDir, url), 'utf8')) as IndexEntry;
    return entry.version === 1 && entry.url === url && Array.isArray(entry.weights) ? entry : undefined;
  } catch {
    return undefined;
  }
}

export function writeIndex(cacheDir: string, entry: IndexEntry): void {
  writeAtomic(indexPath(cacheDir, entry.url), JSON.stringify(entry, null, 2));
}

/** What the cache holds for a model.json URL (for `inspect`, tests, and cache views). */
export function cachedModelInfo(cacheDir: string, url: string): { modelJsonSha256: string; weights: CachedFile[]; fetchedAt: string } | undefined {
  const entry = readIndex(cacheDir, url);
  return entry && { modelJsonSha256: entry.modelJson.sha256, weights: entry.weights, fetchedAt: entry.fetchedAt };
}

/** The blob file for a hash (tests corrupt it; a cache view can show its size). */
export function cachedBlobFile(cacheDir: string, hash: string): string {
  return blobPath(cacheDir, hash);
}
