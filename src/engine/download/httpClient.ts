// The HTTP client of the download cache, on Node's global fetch: one GET, redirects followed
// by hand under the URL policy, a stall timeout (no bytes for N ms, connecting included) and
// an optional cancel signal, both through one AbortSignal per request; a byte budget enforced
// from Content-Length and while streaming; the body hashed as it arrives and either kept in
// memory or streamed to a file. No dependencies.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Readable, Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
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
  /** Aborting it stops the request ('cancelled'). */
  signal?: AbortSignal;
  /** Called with the final response's headers before its body is read (sizes, hashes). */
  onResponse?: (headers: Headers) => void;
}

export interface GetResult {
  sha256: string;
  /** Hex md5 of the body, for hosts that state one (Google Cloud Storage's x-goog-hash). */
  md5: string;
  size: number;
  headers: Headers;
  data?: Buffer;
  finalUrl: string;
}

export function httpGet(url: string, opts: GetOptions): Promise<GetResult> {
  return getFollowing(assertAllowedUrl(url), opts, opts.limits.maxRedirects, url);
}

/**
 * One request's abort controller: the stall timer and the caller's cancel signal both abort
 * it with the ModelDownloadError to report, which is kept in `failure`.
 */
class Hop {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  failure: ModelDownloadError | undefined;
  private readonly onCancel = () => this.fail(new ModelDownloadError('cancelled', `${this.original}: the download was cancelled.`, this.original));

  constructor(
    readonly stallTimeoutMs: number,
    private readonly original: string,
    private readonly cancel: AbortSignal | undefined,
  ) {
    if (cancel?.aborted) this.onCancel();
    else cancel?.addEventListener('abort', this.onCancel, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  fail(e: ModelDownloadError): void {
    this.failure ??= e;
    this.controller.abort(this.failure);
  }

  /** (Re)starts the stall timer; when it fires, the request fails with `make()`. */
  arm(make: () => ModelDownloadError): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fail(make()), this.stallTimeoutMs);
  }

  disarm(): void {
    clearTimeout(this.timer);
  }

  close(): void {
    clearTimeout(this.timer);
    this.cancel?.removeEventListener('abort', this.onCancel);
  }
}

async function getFollowing(u: URL, opts: GetOptions, redirectsLeft: number, original: string): Promise<GetResult> {
  const hop = new Hop(opts.limits.stallTimeoutMs, original, opts.signal);
  try {
    const res = await request(u, hop);
    const status = res.status;
    const location = res.headers.get('location');
    if (status >= 300 && status < 400 && location) {
      discard(res);
      if (redirectsLeft <= 0) {
        throw new ModelDownloadError('too-many-redirects', `${original}: more than ${opts.limits.maxRedirects} redirects. Check the URL.`, original);
      }
      let next: URL;
      try {
        next = new URL(location, u);
      } catch {
        throw new ModelDownloadError('network', `${u.href} redirected to an invalid location '${location}'.`, original);
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
      hop.close();
      return await getFollowing(next, opts, redirectsLeft - 1, original);
    }
    if (status !== 200) {
      discard(res);
      throw new ModelDownloadError(
        'http-status',
        `${u.href}: the server answered HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''}. Check the URL.`,
        original,
      );
    }
    opts.onResponse?.(res.headers);
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (Number.isFinite(declared) && declared > opts.budget) {
      hop.fail(tooLarge(original, opts.limits.maxTotalBytes));
      throw hop.failure;
    }
    return await readBody(res, u, hop, opts, original, Number.isFinite(declared) ? declared : undefined);
  } finally {
    hop.close();
  }
}

function tooLarge(url: string, max: number): ModelDownloadError {
  return new ModelDownloadError(
    'too-large',
    `${url}: the model is larger than the download limit of ${formatBytes(max)}. Raise the limit if you trust this model, or pick a smaller backbone.`,
    url,
  );
}

/** A body we will not read (a redirect, an error page): let the connection go. */
function discard(res: Response): void {
  res.body?.cancel().catch(() => undefined);
}

async function request(u: URL, hop: Hop): Promise<Response> {
  hop.arm(() => new ModelDownloadError('timeout', `${u.href}: no response for ${hop.stallTimeoutMs / 1000} s. Check the network, or try again later.`, u.href));
  try {
    // redirect: 'manual' hands back the 3xx itself (Node's fetch keeps its Location), so each
    // hop goes through the URL policy above. We ask for identity; see readBody.
    return await fetch(u, { redirect: 'manual', signal: hop.signal, headers: { 'user-agent': 'transfer-lab', 'accept-encoding': 'identity' } });
  } catch (e) {
    if (hop.failure) throw hop.failure;
    throw connectError(u, e);
  } finally {
    hop.disarm();
  }
}

/** The socket-level reason inside fetch's TypeError('fetch failed', { cause }). */
function causeOf(e: unknown): { code?: string; message: string } {
  const err = e as { code?: unknown; message?: unknown; cause?: unknown };
  const cause = (err?.cause ?? err) as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] };
  const code = typeof cause?.code === 'string' ? cause.code : typeof cause?.errors?.[0]?.code === 'string' ? (cause.errors[0].code as string) : undefined;
  const message = typeof cause?.message === 'string' && cause.message ? cause.message : String(err?.message ?? e);
  return { code, message };
}

/** What a user sees for a failed socket: the OS code (ENOTFOUND, ECONNREFUSED…) when there is one. */
function reasonOf(e: unknown): string {
  const { code, message } = causeOf(e);
  return code && !code.startsWith('UND_ERR') ? code : message;
}

function connectError(u: URL, e: unknown): ModelDownloadError {
  const { code, message } = causeOf(e);
  // undici's own limits (connect 10 s, headers 300 s) are timeouts too, whatever stallTimeoutMs says.
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new ModelDownloadError('timeout', `${u.href}: no response (${message}). Check the network, or try again later.`, u.href);
  }
  if (message === 'bad port') {
    return new ModelDownloadError('network', `${u.href}: port ${u.port} is one that fetch refuses to connect to. Serve the model on another port.`, u.href);
  }
  return new ModelDownloadError('network', `${u.href}: ${reasonOf(e)}. Check the network connection.`, u.href);
}

async function readBody(res: Response, u: URL, hop: Hop, opts: GetOptions, original: string, declared: number | undefined): Promise<GetResult> {
  // We ask for identity; a server that compresses anyway is decoded (fetch decodes gzip,
  // deflate and br itself), and the size limit then counts decoded bytes (so a small
  // compressed bomb cannot get past it). Anything else fetch would hand over undecoded.
  const encoding = String(res.headers.get('content-encoding') ?? 'identity').toLowerCase();
  const decoded = encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate' || encoding === 'br';
  if (decoded) declared = undefined;
  else if (encoding !== 'identity') {
    hop.fail(new ModelDownloadError('network', `${u.href}: the server sent the file with an unsupported content encoding '${encoding}'.`, original));
    throw hop.failure;
  }
  const hash = createHash('sha256');
  const md5 = createHash('md5');
  const chunks: Buffer[] = [];
  let size = 0;
  const arm = () =>
    hop.arm(
      () =>
        new ModelDownloadError(
          'timeout',
          `${u.href}: the download stalled (no data for ${opts.limits.stallTimeoutMs / 1000} s after ${formatBytes(size)}). Check the network, or try again later.`,
          original,
        ),
    );
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      arm();
      size += chunk.length;
      if (size > opts.budget) {
        const e = tooLarge(original, opts.limits.maxTotalBytes);
        hop.fail(e);
        done(e);
        return;
      }
      hash.update(chunk);
      md5.update(chunk);
      opts.onBytes(chunk.length);
      if (!opts.toFile) chunks.push(chunk);
      done(null, opts.toFile ? chunk : undefined);
    },
  });
  arm();
  try {
    const source = res.body ? Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>) : Readable.from([]);
    if (opts.toFile) {
      await fs.promises.mkdir(path.dirname(opts.toFile), { recursive: true });
      await pipeline(source, meter, fs.createWriteStream(opts.toFile));
    } else {
      // In memory: meter keeps the chunks; the sink only drains the stream.
      await pipeline(source, meter, new Writable({ write: (_chunk, _enc, done) => done() }));
    }
  } catch (e) {
    if (opts.toFile) await fs.promises.rm(opts.toFile, { force: true });
    if (hop.failure) throw hop.failure;
    if (e instanceof ModelDownloadError) throw e;
    throw new ModelDownloadError('network', `${u.href}: the connection failed after ${formatBytes(size)} (${reasonOf(e)}). Try again.`, original);
  } finally {
    hop.disarm();
  }
  if (declared !== undefined && size !== declared) {
    if (opts.toFile) await fs.promises.rm(opts.toFile, { force: true });
    throw new ModelDownloadError('network', `${u.href}: the connection closed after ${formatBytes(size)} of ${formatBytes(declared)}. Try again.`, original);
  }
  return {
    sha256: hash.digest('hex'),
    md5: md5.digest('hex'),
    size,
    headers: res.headers,
    data: opts.toFile ? undefined : Buffer.concat(chunks),
    finalUrl: u.href,
  };
}
