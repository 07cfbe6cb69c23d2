// Downloads TF.js models (model.json + weight shards) into a content-addressed cache:
//
//   <cacheDir>/blobs/sha256/<hex>        every file, named by the sha256 of its bytes
//   <cacheDir>/index/<sha256(url)>.json  model.json URL -> its blob, and each weightsManifest
//                                        path -> URL, blob hash and size
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
// hosts). No dependencies beyond Node's http/https.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';

export type ProgressCallback = (loadedBytes: number, totalBytes?: number) => void;

export interface DownloadLimits {
  /** Abort when no byte arrives for this long (connecting included). Default 30 s. */
  stallTimeoutMs?: number;
  /** Abort when model.json + weights exceed this many bytes. Default 1 GiB. */
  maxTotalBytes?: number;
  /** Default 5. */
  maxRedirects?: number;
}

export const DEFAULT_DOWNLOAD_LIMITS: Required<DownloadLimits> = {
  stallTimeoutMs: 30_000,
  maxTotalBytes: 2 ** 30,
  maxRedirects: 5,
};

export interface FetchModelOptions extends DownloadLimits {
  cacheDir: string;
  onProgress?: ProgressCallback;
}

export type ModelDownloadErrorKind =
  | 'insecure-url'
  | 'insecure-redirect'
  | 'too-many-redirects'
  | 'timeout'
  | 'too-large'
  | 'http-status'
  | 'network'
  | 'bad-model-json'
  | 'weight-path'
  | 'corrupt-cache';

/** A download or cache problem a user can meet: what, which URL or file, and what to do. */
export class ModelDownloadError extends Error {
  constructor(
    readonly kind: ModelDownloadErrorKind,
    message: string,
    readonly url?: string,
  ) {
    super(message);
    this.name = 'ModelDownloadError';
  }
}

/** Problems worth falling back to the cache for (the remote is unreachable or broken). */
const TRANSIENT: ReadonlySet<ModelDownloadErrorKind> = new Set(['network', 'timeout', 'http-status', 'bad-model-json']);

export interface CachedFile {
  /** The path as written in model.json's weightsManifest. */
  path: string;
  url: string;
  sha256: string;
  size: number;
}

interface IndexEntry {
  version: 1;
  url: string;
  modelJson: { sha256: string; size: number };
  weights: CachedFile[];
  fetchedAt: string;
}

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

// ---------------------------------------------------------------------------------------
// URL policy

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^::ffff:127\.\d+\.\d+\.\d+$/.test(h)) return true;
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(h);
  return !!m && Number(m[1]) === 127 && m.slice(2).every((o) => Number(o) <= 255);
}

/** Parses `url` and checks it may be downloaded: https anywhere, http only to loopback. */
export function assertAllowedUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ModelDownloadError('insecure-url', `'${url}' is not a valid URL. Use an https:// address of a model.json.`, url);
  }
  if (u.username || u.password) {
    throw new ModelDownloadError('insecure-url', `${redact(u)}: URLs with credentials are not accepted. Download the model and use backbone.path instead.`, url);
  }
  if (u.protocol === 'https:') return u;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return u;
  if (u.protocol === 'http:') {
    throw new ModelDownloadError(
      'insecure-url',
      `${url}: plain HTTP is only allowed to this machine (127.0.0.1, ::1, localhost); models are code-like input, so remote downloads must use HTTPS. Use the https:// address.`,
      url,
    );
  }
  throw new ModelDownloadError('insecure-url', `${url}: only https:// URLs can be downloaded (got ${u.protocol}). For a file on disk use backbone.path.`, url);
}

function redact(u: URL): string {
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}

/**
 * Why a weightsManifest path is unsafe, or null when it is a plain relative path. Shared by
 * the URL cache and the local-file loader: the same rule for both.
 */
export function unsafeWeightPathReason(p: unknown): string | null {
  if (typeof p !== 'string' || p.length === 0) return 'it is not a non-empty string';
  if (p.includes('\0')) return 'it contains a NUL character';
  if (p.includes('\\')) return 'it contains a backslash';
  if (p.startsWith('/')) return 'it is an absolute path';
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p)) return 'it names another location (a URL scheme or drive letter)';
  if (p.includes('?') || p.includes('#')) return 'it contains a query or fragment';
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return 'it has invalid percent-encoding';
  }
  for (const candidate of [p, decoded]) {
    if (candidate.startsWith('/') || candidate.includes('\\')) return 'it is an absolute path once decoded';
    if (candidate.split('/').some((s) => s === '..' || s === '.')) return "it contains '..' or '.' segments";
  }
  return null;
}

export function weightPathError(p: unknown, modelJsonWhere: string, folder: string, reason: string): ModelDownloadError {
  return new ModelDownloadError(
    'weight-path',
    `${modelJsonWhere}: weight path '${String(p)}' is not allowed (${reason}): weight files must sit inside the model's folder ${folder}. ` +
      'This model.json is malformed or was tampered with; get the model from a trusted source.',
  );
}

/** tfjs's rule: weights live at <folder of model.json> + path + <model.json's query>. */
export function resolveWeightUrl(modelJsonUrl: string, weightPath: string): string {
  const u = new URL(modelJsonUrl);
  const folder = new URL('.', u);
  const reason = unsafeWeightPathReason(weightPath);
  if (reason) throw weightPathError(weightPath, modelJsonUrl, folder.href, reason);
  const resolved = new URL(folder.href + weightPath + u.search);
  if (resolved.origin !== folder.origin || !resolved.pathname.startsWith(folder.pathname)) {
    throw weightPathError(weightPath, modelJsonUrl, folder.href, 'it resolves outside that folder');
  }
  return resolved.href;
}

/** The weightsManifest paths of a model.json, in order (throws on a malformed manifest). */
export function manifestPaths(modelJson: Record<string, unknown>, where: string): string[][] {
  const manifest = modelJson.weightsManifest;
  if (manifest === undefined) return [];
  if (!Array.isArray(manifest)) throw new ModelDownloadError('bad-model-json', `${where}: weightsManifest is not a list. Re-export or re-download the model.`);
  return manifest.map((group, i) => {
    const paths = (group as { paths?: unknown })?.paths;
    if (!Array.isArray(paths)) throw new ModelDownloadError('bad-model-json', `${where}: weightsManifest[${i}].paths is not a list. Re-export or re-download the model.`);
    return paths as string[];
  });
}

// ---------------------------------------------------------------------------------------
// Blobs and the index

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

function blobPath(cacheDir: string, hash: string): string {
  return path.join(cacheDir, 'blobs', 'sha256', hash);
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

type BlobRead = { status: 'ok'; data: Buffer } | { status: 'missing' } | { status: 'corrupt'; actual: string };

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

function putBlob(cacheDir: string, data: Uint8Array): string {
  const hash = sha256(data);
  const file = blobPath(cacheDir, hash);
  if (readVerifiedBlob(cacheDir, hash).status !== 'ok') writeAtomic(file, data);
  return hash;
}

function readIndex(cacheDir: string, url: string): IndexEntry | undefined {
  try {
    const entry = JSON.parse(fs.readFileSync(indexPath(cacheDir, url), 'utf8')) as IndexEntry;
    return entry.version === 1 && entry.url === url && Array.isArray(entry.weights) ? entry : undefined;
  } catch {
    return undefined;
  }
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

// ---------------------------------------------------------------------------------------
// HTTP

interface GetOptions {
  limits: Required<DownloadLimits>;
  /** Bytes still allowed for the whole model. */
  budget: number;
  onBytes: (n: number) => void;
  /** Write the body here (streamed, hashed); otherwise it is returned in memory. */
  toFile?: string;
}

interface GetResult {
  sha256: string;
  size: number;
  data?: Buffer;
  finalUrl: string;
}

function httpGet(url: string, opts: GetOptions): Promise<GetResult> {
  return getFollowing(assertAllowedUrl(url), opts, opts.limits.maxRedirects, url);
}

async function getFollowing(u: URL, opts: GetOptions, redirectsLeft: number, original: string): Promise<GetResult> {
  const res = await request(u, opts.limits.stallTimeoutMs);
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirectsLeft <= 0) {
      throw new ModelDownloadError('too-many-redirects', `${original}: more than ${opts.limits.maxRedirects} redirects. Check the URL.`, original);
    }
    let next: URL;
    try {
      next = new URL(res.headers.location, u);
    } catch {
      throw new ModelDownloadError('network', `${u.href} redirected to an invalid location '${res.headers.location}'.`, original);
    }
    const bothLoopback = u.protocol === 'http:' && isLoopbackHost(u.hostname) && isLoopbackHost(next.hostname);
    if (next.protocol !== 'https:' && !bothLoopback) {
      throw new ModelDownloadError(
        'insecure-redirect',
        `${u.href} redirected to ${redact(next)}, which is not HTTPS; refusing to follow. Models must come over HTTPS: use a URL that serves them directly over https://.`,
        original,
      );
    }
    assertAllowedUrl(next.href);
    return getFollowing(next, opts, redirectsLeft - 1, original);
  }
  if (status !== 200) {
    res.resume();
    throw new ModelDownloadError('http-status', `${u.href}: the server answered HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}. Check the URL.`, original);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > opts.budget) {
    res.destroy();
    throw tooLarge(original, opts.limits.maxTotalBytes);
  }
  return readBody(res, u, opts, original, Number.isFinite(declared) ? declared : undefined);
}

function tooLarge(url: string, max: number): ModelDownloadError {
  return new ModelDownloadError(
    'too-large',
    `${url}: the model is larger than the download limit of ${formatBytes(max)}. Raise the limit if you trust this model, or pick a smaller backbone.`,
    url,
  );
}

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;
}

function request(u: URL, stallTimeoutMs: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = u.protocol === 'https:' ? https : http;
    const req = lib.get(u, { headers: { 'user-agent': 'transfer-lab', 'accept-encoding': 'identity' } });
    const timer = setTimeout(() => {
      req.destroy(new ModelDownloadError('timeout', `${u.href}: no response for ${stallTimeoutMs / 1000} s. Check the network, or try again later.`, u.href));
    }, stallTimeoutMs);
    req.on('response', (res) => {
      clearTimeout(timer);
      resolve(res);
    });
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e instanceof ModelDownloadError ? e : new ModelDownloadError('network', `${u.href}: ${(e as NodeJS.ErrnoException).code ?? e.message}. Check the network connection.`, u.href));
    });
  });
}

async function readBody(res: http.IncomingMessage, u: URL, opts: GetOptions, original: string, declared: number | undefined): Promise<GetResult> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  let failure: ModelDownloadError | undefined;
  const fail = (e: ModelDownloadError) => {
    failure ??= e;
    res.destroy(e);
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => fail(new ModelDownloadError('timeout', `${u.href}: the download stalled (no data for ${opts.limits.stallTimeoutMs / 1000} s after ${formatBytes(size)}). Check the network, or try again later.`, original)),
      opts.limits.stallTimeoutMs,
    );
  };
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      arm();
      size += chunk.length;
      if (size > opts.budget) {
        const e = tooLarge(original, opts.limits.maxTotalBytes);
        failure ??= e;
        done(e);
        return;
      }
      hash.update(chunk);
      opts.onBytes(chunk.length);
      if (!opts.toFile) chunks.push(chunk);
      done(null, opts.toFile ? chunk : undefined);
    },
  });
  arm();
  // We ask for identity; a server that compresses anyway is decoded, and the size limit then
  // counts decoded bytes (so a small compressed bomb cannot get past it).
  const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
  if (decoder) declared = undefined;
  else if (encoding !== 'identity') {
    res.destroy();
    throw new ModelDownloadError('network', `${u.href}: the server sent the file with an unsupported content encoding '${encoding}'.`, original);
  }
  try {
    const source = decoder ? [res, decoder] : [res];
    if (opts.toFile) {
      fs.mkdirSync(path.dirname(opts.toFile), { recursive: true });
      await (pipeline as (...streams: unknown[]) => Promise<void>)(...source, meter, fs.createWriteStream(opts.toFile));
    } else {
      await (pipeline as (...streams: unknown[]) => Promise<void>)(...source, meter, async function* (input: AsyncIterable<unknown>) {
        for await (const _ of input) void _;
      });
    }
  } catch (e) {
    if (opts.toFile) fs.rmSync(opts.toFile, { force: true });
    if (failure) throw failure;
    if (e instanceof ModelDownloadError) throw e;
    throw new ModelDownloadError('network', `${u.href}: the connection failed after ${formatBytes(size)} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Try again.`, original);
  } finally {
    clearTimeout(timer);
  }
  if (declared !== undefined && size !== declared) {
    if (opts.toFile) fs.rmSync(opts.toFile, { force: true });
    throw new ModelDownloadError('network', `${u.href}: the connection closed after ${formatBytes(size)} of ${formatBytes(declared)}. Try again.`, original);
  }
  return { sha256: hash.digest('hex'), size, data: opts.toFile ? undefined : Buffer.concat(chunks), finalUrl: u.href };
}

// ---------------------------------------------------------------------------------------
// The model fetch

/** Expected bytes of all weights from the manifest's specs (undefined when not computable). */
function expectedWeightBytes(modelJson: Record<string, unknown>): number | undefined {
  const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };
  let total = 0;
  for (const group of (modelJson.weightsManifest as { weights?: unknown[] }[] | undefined) ?? []) {
    for (const w of (group.weights ?? []) as { shape?: number[]; dtype?: string; quantization?: { dtype?: string } }[]) {
      const dtype = w.quantization?.dtype ?? w.dtype ?? 'float32';
      if (!Array.isArray(w.shape) || !(dtype in bytesPer)) return undefined;
      total += w.shape.reduce((a, b) => a * b, 1) * bytesPer[dtype];
    }
  }
  return total;
}

function parseModelJson(data: Buffer, url: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new ModelDownloadError('bad-model-json', `${url}: not a model.json (${(e as Error).message.split('\n')[0]}). Check that the URL points at a TF.js model.json.`, url);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('modelTopology' in parsed)) {
    throw new ModelDownloadError('bad-model-json', `${url}: not a TF.js model.json (no modelTopology). Check that the URL points at a TF.js model.json.`, url);
  }
  return parsed as Record<string, unknown>;
}

function weightFilesOf(modelJson: Record<string, unknown>, url: string): { path: string; url: string }[] {
  return manifestPaths(modelJson, url)
    .flat()
    .map((p) => ({ path: p, url: resolveWeightUrl(url, p) }));
}

function throttled(onProgress: ProgressCallback | undefined): { add(n: number): void; setTotal(t: number | undefined): void; flush(): void } {
  let loaded = 0;
  let total: number | undefined;
  let last = 0;
  return {
    add(n) {
      loaded += n;
      const now = Date.now();
      if (onProgress && now - last >= 100) {
        last = now;
        onProgress(loaded, total !== undefined ? Math.max(total, loaded) : undefined);
      }
    },
    setTotal(t) {
      total = t;
    },
    flush() {
      onProgress?.(loaded, total !== undefined ? Math.max(total, loaded) : undefined);
    },
  };
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
  const progress = throttled(opts.onProgress);
  let used = 0;
  const notes: string[] = [];

  // 1. model.json: always asked for (small), so a changed remote model is noticed.
  let jsonData: Buffer;
  let modelJson: Record<string, unknown>;
  let files: { path: string; url: string }[];
  try {
    const got = await httpGet(url, { limits, budget: limits.maxTotalBytes, onBytes: (n) => progress.add(n) });
    jsonData = got.data!;
    used += got.size;
    modelJson = parseModelJson(jsonData, url);
    files = weightFilesOf(modelJson, url);
  } catch (e) {
    if (!(e instanceof ModelDownloadError) || !TRANSIENT.has(e.kind) || !cached) throw e;
    const fromCache = loadFromCache(cacheDir, cached);
    notes.push(`Could not reach ${url} (${e.message.split('. ')[0]}); using the copy cached on ${cached.fetchedAt}.`);
    return { url, modelJson: fromCache.modelJson, modelJsonSha256: cached.modelJson.sha256, weights: fromCache.weights, fromCache: true, offline: true, notes };
  }
  const jsonHash = putBlob(cacheDir, jsonData);
  const estimate = expectedWeightBytes(modelJson);
  progress.setTotal(estimate !== undefined ? jsonData.length + estimate : undefined);
  if (cached && cached.modelJson.sha256 !== jsonHash) {
    notes.push(`${url} changed since it was cached on ${cached.fetchedAt}; downloading the new weights.`);
  }
  const reuse = cached && cached.modelJson.sha256 === jsonHash ? new Map(cached.weights.map((w) => [w.path, w])) : new Map<string, CachedFile>();

  // 2. Weights: from the cache when model.json is unchanged and the blob verifies.
  const weights: (CachedFile & { data: Buffer })[] = [];
  let downloaded = 0;
  for (const file of files) {
    const known = reuse.get(file.path);
    if (known && known.url === file.url) {
      const r = readVerifiedBlob(cacheDir, known.sha256);
      if (r.status === 'ok') {
        used += r.data.length;
        progress.add(r.data.length);
        weights.push({ ...known, data: r.data });
        continue;
      }
      if (r.status === 'corrupt') {
        notes.push(`The cached weight file '${file.path}' was corrupt (sha256 mismatch); downloaded it again.`);
        fs.rmSync(blobPath(cacheDir, known.sha256), { force: true });
      }
    }
    const tmp = path.join(cacheDir, 'blobs', 'sha256', `.partial-${process.pid}-${randomBytes(6).toString('hex')}`);
    let got: GetResult;
    try {
      got = await httpGet(file.url, { limits, budget: limits.maxTotalBytes - used, onBytes: (n) => progress.add(n), toFile: tmp });
    } catch (e) {
      // The new weights could not be fetched: an older complete copy still beats nothing.
      if (!(e instanceof ModelDownloadError) || !TRANSIENT.has(e.kind) || !cached || cached.modelJson.sha256 === jsonHash) throw e;
      const previous = loadFromCache(cacheDir, cached);
      notes.push(`Could not download ${file.url} (${e.message.split('. ')[0]}); using the previous copy cached on ${cached.fetchedAt}.`);
      return { url, modelJson: previous.modelJson, modelJsonSha256: cached.modelJson.sha256, weights: previous.weights, fromCache: true, offline: true, notes };
    }
    used += got.size;
    downloaded++;
    const target = blobPath(cacheDir, got.sha256);
    fs.renameSync(tmp, target);
    const check = readVerifiedBlob(cacheDir, got.sha256);
    if (check.status !== 'ok') throw new ModelDownloadError('corrupt-cache', `${target}: the cache folder does not keep what is written to it (sha256 mismatch right after writing). Check the disk.`, url);
    weights.push({ path: file.path, url: file.url, sha256: got.sha256, size: got.size, data: check.data });
  }
  progress.flush();

  const entry: IndexEntry = {
    version: 1,
    url,
    modelJson: { sha256: jsonHash, size: jsonData.length },
    weights: weights.map(({ path: p, url: u, sha256: h, size }) => ({ path: p, url: u, sha256: h, size })),
    fetchedAt: downloaded > 0 || !cached ? new Date().toISOString() : cached.fetchedAt,
  };
  writeAtomic(indexPath(cacheDir, url), JSON.stringify(entry, null, 2));
  return { url, modelJson, modelJsonSha256: jsonHash, weights, fromCache: downloaded === 0 && !!cached, offline: false, notes };
}
