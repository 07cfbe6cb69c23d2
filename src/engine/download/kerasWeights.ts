// Keras's own ImageNet weight files for the Keras Applications catalog entries
// (`resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5`, `efficientnetb0_notop.h5`, …): one
// .h5 file per entry, from the URL keras.applications uses, checked against the hash Keras's
// source lists, kept in the content-addressed blob store (blobStore.ts) and re-verified every
// time it is read. Where the file comes from, first match wins:
//
//   1. our cache:   <cacheDir>/blobs/sha256/<hex>, found through <cacheDir>/keras-weights/<key>.json
//                   (key: the expected hash, so every URL serving the same file shares it; for a
//                   file Keras lists no hash for, the Keras URL). Works offline.
//   2. Keras's own cache: <KERAS_HOME or ~/.keras>/models/<fileName> (and /tmp/.keras/models,
//                   where Keras falls back when the home folder is not writable), used in place
//                   when it matches the hash. No network.
//   3. a download:  streamed to a partial blob, hashed (sha256, and md5 when Keras's hash is an
//                   md5), renamed into the store only when it matches; otherwise deleted and
//                   refused with the entry, URL, expected and actual hash. Progress is reported.
//
// Users behind a firewall set a mirror: TRANSFER_LAB_KERAS_MIRROR=https://mirror.example/base/
// replaces the `https://storage.googleapis.com/` prefix of every Keras URL (the hash is still
// Keras's). Air-gapped users and tests list their own files in an override manifest:
// TRANSFER_LAB_KERAS_WEIGHTS=/path/weights.json, `{ "<catalog id>": { "url": "https://…" |
// "path": "file.h5", "sha256": "<hex>" (or "md5") } }`, relative paths from the manifest's
// folder. An override replaces Keras's URL and hash for that entry (its files are checked
// against the manifest's hash instead), so it can serve weights that are not Keras's.
//
// MobileNet and MobileNetV2: Keras lists no hash. The first copy's sha256 is recorded (trust on
// first use) and every later copy, downloaded or found in Keras's cache, must match it; the
// notes say so.
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { blobPath, commitPartialBlob, partialBlobPath, removeBlob } from './blobStore';
import { ModelDownloadError, formatBytes } from './errors';
import { DEFAULT_DOWNLOAD_LIMITS, httpGet, type DownloadLimits } from './httpClient';
import { readRecord, writeRecord, type IndexRecord } from './kerasWeightsIndex';
import {
  KERAS_MIRROR_ENV,
  KERAS_WEIGHTS_ENV,
  effectiveRequest,
  kerasCacheFiles,
  type Effective,
  type Expected,
  type KerasWeightsOptions,
  type KerasWeightsRequest,
} from './kerasWeightsSources';
import { throttledProgress } from './progress';

export {
  KERAS_MIRROR_ENV,
  KERAS_WEIGHTS_ENV,
  kerasCacheFiles,
  kerasWeightsUrl,
  mirroredUrl,
  type HashAlgorithm,
  type KerasWeightsOptions,
  type KerasWeightsRequest,
} from './kerasWeightsSources';

export type KerasWeightsFrom = 'download' | 'cache' | 'keras-cache' | 'override-file';

export interface FetchedKerasWeights {
  /** The verified file to read: a blob of our cache, Keras's cached copy, or an override's file. */
  file: string;
  sha256: string;
  size: number;
  from: KerasWeightsFrom;
  /** The URL it was downloaded from (or first downloaded from), or the file it was read in place. */
  location: string;
  /** For the run log: where the weights came from and how they were checked. */
  notes: string[];
}

/** sha256 and md5 of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; md5: string; size: number }> {
  const s = createHash('sha256');
  const m = createHash('md5');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 4 * 2 ** 20 })) {
    s.update(chunk as Buffer);
    m.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: s.digest('hex'), md5: m.digest('hex'), size };
}

const short = (h: string) => `${h.slice(0, 12)}…`;

/** Whether the weights are here without the network (no hashing: for listings). */
export function kerasWeightsAvailability(
  req: KerasWeightsRequest,
  opts: Pick<KerasWeightsOptions, 'cacheDir' | 'kerasHome' | 'env' | 'overridesFile' | 'mirror'>,
): { state: 'cached' | 'keras-cache' | 'download'; file?: string } {
  let eff: Effective;
  try {
    eff = effectiveRequest(req, opts);
  } catch {
    return { state: 'download' };
  }
  const record = readRecord(opts.cacheDir, eff.key);
  if (record?.blob) {
    const file = blobPath(opts.cacheDir, record.sha256);
    try {
      if (fs.statSync(file).size === record.size) return { state: 'cached', file };
    } catch {
      // not there: look further
    }
  }
  if ('path' in eff.source && fs.existsSync(eff.source.path)) return { state: 'cached', file: eff.source.path };
  const keras = kerasCacheFiles(eff.kerasFileName, opts).find((f) => fs.existsSync(f));
  return keras ? { state: 'keras-cache', file: keras } : { state: 'download' };
}

function mismatch(req: KerasWeightsRequest, where: string, expected: Expected, actual: { sha256: string; md5: string }, tail: string): ModelDownloadError {
  return new ModelDownloadError(
    'hash-mismatch',
    `'${req.entryId}': the weight file ${where} does not match ${expected.by}: expected ${expected.algorithm} ${expected.hash}, got ${actual[expected.algorithm]}. ${tail}`,
    where,
  );
}

const matches = (expected: Expected, actual: { sha256: string; md5: string }) => actual[expected.algorithm] === expected.hash;

/** One fetchKerasWeights call: what was asked, where to look, what the file must match, what to tell the user. */
interface Lookup {
  req: KerasWeightsRequest;
  opts: KerasWeightsOptions;
  eff: Effective;
  /** null: no hash known yet (trust on first use). */
  expected: Expected | null;
  /** ' (override: <manifest>)' when an override manifest chose the source, else ''. */
  via: string;
  notes: string[];
}

/**
 * The verified weight file for a Keras Applications entry; see the file comment for the
 * order of places and what is checked. Errors are ModelDownloadError naming the entry.
 */
export async function fetchKerasWeights(req: KerasWeightsRequest, opts: KerasWeightsOptions): Promise<FetchedKerasWeights> {
  const eff = effectiveRequest(req, opts);
  const record = readRecord(opts.cacheDir, eff.key);
  // A file Keras lists no hash for: the first copy's sha256 is what later copies must match.
  const expected: Expected | null =
    eff.expected ??
    (record
      ? {
          algorithm: 'sha256',
          hash: record.sha256,
          by: `the sha256 recorded when ${req.fileName} was first seen on ${record.fetchedAt} (Keras lists no hash for it)`,
        }
      : null);
  const lookup: Lookup = { req, opts, eff, expected, via: eff.override ? ` (override: ${eff.override})` : '', notes: [] };
  return (
    (record?.blob ? await fromOurCache(lookup, record) : undefined) ?? // 1. Our cache.
    (await fromLocalFile(lookup)) ?? // 2. An override's local file, or Keras's own cache, used in place.
    (await download(lookup)) // 3. Download.
  );
}

/** Our cached blob, re-hashed; a corrupt one is removed (and noted) so the file is fetched again. */
async function fromOurCache({ req, opts, expected, via, notes }: Lookup, record: IndexRecord): Promise<FetchedKerasWeights | undefined> {
  const cacheDir = opts.cacheDir;
  const file = blobPath(cacheDir, record.sha256);
  if (!fs.existsSync(file)) return undefined;
  const actual = await hashFile(file);
  if (actual.sha256 === record.sha256 && (!expected || matches(expected, actual))) {
    notes.push(
      `Weights: ${req.fileName} from the download cache (${file}, first downloaded from ${record.location} on ${record.fetchedAt}; sha256 verified now).${via}`,
    );
    return { file, sha256: actual.sha256, size: actual.size, from: 'cache', location: record.location, notes };
  }
  notes.push(
    `The cached copy of ${req.fileName} (${file}) was corrupt (sha256 ${short(actual.sha256)}, expected ${short(record.sha256)}); it was removed and fetched again.`,
  );
  removeBlob(cacheDir, record.sha256);
  return undefined;
}

/** An override's local file (which must exist and match), or the first of Keras's cached copies that matches. */
async function fromLocalFile({ req, opts, eff, expected, notes }: Lookup): Promise<FetchedKerasWeights | undefined> {
  const local = 'path' in eff.source ? [eff.source.path] : eff.override ? [] : kerasCacheFiles(eff.kerasFileName, opts);
  for (const file of local) {
    if (!fs.existsSync(file)) {
      if ('path' in eff.source)
        throw new ModelDownloadError(
          'network',
          `'${req.entryId}': the override manifest ${eff.override} names ${file}, which does not exist. Fix its "path".`,
          file,
        );
      continue;
    }
    const actual = await hashFile(file);
    if (expected && !matches(expected, actual)) {
      if ('path' in eff.source) throw mismatch(req, file, expected, actual, 'Check the file, or the hash in the override manifest.');
      notes.push(`Keras's cached ${file} does not match ${expected.by} (${expected.algorithm} ${short(actual[expected.algorithm])}): not used.`);
      continue;
    }
    const from: KerasWeightsFrom = 'path' in eff.source ? 'override-file' : 'keras-cache';
    if (!expected) {
      writeRecord(opts.cacheDir, {
        version: 1,
        key: eff.key,
        entryId: req.entryId,
        fileName: req.fileName,
        location: file,
        sha256: actual.sha256,
        size: actual.size,
        blob: false,
        fetchedAt: new Date().toISOString(),
      });
      notes.push(
        `Weights: ${file}, Keras's own cached copy, used without the network. Keras lists no hash for ${req.fileName}: its sha256 ${actual.sha256} was recorded now (trust on first use) and later copies must match it.`,
      );
    } else {
      notes.push(
        from === 'keras-cache'
          ? `Weights: ${file}, Keras's own cached copy (${expected.algorithm} matches ${expected.by}), used without the network.`
          : `Weights: ${file}, from the override manifest ${eff.override} (${expected.algorithm} verified).`,
      );
    }
    return { file, sha256: actual.sha256, size: actual.size, from, location: file, notes };
  }
  return undefined;
}

/** Downloads into a partial blob, checks the hash, and only then stores and indexes it. */
async function download(lookup: Lookup): Promise<FetchedKerasWeights> {
  const { req, opts, eff, expected, via, notes } = lookup;
  if (!('url' in eff.source)) throw new Error('unreachable: a path override returns above');
  const url = eff.source.url;
  const cacheDir = opts.cacheDir;
  const tmp = partialBlobPath(cacheDir);
  const got = await downloadTo(lookup, url, tmp);
  let actual: { sha256: string; md5: string; size: number };
  try {
    actual = expected?.algorithm === 'md5' ? await hashFile(tmp) : { sha256: got.sha256, md5: '', size: got.size };
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (expected && !matches(expected, actual)) {
    fs.rmSync(tmp, { force: true });
    throw mismatch(
      req,
      `downloaded from ${url}`,
      expected,
      actual,
      eff.override
        ? 'Nothing was kept. Check the file the override serves, or its hash in the manifest.'
        : `Nothing was kept. The download was damaged, or the server${url === req.url ? '' : ` (mirror ${KERAS_MIRROR_ENV})`} serves another file: try again, or use another mirror.`,
    );
  }
  const file = commitPartialBlob(cacheDir, tmp, actual.sha256);
  writeRecord(cacheDir, {
    version: 1,
    key: eff.key,
    entryId: req.entryId,
    fileName: req.fileName,
    location: url,
    sha256: actual.sha256,
    size: actual.size,
    blob: true,
    fetchedAt: new Date().toISOString(),
  });
  notes.push(
    expected
      ? `Weights: ${req.fileName} downloaded from ${url} (${formatBytes(actual.size)}; ${expected.algorithm} matches ${expected.by}), cached at ${file}.${via}`
      : `Weights: ${req.fileName} downloaded from ${url} (${formatBytes(actual.size)}), cached at ${file}. Keras lists no hash for this file: its sha256 ${actual.sha256} was recorded now (trust on first use) and later copies must match it.`,
  );
  return { file, sha256: actual.sha256, size: actual.size, from: 'download', location: url, notes };
}

/** The GET itself, with progress; a failure is explained with the ways to get the file without the network. */
async function downloadTo({ req, opts }: Lookup, url: string, tmp: string): Promise<{ sha256: string; size: number }> {
  const limits: Required<DownloadLimits> = {
    stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_DOWNLOAD_LIMITS.stallTimeoutMs,
    maxTotalBytes: opts.maxTotalBytes ?? Math.max(DEFAULT_DOWNLOAD_LIMITS.maxTotalBytes, Math.ceil((req.approxBytes ?? 0) * 1.25) + 64 * 2 ** 20),
    maxRedirects: opts.maxRedirects ?? DEFAULT_DOWNLOAD_LIMITS.maxRedirects,
  };
  const progress = throttledProgress(opts.onProgress, req.approxBytes);
  let got;
  try {
    got = await httpGet(url, { limits, budget: limits.maxTotalBytes, onBytes: (n) => progress.add(n), toFile: tmp, signal: opts.signal });
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if (!(e instanceof ModelDownloadError)) throw e;
    const mb = req.approxBytes ? ` (about ${(req.approxBytes / 1e6).toFixed(1)} MB)` : '';
    const ways =
      e.kind === 'cancelled'
        ? ''
        : ` Connect to the network once (the file is cached after that), or put Keras's ${req.fileName} in ~/.keras/models/, set ${KERAS_MIRROR_ENV} to a mirror of storage.googleapis.com, or list a local copy in a ${KERAS_WEIGHTS_ENV} override manifest.`;
    throw new ModelDownloadError(
      e.kind,
      `'${req.entryId}' needs its ImageNet weights ${req.fileName}${mb}, which are not cached here: ${e.message}${ways}`,
      e.url ?? url,
    );
  }
  progress.flush();
  return got;
}
