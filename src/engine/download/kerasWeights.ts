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
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { blobPath, commitPartialBlob, partialBlobPath, removeBlob, sha256 } from './blobStore';
import { ModelDownloadError, formatBytes } from './errors';
import { DEFAULT_DOWNLOAD_LIMITS, httpGet, type DownloadLimits } from './httpClient';

export type HashAlgorithm = 'sha256' | 'md5';

/** What to fetch: a catalog entry's Keras weight file. */
export interface KerasWeightsRequest {
  /** Catalog id (messages, and the key of the override manifest). */
  entryId: string;
  /** The URL Keras downloads. */
  url: string;
  /** Keras's cache name, `~/.keras/models/<fileName>`. */
  fileName: string;
  /** The hash Keras lists, or null (MobileNet, MobileNetV2). */
  hash: string | null;
  hashAlgorithm: HashAlgorithm | null;
  /** About how many bytes (for progress and the size limit). */
  approxBytes?: number;
}

export interface KerasWeightsOptions extends DownloadLimits {
  cacheDir: string;
  onProgress?: (loadedBytes: number, totalBytes?: number) => void;
  /** Aborting it stops a download ('cancelled'). */
  signal?: AbortSignal;
  /** Base URL replacing `https://storage.googleapis.com/`; default: TRANSFER_LAB_KERAS_MIRROR. */
  mirror?: string;
  /** Override manifest; default: TRANSFER_LAB_KERAS_WEIGHTS. */
  overridesFile?: string;
  /** Keras's home folder (its cache is `<home>/models`); default as Keras decides; false: never look. */
  kerasHome?: string | false;
  /** Where the defaults above are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

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

export const KERAS_MIRROR_ENV = 'TRANSFER_LAB_KERAS_MIRROR';
export const KERAS_WEIGHTS_ENV = 'TRANSFER_LAB_KERAS_WEIGHTS';
const GOOGLE_STORAGE = 'https://storage.googleapis.com/';

interface Expected {
  algorithm: HashAlgorithm;
  hash: string;
  /** Who says so, for messages: "the md5 Keras lists", "the sha256 in <manifest>", "the sha256 recorded …". */
  by: string;
}

/** The request after the override manifest and the mirror: where to look, what to expect. */
interface Effective {
  source: { url: string } | { path: string };
  /** null: Keras lists no hash and nothing is recorded yet (trust on first use). */
  expected: Expected | null;
  override?: string;
  /** The index key of this file in our cache. */
  key: string;
  /** Look in Keras's cache too (not for override files pointing elsewhere with other hashes). */
  kerasFileName: string;
}

interface IndexRecord {
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

const HEX = /^[0-9a-f]+$/i;

function envOf(opts: KerasWeightsOptions): NodeJS.ProcessEnv {
  return opts.env ?? process.env;
}

/** Keras's `https://storage.googleapis.com/…` URL under a mirror base. */
export function mirroredUrl(url: string, mirror: string | undefined): string {
  if (!mirror || !url.startsWith(GOOGLE_STORAGE)) return url;
  return `${mirror.replace(/\/+$/, '')}/${url.slice(GOOGLE_STORAGE.length)}`;
}

function overrideError(file: string, message: string): ModelDownloadError {
  return new ModelDownloadError('bad-model-json', `${KERAS_WEIGHTS_ENV}=${file}: ${message}`);
}

/** The override manifest's entry for `entryId`, checked; undefined when there is none. */
function readOverride(file: string, entryId: string): { source: { url: string } | { path: string }; expected: Expected } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw overrideError(
      file,
      code ? `cannot read the override manifest (${code === 'ENOENT' ? 'no such file' : code}).` : `not valid JSON (${(e as Error).message.split('\n')[0]}).`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw overrideError(file, 'the override manifest must be a JSON object: { "<catalog id>": { "url": "…", "sha256": "…" } }.');
  const entry = (parsed as Record<string, unknown>)[entryId];
  if (entry === undefined) return undefined;
  const e = entry as Record<string, unknown>;
  if (!e || typeof e !== 'object') throw overrideError(file, `'${entryId}' must be an object with "url" or "path", and "sha256" or "md5".`);
  const where = typeof e.url === 'string' ? { url: e.url } : typeof e.path === 'string' ? { path: path.resolve(path.dirname(file), e.path) } : undefined;
  if (!where) throw overrideError(file, `'${entryId}' names no "url" or "path" for the weight file.`);
  const algorithm: HashAlgorithm | undefined = typeof e.sha256 === 'string' ? 'sha256' : typeof e.md5 === 'string' ? 'md5' : undefined;
  const hash = algorithm ? String(e[algorithm]).toLowerCase() : undefined;
  if (!algorithm || !hash || !HEX.test(hash) || hash.length !== (algorithm === 'sha256' ? 64 : 32)) {
    throw overrideError(
      file,
      `'${entryId}' needs the file's "sha256" (64 hex digits; \`sha256sum file.h5\` prints it) or "md5" (32), so the weights can be checked.`,
    );
  }
  return { source: where, expected: { algorithm, hash, by: `the ${algorithm} in ${file}` } };
}

function indexFile(cacheDir: string, key: string): string {
  return path.join(cacheDir, 'keras-weights', `${sha256(key)}.json`);
}

function readRecord(cacheDir: string, key: string): IndexRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(indexFile(cacheDir, key), 'utf8')) as IndexRecord;
    return r.version === 1 && r.key === key && typeof r.sha256 === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

function writeRecord(cacheDir: string, record: IndexRecord): void {
  const file = indexFile(cacheDir, record.key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, JSON.stringify(record, null, 2));
  fs.renameSync(tmp, file);
}

function effectiveRequest(req: KerasWeightsRequest, opts: KerasWeightsOptions): Effective {
  const env = envOf(opts);
  const overridesFile = opts.overridesFile ?? env[KERAS_WEIGHTS_ENV];
  const override = overridesFile ? readOverride(path.resolve(overridesFile), req.entryId) : undefined;
  const mirror = opts.mirror ?? env[KERAS_MIRROR_ENV];
  if (override) {
    const source = 'url' in override.source ? { url: mirroredUrl(override.source.url, mirror) } : override.source;
    return {
      source,
      expected: override.expected,
      override: path.resolve(overridesFile!),
      key: `${override.expected.algorithm}:${override.expected.hash}`,
      kerasFileName: req.fileName,
    };
  }
  const expected: Expected | null =
    req.hash && req.hashAlgorithm
      ? { algorithm: req.hashAlgorithm, hash: req.hash.toLowerCase(), by: `the ${req.hashAlgorithm} Keras lists for ${req.fileName}` }
      : null;
  return {
    source: { url: mirroredUrl(req.url, mirror) },
    expected,
    key: expected ? `${expected.algorithm}:${expected.hash}` : `unhashed:${req.url}`,
    kerasFileName: req.fileName,
  };
}

/**
 * The URL a download of `req` would use (override manifest, then mirror, then Keras's), or
 * undefined when the override names a local file. A broken manifest is the download's to
 * report, with its details: here it counts as absent.
 */
export function kerasWeightsUrl(req: KerasWeightsRequest, opts: Pick<KerasWeightsOptions, 'env' | 'overridesFile' | 'mirror'> = {}): string | undefined {
  try {
    const { source } = effectiveRequest(req, opts as KerasWeightsOptions);
    return 'url' in source ? source.url : undefined;
  } catch {
    return mirroredUrl(req.url, opts.mirror ?? envOf(opts as KerasWeightsOptions)[KERAS_MIRROR_ENV]);
  }
}

/** Keras's cache files that may hold `fileName`, as keras.src.utils.file_utils.get_file places them. */
export function kerasCacheFiles(fileName: string, opts: Pick<KerasWeightsOptions, 'kerasHome' | 'env'> = {}): string[] {
  if (opts.kerasHome === false) return [];
  const env = opts.env ?? process.env;
  // keras.src.backend.config: KERAS_HOME, else ~/.keras, else (home not writable) /tmp/.keras;
  // get_file also falls back to /tmp/.keras when that folder is not writable.
  const tmpKeras = path.join(fs.existsSync('/tmp') ? '/tmp' : os.tmpdir(), '.keras');
  const writable = (d: string) => {
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  let home = opts.kerasHome ?? env.KERAS_HOME ?? (writable(os.homedir()) ? path.join(os.homedir(), '.keras') : tmpKeras);
  if (fs.existsSync(home) && !writable(home)) home = tmpKeras;
  return [path.join(path.resolve(home), 'models', fileName)];
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

function throttled(onProgress: KerasWeightsOptions['onProgress'], total: number | undefined) {
  let loaded = 0;
  let last = 0;
  const report = () => onProgress?.(loaded, total !== undefined ? Math.max(total, loaded) : undefined);
  return {
    add(n: number) {
      loaded += n;
      const now = Date.now();
      if (now - last >= 100) {
        last = now;
        report();
      }
    },
    flush: report,
  };
}

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

/**
 * The verified weight file for a Keras Applications entry; see the file comment for the
 * order of places and what is checked. Errors are ModelDownloadError naming the entry.
 */
export async function fetchKerasWeights(req: KerasWeightsRequest, opts: KerasWeightsOptions): Promise<FetchedKerasWeights> {
  const eff = effectiveRequest(req, opts);
  const notes: string[] = [];
  const cacheDir = opts.cacheDir;
  const record = readRecord(cacheDir, eff.key);
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
  const via = eff.override ? ` (override: ${eff.override})` : '';

  // 1. Our cache.
  if (record?.blob) {
    const file = blobPath(cacheDir, record.sha256);
    if (fs.existsSync(file)) {
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
    }
  }

  // 2. An override's local file, or Keras's own cache, used in place.
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
      writeRecord(cacheDir, {
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

  // 3. Download.
  if (!('url' in eff.source)) throw new Error('unreachable: a path override returns above');
  const url = eff.source.url;
  const limits: Required<DownloadLimits> = {
    stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_DOWNLOAD_LIMITS.stallTimeoutMs,
    maxTotalBytes: opts.maxTotalBytes ?? Math.max(DEFAULT_DOWNLOAD_LIMITS.maxTotalBytes, Math.ceil((req.approxBytes ?? 0) * 1.25) + 64 * 2 ** 20),
    maxRedirects: opts.maxRedirects ?? DEFAULT_DOWNLOAD_LIMITS.maxRedirects,
  };
  const progress = throttled(opts.onProgress, req.approxBytes);
  const tmp = partialBlobPath(cacheDir);
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
