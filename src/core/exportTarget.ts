// Where Export Model writes: the folder the user typed, made absolute, and what is wrong with
// it (if anything). A folder that does not exist yet is fine: the export creates it.
import * as path from 'node:path';

/** A typed folder made absolute: relative to `base` (the workspace), `~` and `~/...` in the home folder. */
export function resolveExportTarget(typed: string, base: string, home: string): string {
  const t = typed.trim();
  if (t === '~' || t.startsWith('~/') || t.startsWith('~\\')) return path.resolve(home, t.slice(2));
  return path.resolve(base, t);
}

/**
 * Why the folder cannot take the export, or undefined when it can: a new folder (created), an
 * empty one, or a non-empty one (the export asks before replacing anything in it).
 */
export function exportTargetProblem(target: string, kind: 'file' | 'directory' | undefined, modelDir: string, typed = target): string | undefined {
  if (typed.trim() === '') return 'Name a folder to export into (a new one is created).';
  if (kind === 'file') return `${target} is a file: name a folder (a new one is created).`;
  const model = path.resolve(modelDir);
  if (target === model || target.startsWith(model + path.sep)) return "Pick a folder outside the run's own model/ folder.";
  return undefined;
}
