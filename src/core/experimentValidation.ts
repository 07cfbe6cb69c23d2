// Reading an experiment file: plain JSON text -> a checked ExperimentFile -> a
// ResolvedExperiment with every default filled in and paths made absolute.
//
// The entry point for everything that reads experiment files; the pieces live in
// experimentFields (the vocabulary and defaults), experimentChecks (the authority on what a
// file may contain), experimentResolution (defaults and paths), experimentProblems (how a
// problem reads); the JSON scanner below says where in the text, and what is wrong with bad JSON.
import type { ExperimentFile, InputProblem, ResolvedExperiment, Validated } from './experiment';
import { validateExperiment } from './experimentChecks';
import { byPosition } from './experimentProblems';
import { resolveExperiment } from './experimentResolution';
import { join } from './experimentChecker';

export { closest, editDistance } from './didYouMean';
export { validateExperiment } from './experimentChecks';
export * from './experimentFields';
export { PREPROCESSING_FAMILIES } from './experimentHints';
export { formatProblem } from './experimentProblems';
export { checkExperimentAgainstDataset, resolveExperiment } from './experimentResolution';

/**
 * Parses the text of an experiment file (plain JSON: no comments, no trailing commas) and
 * checks it. Problems carry line and column when the text locates them.
 */
export function parseExperimentText(text: string, _file: string): Validated<ExperimentFile> {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = lineStarts(source);
  const at = (offset: number) => positionOf(lines, offset);
  if (source.trim() === '') {
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: 'the file is empty',
          hint: 'An experiment file is a JSON object, e.g. { "name": "my-experiment", "data": { "dir": "images" }, "backbone": { "catalog": "mobilenet_v2_1.00_224" }, "strategy": { "kind": "feature-extraction" } }.',
          line: 1,
          column: 1,
        },
      ],
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    const scanned = scanJson(source);
    const problem: InputProblem = scanned.error
      ? { path: '', ...at(scanned.error.offset), message: '', hint: scanned.error.hint }
      : { path: '', message: '', hint: 'Fix the JSON syntax.' };
    const where = problem.line !== undefined ? `line ${problem.line}, column ${problem.column}: ` : '';
    problem.message = `not valid JSON: ${where}${scanned.error ? scanned.error.message : (e as Error).message}`;
    return { ok: false, errors: [problem] };
  }
  const scanned = scanJson(source);
  const locate = (p: string) => {
    for (let q: string | undefined = p; q !== undefined; q = parentPath(q)) {
      const offset = scanned.locations.get(q);
      if (offset !== undefined) return at(offset);
    }
    return undefined;
  };
  const checked = validateExperiment(value, locate);
  if (!checked.ok) return { ok: false, errors: byPosition(checked.errors) };
  const duplicates = scanned.duplicates.map((d): InputProblem => ({
    path: d.path,
    ...at(d.offset),
    message: 'appears more than once in the same object; only the last value counts',
    hint: 'Remove the duplicate.',
  }));
  return { ok: true, value: checked.value, warnings: [...duplicates, ...checked.warnings] };
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

function parentPath(p: string): string | undefined {
  if (p === '') return undefined;
  const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
  return cut <= 0 ? '' : p.slice(0, cut);
}

// ---------------------------------------------------------------------------------------
// JSON scanning: where a syntax error is (JSON.parse's messages do not say, on Node 20),
// where each JSON path starts (so problems carry line:column) and duplicate keys.
// ---------------------------------------------------------------------------------------

interface ScanResult {
  error?: { offset: number; message: string; hint: string };
  /** JSON path -> offset of its key (properties) or its first character (array items, the root). */
  locations: Map<string, number>;
  duplicates: { path: string; offset: number }[];
}

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function scanJson(text: string): ScanResult {
  const locations = new Map<string, number>();
  const duplicates: { path: string; offset: number }[] = [];
  let i = 0;
  const fail = (message: string, hint: string, at = i): never => {
    throw new JsonSyntaxError(at, message, hint);
  };
  const skipSpace = () => {
    for (;;) {
      const ch = text[i];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
      else if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
        fail('comments are not allowed: experiment files are plain JSON', 'Remove the comment, or put the note in the "description" field.');
      } else return;
    }
  };
  const shown = (ch: string | undefined) => (ch === undefined ? 'the end of the file' : `'${ch}'`);
  const endHint = 'The file ends too early: check for a missing closing "}" or "]".';

  const value = (at: string): void => {
    skipSpace();
    const ch = text[i];
    if (ch === '{') return object(at);
    if (ch === '[') return array(at);
    if (ch === '"') return void string();
    if (ch === '-' || ch === '+' || ch === '.' || (ch >= '0' && ch <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (ch === undefined) fail('expected a value but the file ends here', endHint);
    if (ch === "'") fail('strings must use double quotes ("), not single quotes', 'Replace the single quotes with double quotes.');
    if (ch === '}' || ch === ']') fail(`expected a value before ${shown(ch)}`, 'Remove the trailing comma, or add the missing value.');
    const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(i))?.[0];
    if (word === 'NaN' || word === 'Infinity' || word === 'undefined') fail(`${word} is not allowed in JSON`, 'Use a number or null.');
    if (word === 'True' || word === 'False' || word === 'None') fail(`${word} is not JSON`, `Write ${word === 'None' ? 'null' : word.toLowerCase()}.`);
    if (word) fail(`unexpected word '${word}'; text values need double quotes`, `Write "${word}".`);
    fail(`unexpected character ${shown(ch)}`, 'Check the JSON syntax around here.');
  };

  const object = (at: string): void => {
    i++; // {
    const keys = new Set<string>();
    skipSpace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      const keyStart = i;
      if (text[i] !== '"') {
        if (text[i] === '}') fail("trailing comma before '}'", 'Remove the last comma.');
        if (text[i] === "'") fail('property names must use double quotes ("), not single quotes', 'Replace the single quotes with double quotes.');
        if (text[i] === undefined) fail('the file ends inside an object', endHint);
        fail(`expected a property name in double quotes, got ${shown(text[i])}`, 'Write property names like "epochs".');
      }
      const key = string();
      const keyPath = join(at, key);
      if (keys.has(key)) duplicates.push({ path: keyPath, offset: keyStart });
      keys.add(key);
      locations.set(keyPath, keyStart);
      skipSpace();
      if (text[i] !== ':') fail(`expected ':' after the property name "${key}", got ${shown(text[i])}`, `Write "${key}": value.`);
      i++;
      value(keyPath);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      if (text[i] === undefined) fail('the file ends inside an object', endHint);
      if (text[i] === '"') fail(`missing ',' after the value of "${key}"`, 'Add a comma between properties.');
      fail(`expected ',' or '}' after the value of "${key}", got ${shown(text[i])}`, 'Separate properties with commas and close the object with "}".');
    }
  };

  const array = (at: string): void => {
    i++; // [
    skipSpace();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (let n = 0; ; n++) {
      skipSpace();
      if (text[i] === ']') fail("trailing comma before ']'", 'Remove the last comma.');
      locations.set(`${at}[${n}]`, i);
      value(`${at}[${n}]`);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      if (text[i] === undefined) fail('the file ends inside a list', endHint);
      fail(`expected ',' or ']' in the list, got ${shown(text[i])}`, 'Separate list items with commas and close the list with "]".');
    }
  };

  const string = (): string => {
    const start = i;
    i++; // "
    let out = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail('a string is not closed', 'Add the closing double quote.', start);
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch === '\n' || ch === '\r')
        fail('a string is not closed before the end of the line', 'Add the closing double quote; write a line break inside a string as \\n.', start);
      if (ch < ' ') fail('control characters are not allowed inside strings', 'Write tabs as \\t.');
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape: it needs four hex digits', 'Write e.g. \\u00e9.');
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (esc === undefined || !(esc in map)) {
          fail(
            `invalid escape '\\${esc ?? ''}' in a string`,
            'In JSON a backslash must be doubled (\\\\), e.g. "C:\\\\data"; or use forward slashes in paths.',
          );
        }
        out += map[esc!];
        i += 2;
        continue;
      }
      out += ch;
      i++;
    }
  };

  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    const rest = text.slice(i);
    if (!m) {
      fail(/^-?\./.test(rest) ? 'numbers need a digit before the point' : 'invalid number', 'Write numbers like 0.5, 10 or 1e-3.');
    }
    const next = text[i + m![0].length];
    if (next !== undefined && /[\d.eExX]/.test(next))
      fail('invalid number', /^-?0\d/.test(rest) ? 'Numbers cannot start with 0 (write 7, not 07).' : 'Write numbers like 0.5, 10 or 1e-3.');
    i += m![0].length;
  };

  try {
    skipSpace();
    locations.set('', i);
    value('');
    skipSpace();
    if (i < text.length) fail(`unexpected ${shown(text[i])} after the end of the JSON object`, 'Remove it; a file holds exactly one JSON object.');
    return { locations, duplicates };
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { error: { offset: e.offset, message: e.message, hint: e.hint }, locations, duplicates };
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionOf(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}
