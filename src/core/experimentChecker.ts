// The checker every section's checks report through: each problem names its JSON path and,
// when the text locates it, a line and column; the typed readers say what was expected.
import type { InputProblem, ProblemFix } from './experiment';
import { closest } from './didYouMean';
import { EXPERIMENT_FIELDS } from './experimentFields';
import { describe, unknownFieldHint } from './experimentHints';
import { isRecord } from './json';

export type Json = Record<string, unknown>;

/** Where a JSON path is in the text (1-based), when known. */
export type Locate = (jsonPath: string) => { line: number; column: number } | undefined;

export const join = (at: string, key: string) => (at ? `${at}.${key}` : key);
export const round = (v: number) => Math.round(v * 1e9) / 1e9;

export class Checker {
  readonly errors: InputProblem[] = [];
  readonly warnings: InputProblem[] = [];

  constructor(private readonly locate: Locate) {}

  error(at: string, message: string, hint?: string, fix?: ProblemFix): void {
    this.errors.push(fix ? { ...this.problem(at, message, hint), fix } : this.problem(at, message, hint));
  }

  warn(at: string, message: string, hint?: string): void {
    this.warnings.push(this.problem(at, message, hint));
  }

  private problem(at: string, message: string, hint?: string): InputProblem {
    const p: InputProblem = { path: at, message };
    if (hint) p.hint = hint;
    const loc = this.locate(at);
    if (loc) Object.assign(p, loc);
    return p;
  }

  /** An object at `at` (required or optional); reports unknown fields. */
  object(value: unknown, at: string, what: string, example: string): Json | undefined {
    if (!isRecord(value)) {
      this.error(at, `must be an object (${what}), got ${describe(value)}`, `For example: ${example}.`);
      return undefined;
    }
    this.unknownFields(value, at);
    return value;
  }

  unknownFields(obj: Json, at: string, allowed: readonly string[] = EXPERIMENT_FIELDS[at] ?? []): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const hint = unknownFieldHint(key, at, allowed, obj[key]);
      // "Did you mean" a sibling that is not there yet: renaming the key is the fix.
      const near = hint.startsWith('Did you mean') ? closest(key, allowed) : undefined;
      this.error(join(at, key), `unknown field '${key}'`, hint, near && !(near in obj) ? { kind: 'rename-key', to: near } : undefined);
    }
  }

  required(obj: Json, key: string, at: string, what: string, example: string): boolean {
    if (obj[key] !== undefined) return true;
    this.error(join(at, key), `is missing: ${what}`, `Add it, e.g. "${key}": ${example}.`);
    return false;
  }

  string(obj: Json, key: string, at: string, hint: string): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      this.error(join(at, key), `must be a non-empty string, got ${describe(v)}`, hint);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(obj: Json, key: string, at: string, allowed: readonly T[]): T | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    const near = typeof v === 'string' ? closest(v, allowed) : undefined;
    this.error(
      join(at, key),
      `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(v)}`,
      near ? `Did you mean "${near}"?` : `Pick one of ${allowed.join(', ')}.`,
      near ? { kind: 'replace-value', to: near } : undefined,
    );
    return undefined;
  }

  boolean(obj: Json, key: string, at: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.error(join(at, key), `must be true or false, got ${describe(v)}`, 'Write it without quotes: true or false.');
      return undefined;
    }
    return v;
  }

  /** A finite number; `integer` also requires a whole number. Range checks are the caller's. */
  number(obj: Json, key: string, at: string, kind: 'number' | 'integer', meaning: string): number | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (kind === 'integer' && !Number.isInteger(v))) {
      const expected = kind === 'integer' ? 'a whole number' : 'a number';
      const quoted = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
      this.error(join(at, key), `must be ${expected}, got ${describe(v)}`, quoted ? `Write the number without quotes: ${Number(v)}.` : `Set it to ${meaning}.`);
      return undefined;
    }
    return v;
  }
}
