// Shared by the experimentValidation.*.test.ts files: a minimal experiment, edits of it, and
// reading the errors and warnings of checking one.
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InputProblem, Validated } from '../../src/core/experiment';
import { formatProblem, loadExperimentText, parseExperimentText } from '../../src/core/experimentValidation';

export const FILE = path.join(os.tmpdir(), 'proj', 'flowers.tlexp.json');

export const minimal = (): Record<string, any> => ({
  name: 'flowers',
  data: { dir: 'datasets/flowers' },
  backbone: { catalog: 'mobilenet_v2_1.00_224' },
  strategy: { kind: 'feature-extraction' },
});

/** `minimal()` with `patch` applied to it (a function that edits the object). */
export function withPatch(patch: (e: Record<string, any>) => void): Record<string, any> {
  const e = minimal();
  patch(e);
  return e;
}

export const text = (v: unknown) => JSON.stringify(v, null, 2);

export function errorsOf<T>(r: Validated<T>): InputProblem[] {
  assert.equal(r.ok, false, `expected errors, got a valid result`);
  return (r as { errors: InputProblem[] }).errors;
}

export function valueOf<T>(r: Validated<T>): { value: T; warnings: InputProblem[] } {
  assert.ok(r.ok, `expected valid, got ${r.ok ? '' : r.errors.map((e) => formatProblem(e)).join('\n')}`);
  return r as { value: T; warnings: InputProblem[] };
}

/** The single error (or the one at `at`) of checking this experiment object. */
export function errorAt(exp: unknown, at: string): InputProblem {
  const errors = errorsOf(parseExperimentText(text(exp), FILE));
  const hit = errors.find((e) => e.path === at);
  assert.ok(hit, `no error at ${at}; got ${errors.map((e) => `${e.path}: ${e.message}`).join(' | ')}`);
  return hit;
}

export function warningsOf(exp: unknown): InputProblem[] {
  return valueOf(loadExperimentText(text(exp), FILE)).warnings;
}
