// The one error type of the download cache: what went wrong (kind), which URL or file, and
// what to do, in words a user can act on.

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
  | 'corrupt-cache'
  | 'hash-mismatch'
  | 'cancelled';

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

export function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${n} bytes`;
}
