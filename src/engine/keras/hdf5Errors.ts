// The HDF5 reader's one error type, and the plain-words messages built on it. HDF5's own
// error stack (captured by h5wasmModule.ts instead of reaching stderr) is kept here so that
// any failure can carry it as its `cause`.

/** A file a user handed us cannot be read as HDF5: which file, what is wrong, what to do. */
export class Hdf5Error extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Hdf5Error';
  }
}

/** HDF5's own error stack since the last open, captured instead of printed on stderr. */
let diagnostics = '';

export function clearDiagnostics(): void {
  diagnostics = '';
}

export function appendDiagnostics(text: string): void {
  diagnostics = (diagnostics + text).slice(-16000);
}

/** The tail of HDF5's error stack ('' when it said nothing since the last open). */
export function recentDiagnostics(): string {
  return diagnostics.slice(-4000);
}

export function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return (e as Error)?.message ?? String(e);
}

export function truncated(name: string, detail: string, cause?: unknown): Hdf5Error {
  return new Hdf5Error(name, `${name} is truncated or corrupt (${detail}); save or download it again`, withCause(cause));
}

export function corrupt(name: string, detail: string, cause?: unknown): Hdf5Error {
  const stack = recentDiagnostics();
  return truncated(name, detail, cause ?? (stack ? new Error(stack) : undefined));
}

function withCause(cause: unknown): { cause?: unknown } | undefined {
  return cause === undefined ? undefined : { cause };
}
