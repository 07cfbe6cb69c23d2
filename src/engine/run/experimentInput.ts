// The experiment file as the run reads it, and the error for bad input found before (or,
// for a dataset that went away, during) a run: problems that name the file and field.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputProblem, ResolvedExperiment } from '../../core/experiment';
import { formatProblem, loadExperimentText } from '../../core/experimentValidation';

/** Bad input found before training: the run is not started; problems name file and field. */
export class InputError extends Error {
  constructor(
    readonly file: string,
    readonly problems: InputProblem[],
  ) {
    super(problems.map((p) => formatProblem(p, path.basename(file))).join('\n'));
  }
}

/** Reads and validates an experiment file; warnings (e.g. a very high learning rate) are returned. */
export function loadExperiment(file: string): { experiment: ResolvedExperiment; warnings: InputProblem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, [{ path: '', message: `cannot read the experiment file (${(e as NodeJS.ErrnoException).code ?? e})`, hint: 'Check the path.' }]);
  }
  const loaded = loadExperimentText(text, file);
  if (!loaded.ok) throw new InputError(file, loaded.errors);
  return { experiment: loaded.value, warnings: loaded.warnings };
}
