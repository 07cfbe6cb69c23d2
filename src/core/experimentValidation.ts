// Reading an experiment file: plain JSON text -> a checked ExperimentFile -> a
// ResolvedExperiment with every default filled in and paths made absolute.
//
// The entry point for everything that reads experiment files; the pieces live in
// experimentFields (the vocabulary and defaults), experimentChecks (the authority on what a
// file may contain), experimentResolution (defaults and paths), experimentProblems (how a
// problem reads) and jsonPositions / jsonSyntaxErrors (where in the text, and bad JSON).
import type { ExperimentFile, InputProblem, ResolvedExperiment, Validated } from './experiment';
import { validateExperiment } from './experimentChecks';
import { byPosition } from './experimentProblems';
import { resolveExperiment } from './experimentResolution';
import { locateJsonPath, outlineJson, type JsonOutline } from './jsonPositions';
import { explainJsonSyntaxError } from './jsonSyntaxErrors';

export { closest, editDistance } from './didYouMean';
export { validateExperiment } from './experimentChecks';
export * from './experimentFields';
export { PREPROCESSING_FAMILIES } from './experimentHints';
export { formatProblem } from './experimentProblems';
export { checkExperimentAgainstDataset, resolveExperiment } from './experimentResolution';

const EMPTY_FILE: InputProblem = {
  path: '',
  message: 'the file is empty',
  hint: 'An experiment file is a JSON object, e.g. { "name": "my-experiment", "data": { "dir": "images" }, "backbone": { "catalog": "mobilenet_v2_1.00_224" }, "strategy": { "kind": "feature-extraction" } }.',
  line: 1,
  column: 1,
};

/**
 * Parses the text of an experiment file (plain JSON: no comments, no trailing commas) and
 * checks it. Problems carry line and column when the text locates them.
 */
export function parseExperimentText(text: string, _file: string): Validated<ExperimentFile> {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (source.trim() === '') return { ok: false, errors: [{ ...EMPTY_FILE }] };
  const outline = outlineJson(source);
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    return { ok: false, errors: [syntaxProblem(source, outline, e as Error)] };
  }
  const locate = (p: string) => {
    const field = locateJsonPath(outline.fields, p);
    return field && { line: field.line, column: field.column };
  };
  const checked = validateExperiment(value, locate);
  const duplicates = outline.duplicates.map((d): InputProblem => ({
    path: d.path,
    line: d.line,
    column: d.column,
    message: 'appears more than once in the same object; only the last value counts',
    hint: 'Remove the duplicate.',
  }));
  if (!checked.ok) return { ok: false, errors: byPosition(checked.errors), warnings: [...duplicates, ...(checked.warnings ?? [])] };
  return { ok: true, value: checked.value, warnings: [...duplicates, ...checked.warnings] };
}

/** Text JSON.parse refused, as one problem: where and why from the outline, else JSON.parse's own words. */
function syntaxProblem(source: string, outline: JsonOutline, parseError: Error): InputProblem {
  if (!outline.error) return { path: '', message: `not valid JSON: ${parseError.message}`, hint: 'Fix the JSON syntax.' };
  const { line, column, message, hint } = explainJsonSyntaxError(source, outline.error);
  return { path: '', line, column, message: `not valid JSON: line ${line}, column ${column}: ${message}`, hint };
}

/** parseExperimentText then resolveExperiment, with the warnings of both (once each). */
export function loadExperimentText(text: string, file: string): Validated<ResolvedExperiment> {
  const parsed = parseExperimentText(text, file);
  if (!parsed.ok) return parsed;
  const resolved = resolveExperiment(parsed.value, file);
  if (!resolved.ok) return resolved;
  const seen = new Set(parsed.warnings.map((w) => `${w.path}\u0000${w.message}`));
  return { ok: true, value: resolved.value, warnings: [...parsed.warnings, ...resolved.warnings.filter((w) => !seen.has(`${w.path}\u0000${w.message}`))] };
}
