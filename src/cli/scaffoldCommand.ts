// transfer-lab scaffold: a new dataset folder from class names, or a folder-per-class
// dataset split into train/ val/ test/ (copied; moved only with --move).
import * as path from 'node:path';
import { formatProblem } from '../core/experimentValidation';
import { scaffoldDataset, splitDatasetOnDisk } from '../core/datasetScaffold';
import type { InputProblem } from '../core/experiment';
import { integerOption, UsageError, type ParsedArgs } from './args';
import { EXIT, type CliContext } from './context';

function report(ctx: CliContext, problems: InputProblem[], where: string): void {
  for (const p of problems) ctx.err(formatProblem(p, where));
}

function fraction(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new UsageError(`--${name}: a fraction in [0, 1), got ${value}`);
  return n;
}

export async function scaffoldCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [dir] = args.positionals;
  if (!dir) throw new UsageError('scaffold: which folder? e.g. transfer-lab scaffold datasets/pets --classes cat,dog');
  const target = path.resolve(dir);
  const source = args.options.get('split-from');
  if (source) {
    const split = { val: fraction(args.options.get('val'), 'val', 0.2), test: fraction(args.options.get('test'), 'test', 0.1) };
    const seed = integerOption(args, 'seed', 42);
    const result = await splitDatasetOnDisk(path.resolve(source), target, split, seed, args.flags.has('move') ? 'move' : 'copy');
    if (!result.ok) {
      report(ctx, result.errors, source);
      return EXIT.badInput;
    }
    report(ctx, result.warnings, source);
    const r = result.value;
    if (ctx.json) ctx.out(JSON.stringify(r));
    else {
      ctx.out(`${args.flags.has('move') ? 'Moved' : 'Copied'} ${r.files} images into ${r.destDir}`);
      ctx.out(['class', 'train', 'val', 'test'].join('\t'));
      for (const c of r.classes) ctx.out([c, r.counts[c].train, r.counts[c].val, r.counts[c].test].join('\t'));
      if (r.skipped.length) ctx.out(`${r.skipped.length} file(s) left in place (not images or unreadable)`);
    }
    return EXIT.ok;
  }
  const classes = (args.options.get('classes') ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (classes.length === 0) throw new UsageError('scaffold: give --classes a,b,c (or --split-from SRC to split an existing dataset)');
  const result = await scaffoldDataset(target, classes, {});
  if (!result.ok) {
    report(ctx, result.errors, dir);
    return EXIT.badInput;
  }
  report(ctx, result.warnings, dir);
  if (ctx.json) ctx.out(JSON.stringify(result.value));
  else ctx.out(`Dataset ${result.value.dir}: ${result.value.created.length} folder(s) created. Put each class's images in its folder.`);
  return EXIT.ok;
}
