// Problems as a user reads them: one line each, in file order.
import type { InputProblem } from './experiment';

/**
 * One line for a user: "<file>:<line>:<column>: <path>: <what is wrong>. <what to do>".
 * `file` is what to show (a basename or a full path); a problem's own `file` wins.
 */
export function formatProblem(problem: InputProblem, file?: string): string {
  const where = problem.file ?? file;
  const position = problem.line !== undefined ? `:${problem.line}:${problem.column ?? 1}` : '';
  const prefix = where ? `${where}${position}: ` : position ? `${position.slice(1)}: ` : '';
  const message = /[.!?]$/.test(problem.message) ? problem.message : `${problem.message}.`;
  return `${prefix}${problem.path ? `${problem.path}: ` : ''}${message}${problem.hint ? ` ${problem.hint}` : ''}`;
}

/** Problems in file order (stable; unlocated ones keep their place at the end). */
export function byPosition(problems: InputProblem[]): InputProblem[] {
  const key = (p: InputProblem) => (p.line === undefined ? Number.MAX_SAFE_INTEGER : p.line * 1e6 + (p.column ?? 0));
  return problems
    .map((p, n) => ({ p, n }))
    .sort((a, b) => key(a.p) - key(b.p) || a.n - b.n)
    .map((x) => x.p);
}
