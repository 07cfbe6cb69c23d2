// The zip reader's error type, and the messages its parts share.

/** A zip archive that cannot be read: which archive, which entry, what is wrong, what to do. */
export class ZipError extends Error {
  constructor(
    readonly archive: string,
    readonly entry: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ZipError';
  }
}

export function bombMessage(archive: string, entry: string, declared: number): string {
  return `${archive}: entry ${entry} inflates to more than the ${declared} bytes its header declares; the archive is corrupt or built to exhaust memory, refusing it`;
}

export function truncatedError(archive: string, entry: string | undefined, detail: string, cause?: unknown): ZipError {
  return new ZipError(archive, entry, `${archive} is truncated or corrupt (${detail}); save or download it again`, cause === undefined ? undefined : { cause });
}

export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EEXIST') return 'the file already exists';
  if (code === 'ENOSPC') return 'the disk is full';
  return (e as Error)?.message ?? String(e);
}
