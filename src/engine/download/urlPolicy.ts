// Which URLs may be downloaded (issue 6): HTTPS anywhere, plain HTTP only to loopback
// (127.0.0.0/8, ::1, localhost), never with credentials in the URL.
import { ModelDownloadError } from './errors';

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
    throw new ModelDownloadError(
      'insecure-url',
      `${redact(u)}: URLs with credentials are not accepted. Download the model and use backbone.path instead.`,
      url,
    );
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

/** The URL without user name or password, for messages. */
export function redact(u: URL): string {
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}
