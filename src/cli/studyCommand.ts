// transfer-lab study <experiment> [--per-class 5,10,20,50,all] [--seeds 3] [--strategies ...]:
// a data-efficiency study (engine/study/runStudy.ts), one line per cell on stderr, the table
// on stdout; --json prints the study's events, one per line. Ctrl-C stops after the running
// batch and leaves a study that `transfer-lab study --resume <study dir>` finishes.
import * as path from 'node:path';
import type { RunEvent } from '../core/runEvents';
import type { StudyEvent, StudyFile, StudyGrid } from '../core/studyFile';
import { DEFAULT_STUDY_GRID, parsePerClass, parseSeeds, parseStrategies, type Parsed } from '../core/studyGridText';
import { formatStudyTable } from '../core/studyTable';
import { InputError } from '../engine/runExperiment';
import { DEFAULT_STUDY_TARGET, runStudy, type StudyOutcome } from '../engine/study/runStudy';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, loadCliBackend, stopOnCtrlC, type CliContext } from './context';

function option<T>(args: ParsedArgs, name: string, parse: (text: string) => Parsed<T>, fallback: T): T {
  const raw = args.options.get(name);
  if (raw === undefined) return fallback;
  const parsed = parse(raw);
  if (!parsed.ok) throw new UsageError(`--${name}: ${parsed.error}`);
  return parsed.value;
}

export function studyGridOf(args: ParsedArgs): StudyGrid {
  return {
    perClass: option(args, 'per-class', parsePerClass, DEFAULT_STUDY_GRID.perClass),
    seeds: option(args, 'seeds', parseSeeds, DEFAULT_STUDY_GRID.seeds),
    strategies: option(args, 'strategies', parseStrategies, DEFAULT_STUDY_GRID.strategies),
  };
}

function targetOf(args: ParsedArgs): number {
  const raw = args.options.get('target');
  if (raw === undefined) return DEFAULT_STUDY_TARGET;
  const n = Number(raw.replace(/%$/, '')) / (raw.endsWith('%') ? 100 : 1);
  if (!Number.isFinite(n) || n <= 0 || n > 1)
    throw new UsageError(`--target: a validation accuracy from 0 to 1 (or a percentage), e.g. 0.7 or 70%; got '${raw}'`);
  return n;
}

/** One line per cell as it ends: "[3/27] fine-tune, 10 per class, seed 2: test 78.0% (best val 80.0% at epoch 9) in 3.1 s". */
export function studyProgress(ctx: CliContext): (e: StudyEvent | RunEvent) => void {
  let total = 0;
  let done = 0;
  return (e) => {
    if (ctx.json) {
      if (e.type.startsWith('study-')) ctx.out(JSON.stringify(e));
      return;
    }
    if (e.type === 'study-started') {
      total = e.study.cells.filter((c) => c.status !== 'completed').length;
      ctx.err(`study ${e.study.id}: ${e.study.experimentName}, ${total} cell(s) to run, in ${e.studyDir}`);
    } else if (e.type === 'study-cell-finished') {
      done++;
      const c = e.cell;
      const size = c.perClass === 'all' ? 'all images' : `${c.perClass} per class`;
      const result =
        c.status === 'completed'
          ? `test ${((c.testAccuracy ?? NaN) * 100).toFixed(1)}% (best val ${((c.bestValAccuracy ?? NaN) * 100).toFixed(1)}% at epoch ${c.bestEpoch}) in ${(c.trainSeconds ?? 0).toFixed(1)} s`
          : `${c.status}${c.error ? `: ${c.error}` : ''}`;
      ctx.err(`[${done}/${total}] ${c.strategy}, ${size} (${c.trainImages} images), seed ${c.seed}: ${result}`);
    } else if (e.type === 'warning') {
      ctx.err(`warning: ${e.message}`);
    }
  };
}

/** The table, the cache figures and where the study is (stdout: the table; stderr: the rest). */
export function printStudy(ctx: CliContext, study: StudyFile, outcome: Pick<StudyOutcome, 'studyDir' | 'cache' | 'status'>): void {
  if (ctx.json) return;
  ctx.out('');
  for (const line of formatStudyTable(study)) ctx.out(line);
  const { hits, misses } = outcome.cache;
  ctx.err(`\nactivation cache: ${hits} hit(s), ${misses} miss(es) over the cells run now (the frozen base ran once per image and view)`);
  ctx.err(`study folder: ${outcome.studyDir}`);
  if (outcome.status === 'cancelled') ctx.err(`stopped; finish it with: transfer-lab study --resume ${path.relative(process.cwd(), outcome.studyDir) || '.'}`);
}

export async function studyCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const resume = args.options.get('resume');
  const [experiment] = args.positionals;
  if (!experiment && !resume) throw new UsageError('study: which experiment? e.g. transfer-lab study flowers.tlexp.json --per-class 5,10,20,50,all --seeds 3');
  if (experiment && resume) throw new UsageError('study: give an experiment or --resume <study dir>, not both');
  if (resume && ['per-class', 'seeds', 'strategies', 'target'].some((o) => args.options.has(o))) {
    throw new UsageError('study --resume: the study keeps its own grid and target; leave out --per-class, --seeds, --strategies and --target');
  }
  const grid = studyGridOf(args);
  const target = targetOf(args);
  const loaded = await loadCliBackend(ctx);
  const shouldStop = stopOnCtrlC(ctx);
  try {
    const outcome = await runStudy({
      experimentFile: experiment ? path.resolve(experiment) : '',
      runsDir: path.resolve(args.options.get('runs-dir') ?? '.transferlab/runs'),
      cacheDir: ctx.cacheDir,
      installRoot: ctx.installRoot,
      backend: loaded.backend,
      grid,
      target,
      resume: resume ? path.resolve(resume) : undefined,
      onEvent: studyProgress(ctx),
      shouldStop,
    });
    printStudy(ctx, outcome.study, outcome);
    return outcome.status === 'completed' ? EXIT.ok : EXIT.failed;
  } catch (e) {
    if (e instanceof InputError) {
      ctx.err(e.message);
      return EXIT.badInput;
    }
    throw e;
  }
}
