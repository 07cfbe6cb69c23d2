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
