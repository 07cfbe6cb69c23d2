// The HTTP client of the download cache: one GET, redirects followed under the URL policy,
// a stall timeout (no bytes for N ms, connecting included), a byte budget enforced from
// Content-Length and while streaming, the body hashed as it arrives and either kept in
// memory or streamed to a file. No dependencies beyond Node's http/https.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import * as https from 'node:https';
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { ModelDownloadError, formatBytes } from './errors';
import { assertAllowedUrl, isLoopbackHost, redact } from './urlPolicy';

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

export interface GetOptions {
  limits: Required<DownloadLimits>;
  /** Bytes still allowed for the whole model. */
  budget: number;
  onBytes: (n: number) => void;
  /** Write the body here (streamed, hashed); otherwise it is returned in memory. */
  toFile?: string;
}

export interface GetResult {
  sha256: string;
  size: number;
  data?: Buffer;
  finalUrl: string;
}

export function httpGet(url: string, opts: GetOptions): Promise<GetResult> {
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
