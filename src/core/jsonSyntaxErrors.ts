// A JSON syntax error in words a user can act on, at the character to fix: the mistakes
// people make writing JSON by hand (comments, trailing commas, single quotes, Python's True
// and None, unquoted words, Windows paths with single backslashes).
import type { JsonSyntaxError } from './jsonPositions';

export interface ExplainedSyntaxError {
  line: number;
  column: number;
  message: string;
  hint: string;
}

type Words = { message: string; hint: string };

const END_HINT = 'The file ends too early: check for a missing closing "}" or "]".';
const NUMBER_HINT = 'Write numbers like 0.5, 10 or 1e-3.';
const STRING_ERRORS = new Set<JsonSyntaxError['code']>(['UnexpectedEndOfString', 'InvalidEscapeCharacter', 'InvalidUnicode', 'InvalidCharacter']);
const ESCAPES = '"\\/bfnrt';

const shown = (ch: string | undefined) => (ch === undefined ? 'the end of the file' : `'${ch}'`);

/** What is wrong and what to do, at the error or at the character inside its token that causes it. */
export function explainJsonSyntaxError(text: string, e: JsonSyntaxError): ExplainedSyntaxError {
  const at = (words: Words, delta = 0): ExplainedSyntaxError => ({ line: e.line, column: e.column + delta, ...words });
  if (e.code === 'InvalidCommentToken') {
    return at({
      message: 'comments are not allowed: experiment files are plain JSON',
      hint: 'Remove the comment, or put the note in the "description" field.',
    });
  }
  // A bad string or number where one may stand is itself the problem; elsewhere, that it stands there is.
  if (STRING_ERRORS.has(e.code) && (e.expecting === 'key' || e.expecting === 'value')) {
    const problem = stringProblem(text, e.offset);
    return problem ? at(problem, problem.delta) : at({ message: 'invalid string', hint: 'Check the JSON syntax around here.' });
  }
  if ((e.code === 'UnexpectedEndOfNumber' || e.code === 'InvalidNumberFormat') && e.expecting === 'value') return at(numberProblem(text.slice(e.offset)));
  // A number followed by what cannot follow one (07, 1x, 1.5.3): the number is what is wrong.
  const p = e.previous;
  if (p?.type === 'number' && p.offset + p.length === e.offset && /[\d.eExX]/.test(text[e.offset] ?? '')) {
    return { line: p.line, column: p.column, ...numberProblem(text.slice(p.offset)) };
  }
  // true, false or null run into what follows (`true'`): what follows is what is wrong.
  const literal = e.expecting === 'value' ? /^(true|false|null)(?=\S)/.exec(text.slice(e.offset))?.[1] : undefined;
  if (literal) return at(misplaced(text, { ...e, offset: e.offset + literal.length, expecting: e.container ? 'separator' : 'end' }), literal.length);
  return at(misplaced(text, e));
}

/** The character at the error where something else was expected. */
function misplaced(text: string, e: JsonSyntaxError): Words {
  const ch = text[e.offset];
  if (e.expecting === 'end')
    return { message: `unexpected ${shown(ch)} after the end of the JSON object`, hint: 'Remove it; a file holds exactly one JSON object.' };
  return ch === undefined ? endOfFile(e) : unexpected(text, e, ch);
}

function endOfFile(e: JsonSyntaxError): Words {
  if (e.expecting === 'value') return { message: 'expected a value but the file ends here', hint: END_HINT };
  if (e.expecting === 'colon') return { message: `expected ':' after the property name "${e.key}", got the end of the file`, hint: `Write "${e.key}": value.` };
  return { message: e.container === 'array' ? 'the file ends inside a list' : 'the file ends inside an object', hint: END_HINT };
}

/** `ch` (not the end of the file) where something else was expected. */
function unexpected(text: string, e: JsonSyntaxError, ch: string): Words {
  switch (e.expecting) {
    case 'key':
      if (ch === '}') return { message: "trailing comma before '}'", hint: 'Remove the last comma.' };
      if (ch === "'") return { message: 'property names must use double quotes ("), not single quotes', hint: 'Replace the single quotes with double quotes.' };
      return { message: `expected a property name in double quotes, got ${shown(ch)}`, hint: 'Write property names like "epochs".' };
    case 'colon':
      return { message: `expected ':' after the property name "${e.key}", got ${shown(ch)}`, hint: `Write "${e.key}": value.` };
    case 'value':
      if (e.container === 'array' && ch === ']') return { message: "trailing comma before ']'", hint: 'Remove the last comma.' };
      return valueProblem(text.slice(e.offset), ch);
    default:
      if (e.container === 'array') {
        return { message: `expected ',' or ']' in the list, got ${shown(ch)}`, hint: 'Separate list items with commas and close the list with "]".' };
      }
      if (ch === '"') return { message: `missing ',' after the value of "${e.key}"`, hint: 'Add a comma between properties.' };
      return {
        message: `expected ',' or '}' after the value of "${e.key}", got ${shown(ch)}`,
        hint: 'Separate properties with commas and close the object with "}".',
      };
  }
}

/** Where a value should start, `rest` is not one. */
function valueProblem(rest: string, ch: string): Words {
  if (ch === "'") return { message: 'strings must use double quotes ("), not single quotes', hint: 'Replace the single quotes with double quotes.' };
  if (ch === '}' || ch === ']') return { message: `expected a value before ${shown(ch)}`, hint: 'Remove the trailing comma, or add the missing value.' };
  if (/[-+.\d]/.test(ch)) return numberProblem(rest);
  const word = /^[A-Za-z_$][\w$]*/.exec(rest)?.[0];
  if (word === 'NaN' || word === 'Infinity' || word === 'undefined') return { message: `${word} is not allowed in JSON`, hint: 'Use a number or null.' };
  if (word === 'True' || word === 'False' || word === 'None')
    return { message: `${word} is not JSON`, hint: `Write ${word === 'None' ? 'null' : word.toLowerCase()}.` };
  if (word) return { message: `unexpected word '${word}'; text values need double quotes`, hint: `Write "${word}".` };
  return { message: `unexpected character ${shown(ch)}`, hint: 'Check the JSON syntax around here.' };
}

/** `rest` starts with a number JSON does not allow: .5, +1, 07, 1.e3. */
function numberProblem(rest: string): Words {
  if (!/^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.test(rest)) {
    return { message: /^-?\./.test(rest) ? 'numbers need a digit before the point' : 'invalid number', hint: NUMBER_HINT };
  }
  return { message: 'invalid number', hint: /^-?0\d/.test(rest) ? 'Numbers cannot start with 0 (write 7, not 07).' : NUMBER_HINT };
}

/** The first thing wrong in the string starting at `start` (its opening quote), `delta` characters in. */
function stringProblem(text: string, start: number): (Words & { delta: number }) | undefined {
  for (let i = start + 1; ; i++) {
    const ch = text[i];
    if (ch === undefined) return { delta: 0, message: 'a string is not closed', hint: 'Add the closing double quote.' };
    if (ch === '"') return undefined;
    if (ch === '\n' || ch === '\r') {
      return {
        delta: 0,
        message: 'a string is not closed before the end of the line',
        hint: 'Add the closing double quote; write a line break inside a string as \\n.',
      };
    }
    if (ch < ' ') return { delta: i - start, message: 'control characters are not allowed inside strings', hint: 'Write tabs as \\t.' };
    if (ch !== '\\') continue;
    const esc = text[i + 1];
    if (esc === 'u') {
      if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
        return { delta: i - start, message: 'invalid \\u escape: it needs four hex digits', hint: 'Write e.g. \\u00e9.' };
      i += 5;
    } else if (esc === undefined || !ESCAPES.includes(esc)) {
      return {
        delta: i - start,
        message: `invalid escape '\\${esc ?? ''}' in a string`,
        hint: 'In JSON a backslash must be doubled (\\\\), e.g. "C:\\\\data"; or use forward slashes in paths.',
      };
    } else {
      i += 1;
    }
  }
}
