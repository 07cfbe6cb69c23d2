// Our index of Keras weight files: <cacheDir>/keras-weights/<sha256(key)>.json says which blob
// (or, for Keras's own cached copy, which file) holds the file for a key, and its hash.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256 } from './blobStore';

export interface IndexRecord {
  version: 1;
  key: string;
  entryId: string;
  fileName: string;
  /** The URL it was downloaded from, or the file it was first seen at. */
  location: string;
  sha256: string;
  size: number;
  /** false: recorded from Keras's cache, no blob of ours. */
  blob: boolean;
  fetchedAt: string;
}

function indexFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, 'keras-weights', `${sha256(key)}.json`);
}

export function readRecord(cacheDir: string, key: string): IndexRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(indexFile(cacheDir, key), 'utf8')) as IndexRecord;
    return r.version === 1 && r.key === key && typeof r.sha256 === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

export function writeRecord(cacheDir: string, record: IndexRecord): void {
  const file = indexFile(cacheDir, record.key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, JSON.stringify(record, null, 2));
  fs.renameSync(tmp, file);
}
