/** A problem with the backbone a user can fix: which file/field, what, what to do (one line). */
export class BackboneError extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'BackboneError';
  }
}

/** What `read` returns; when it throws (the file is not there, or cannot be read), the BackboneError that says which and what to do. */
export function orBackboneError<T>(read: () => T, field: string, message: string, file: string): T {
  try {
    return read();
  } catch {
    throw new BackboneError(field, message, file);
  }
}
