// Downloads TF.js models (model.json + weight shards) through a verified, content-addressed
// cache. This module is the cache policy and the public API; the parts live in download/:
//
//   download/blobStore.ts   blobs named by sha256, and the URL index (layout described there)
//   download/httpClient.ts  one GET on Node's fetch under the limits (redirects, stalls, size)
//   download/urlPolicy.ts   which URLs may be downloaded
//   download/modelJson.ts   model.json parsing and the weight path rules
//   download/progress.ts    progress reports, throttled
//   download/errors.ts      ModelDownloadError
//
// Every blob is re-hashed when it is read, so a corrupt cache is noticed (and re-downloaded,
// or reported when offline). model.json is fetched on every load (it is small): if it is
// unchanged the weights come from the cache; if it changed the new weights are downloaded;
// if the network fails the cached copy is used and the result says so.
//
// Security (issue 6): HTTPS only, except plain HTTP to loopback (127.0.0.0/8, ::1,
// localhost); redirects must stay on HTTPS (loopback may redirect to loopback); a stall
// timeout (no bytes for N ms) and a total size limit enforced while streaming; weight paths
// in model.json must stay inside the model's URL folder (no `../`, absolute paths, other
// hosts).
import {
  blobPath,
  commitPartialBlob,
  partialBlobPath,
  putBlob,
  readIndex,
  readVerifiedBlob,
  removeBlob,
  writeIndex,
  type CachedFile,
  type IndexEntry,
} from './download/blobStore';
import { ModelDownloadError, type ModelDownloadErrorKind } from './download/errors';
import { DEFAULT_DOWNLOAD_LIMITS, httpGet, type DownloadLimits, type GetResult } from './download/httpClient';
import { expectedWeightBytes, parseModelJson, weightFilesOf } from './download/modelJson';
import { throttledProgress, type ProgressCallback, type ThrottledProgress } from './download/progress';
import { assertAllowedUrl } from './download/urlPolicy';

export { ModelDownloadError, type ModelDownloadErrorKind } from './download/errors';
export { assertAllowedUrl, isLoopbackHost } from './download/urlPolicy';
export { manifestPaths, resolveWeightUrl, unsafeWeightPathReason, weightPathError } from './download/modelJson';
export { cachedBlobFile, cachedModelInfo, readVerifiedBlob, type CachedFile } from './download/blobStore';
export { DEFAULT_DOWNLOAD_LIMITS, type DownloadLimits } from './download/httpClient';
export type { ProgressCallback } from './download/progress';

export interface FetchModelOptions extends DownloadLimits {
  cacheDir: string;
  onProgress?: ProgressCallback;
  /** Aborting it stops the download with a 'cancelled' error (no fallback to the cache). */
  signal?: AbortSignal;
}

/** Problems worth falling back to the cache for (the remote is unreachable or broken). */
const TRANSIENT: ReadonlySet<ModelDownloadErrorKind> = new Set(['network', 'timeout', 'http-status', 'bad-model-json']);

export interface FetchedModel {
  /** The model.json URL that was asked for (weight URLs are resolved against it). */
  url: string;
  /** The parsed model.json. */
  modelJson: Record<string, unknown>;
  modelJsonSha256: string;
  /** One entry per weightsManifest path, in manifest order, with the verified bytes. */
  weights: (CachedFile & { data: Buffer })[];
  /** True when nothing was downloaded (model.json unchanged or the network was unreachable). */
  fromCache: boolean;
  /** True when the network failed and the cached copy was used. */
  offline: boolean;
  /** Things the user should hear about: offline use, a changed remote model, a repaired cache. */
  notes: string[];
}

/** Everything for `url` from the cache alone, verified; throws 'corrupt-cache' naming the blob. */
function loadFromCache(cacheDir: string, entry: IndexEntry): { modelJson: Record<string, unknown>; weights: (CachedFile & { data: Buffer })[] } {
  const read = (hash: string, what: string) => {
    const r = readVerifiedBlob(cacheDir, hash);
    if (r.status === 'ok') return r.data;
    throw new ModelDownloadError(
      'corrupt-cache',
      `The cached copy of ${what} (${entry.url}) is ${r.status === 'missing' ? 'missing' : `corrupt (sha256 ${r.actual.slice(0, 12)}…, expected ${hash.slice(0, 12)}…)`}: ` +
        `${blobPath(cacheDir, hash)}. Connect to the network so it can be downloaded again${r.status === 'corrupt' ? ', or delete that file' : ''}.`,
      entry.url,
    );
  };
  const modelJson = parseModelJson(read(entry.modelJson.sha256, 'model.json'), entry.url);
  weightFilesOf(modelJson, entry.url); // the same path checks as for a fresh download
  return { modelJson, weights: entry.weights.map((w) => ({ ...w, data: read(w.sha256, `weight file '${w.path}'`) })) };
}

type VerifiedFile = CachedFile & { data: Buffer };

/** One fetchModel call: where, under which limits, what the cache held, and what has happened so far. */
interface FetchRun {
  url: string;
  cacheDir: string;
  limits: Required<DownloadLimits>;
  signal: AbortSignal | undefined;
  cached: IndexEntry | undefined;
  progress: ThrottledProgress;
  /** Bytes counted against maxTotalBytes so far. */
  used: number;
  notes: string[];
}

/**
 * model.json and its weight files from `url`, through the cache. Downloads what is missing or
 * changed, verifies everything it returns, and falls back to the cache when the network fails.
 */
export async function fetchModel(url: string, opts: FetchModelOptions): Promise<FetchedModel> {
  const limits: Required<DownloadLimits> = {
    stallTimeoutMs: opts.stallTimeoutMs ?? DEFAULT_DOWNLOAD_LIMITS.stallTimeoutMs,
    maxTotalBytes: opts.maxTotalBytes ?? DEFAULT_DOWNLOAD_LIMITS.maxTotalBytes,
    maxRedirects: opts.maxRedirects ?? DEFAULT_DOWNLOAD_LIMITS.maxRedirects,
  };
  assertAllowedUrl(url);
  const cacheDir = opts.cacheDir;
  const cached = readIndex(cacheDir, url);
  const run: FetchRun = { url, cacheDir, limits, signal: opts.signal, cached, progress: throttledProgress(opts.onProgress), used: 0, notes: [] };

  // 1. model.json: always asked for (small), so a changed remote model is noticed.
  const json = await fetchModelJson(run);
  if ('offline' in json) return json;
  const { jsonData, modelJson, files } = json;
  const jsonHash = putBlob(cacheDir, jsonData);
  const estimate = expectedWeightBytes(modelJson);
  run.progress.setTotal(estimate !== undefined ? jsonData.length + estimate : undefined);
  if (cached && cached.modelJson.sha256 !== jsonHash) {
    run.notes.push(`${url} changed since it was cached on ${cached.fetchedAt}; downloading the new weights.`);
  }
  const reuse = cached && cached.modelJson.sha256 === jsonHash ? new Map(cached.weights.map((w) => [w.path, w])) : new Map<string, CachedFile>();

  // 2. Weights: from the cache when model.json is unchanged and the blob verifies.
  const weights: VerifiedFile[] = [];
  let downloaded = 0;
  for (const file of files) {
    const known = reuse.get(file.path);
    const hit = known && known.url === file.url ? reuseCachedWeight(run, known) : undefined;
    if (hit) {
      weights.push(hit);
      continue;
    }
    const got = await downloadWeight(run, file, jsonHash);
    if ('offline' in got) return got; // the older complete copy
    downloaded++;
    weights.push(got);
  }
  run.progress.flush();

  const entry: IndexEntry = {
    version: 1,
    url,
    modelJson: { sha256: jsonHash, size: jsonData.length },
    weights: weights.map(({ path: p, url: u, sha256: h, size }) => ({ path: p, url: u, sha256: h, size })),
    fetchedAt: downloaded > 0 || !cached ? new Date().toISOString() : cached.fetchedAt,
  };
  writeIndex(cacheDir, entry);
  return { url, modelJson, modelJsonSha256: jsonHash, weights, fromCache: downloaded === 0 && !!cached, offline: false, notes: run.notes };
}

/** Whether a failed download may fall back to the cached copy (the remote is unreachable or broken, and there is one). */
function mayUseCache(run: FetchRun, e: unknown): run is FetchRun & { cached: IndexEntry } {
  return e instanceof ModelDownloadError && TRANSIENT.has(e.kind) && !!run.cached;
}

/** The complete copy the cache holds (verified), and a note saying why it is used. */
function cachedCopy(run: FetchRun & { cached: IndexEntry }, note: string): FetchedModel {
  const { cached } = run;
  const fromCache = loadFromCache(run.cacheDir, cached);
  run.notes.push(note);
  return {
    url: run.url,
    modelJson: fromCache.modelJson,
    modelJsonSha256: cached.modelJson.sha256,
    weights: fromCache.weights,
    fromCache: true,
    offline: true,
    notes: run.notes,
  };
}

/** model.json, parsed and its weight paths checked; or the cached copy when the network fails. */
async function fetchModelJson(
  run: FetchRun,
): Promise<{ jsonData: Buffer; modelJson: Record<string, unknown>; files: { path: string; url: string }[] } | FetchedModel> {
  const { url, limits } = run;
  try {
    const got = await httpGet(url, { limits, budget: limits.maxTotalBytes, onBytes: (n) => run.progress.add(n), signal: run.signal });
    const jsonData = got.data!;
    run.used += got.size;
    const modelJson = parseModelJson(jsonData, url);
    return { jsonData, modelJson, files: weightFilesOf(modelJson, url) };
  } catch (e) {
    if (!mayUseCache(run, e)) throw e;
    return cachedCopy(run, `Could not reach ${url} (${(e as Error).message.split('. ')[0]}); using the copy cached on ${run.cached.fetchedAt}.`);
  }
}

/** A weight file from the cache when its blob verifies; a corrupt one is removed (and noted) so it is downloaded again. */
function reuseCachedWeight(run: FetchRun, known: CachedFile): VerifiedFile | undefined {
  const r = readVerifiedBlob(run.cacheDir, known.sha256);
  if (r.status === 'ok') {
    run.used += r.data.length;
    run.progress.add(r.data.length);
    return { ...known, data: r.data };
  }
  if (r.status === 'corrupt') {
    run.notes.push(`The cached weight file '${known.path}' was corrupt (sha256 mismatch); downloaded it again.`);
    removeBlob(run.cacheDir, known.sha256);
  }
  return undefined;
}

/** Downloads one weight file into the cache and verifies it there; or the previous cached copy when the network fails. */
async function downloadWeight(run: FetchRun, file: { path: string; url: string }, jsonHash: string): Promise<VerifiedFile | FetchedModel> {
  const { cacheDir, limits } = run;
  const tmp = partialBlobPath(cacheDir);
  let got: GetResult;
  try {
    got = await httpGet(file.url, { limits, budget: limits.maxTotalBytes - run.used, onBytes: (n) => run.progress.add(n), toFile: tmp, signal: run.signal });
  } catch (e) {
    // The new weights could not be fetched: an older complete copy still beats nothing.
    if (!mayUseCache(run, e) || run.cached.modelJson.sha256 === jsonHash) throw e;
    return cachedCopy(
      run,
      `Could not download ${file.url} (${(e as Error).message.split('. ')[0]}); using the previous copy cached on ${run.cached.fetchedAt}.`,
    );
  }
  run.used += got.size;
  const target = commitPartialBlob(cacheDir, tmp, got.sha256);
  const check = readVerifiedBlob(cacheDir, got.sha256);
  if (check.status !== 'ok')
    throw new ModelDownloadError(
      'corrupt-cache',
      `${target}: the cache folder does not keep what is written to it (sha256 mismatch right after writing). Check the disk.`,
      run.url,
    );
  return { path: file.path, url: file.url, sha256: got.sha256, size: got.size, data: check.data };
}
