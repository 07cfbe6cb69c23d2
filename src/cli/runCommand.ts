// transfer-lab run <experiment>: train, with progress on a terminal or one JSON event per line.
import * as path from 'node:path';
import type { RunEvent } from '../core/runEvents';
import { runExperiment, InputError } from '../engine/runExperiment';
import type { ParsedArgs } from './args';
import { UsageError } from './args';
import { EXIT, loadCliBackend, stopOnCtrlC, type CliContext } from './context';

export function progressPrinter(ctx: CliContext): (e: RunEvent) => void {
  const tty = process.stderr.isTTY && !ctx.json;
  let transient = false;
  const line = (text: string) => {
    if (transient) process.stderr.write('\r\x1b[K');
    transient = false;
    ctx.err(text);
  };
  return (e) => {
    if (ctx.json) return ctx.out(JSON.stringify(e));
    switch (e.type) {
      case 'run-started':
        return line(
          `run ${e.runId}: ${e.experiment} on ${e.backend}, classes ${e.classes.join(', ')} (train ${e.counts.train}, val ${e.counts.val}, test ${e.counts.test})`,
        );
      case 'phase':
        if (e.done !== undefined && e.total !== undefined && e.done < e.total) {
          if (tty) {
            process.stderr.write(`\r\x1b[K${e.message}`);
            transient = true;
          }
          return;
        }
        return line(e.message);
      case 'warning':
        return line(`warning: ${e.message}`);
      case 'batch':
        if (tty) {
          process.stderr.write(
            `\r\x1b[Kepoch ${e.epoch} batch ${e.batch}/${e.batches}  loss ${e.loss.toFixed(4)}  acc ${(e.accuracy * 100).toFixed(1)}%  ${Math.round(e.imagesPerSec)} img/s`,
          );
          transient = true;
        }
        return;
      case 'epoch':
        return line(
          `epoch ${e.epoch}/${e.epochs}  loss ${e.loss.toFixed(4)}  acc ${(e.accuracy * 100).toFixed(1)}%  val_loss ${e.valLoss.toFixed(4)}  val_acc ${(e.valAccuracy * 100).toFixed(1)}%  ${e.seconds.toFixed(1)} s${e.baseTrainable ? '' : '  (head only)'}`,
        );
      case 'checkpoint':
        return line(`best checkpoint: epoch ${e.epoch} (${e.metric} ${e.value.toFixed(4)})`);
      case 'evaluation':
        return line(
          `${e.report.split} accuracy ${(e.report.accuracy * 100).toFixed(1)}% on ${e.report.count} images (macro F1 ${e.report.macroF1.toFixed(3)})`,
        );
      case 'finished':
        return line(e.status === 'failed' ? `failed: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}` : `${e.status} in ${(e.durationMs / 1000).toFixed(1)} s`);
    }
  };
}

export async function runCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [experiment] = args.positionals;
  if (!experiment) throw new UsageError('run: which experiment? e.g. transfer-lab run flowers.tlexp.json');
  const loaded = await loadCliBackend(ctx);
  const shouldStop = stopOnCtrlC(ctx);
  try {
    const outcome = await runExperiment({
      experimentFile: path.resolve(experiment),
      runsDir: path.resolve(args.options.get('runs-dir') ?? '.transferlab/runs'),
      cacheDir: ctx.cacheDir,
      installRoot: ctx.installRoot,
      backend: loaded.backend,
      onEvent: progressPrinter(ctx),
      shouldStop,
    });
    if (!ctx.json)
      ctx.err(`run folder: ${outcome.runDir}${outcome.status === 'failed' ? ` (what went wrong inside: ${path.join(outcome.runDir, 'log.txt')})` : ''}`);
    return outcome.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  } catch (e) {
    if (e instanceof InputError) {
      ctx.err(e.message);
      return EXIT.badInput;
    }
    throw e;
  }
}
