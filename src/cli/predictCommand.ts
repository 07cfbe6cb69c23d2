// transfer-lab predict <run-or-model> <images...>: classify images with an exported model.
import * as path from 'node:path';
import { loadPredictor, predictFiles } from '../engine/predict';
import { integerOption, UsageError, type ParsedArgs } from './args';
import { EXIT, loadCliBackend, type CliContext } from './context';

export async function predictCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [target, ...images] = args.positionals;
  if (!target || images.length === 0) throw new UsageError('predict: give a run folder (or model folder) and one or more images');
  const topK = integerOption(args, 'top', 3, 1);
  await loadCliBackend(ctx);
  let predictor;
  try {
    predictor = await loadPredictor(target, ctx.installRoot, ctx.cacheDir);
  } catch (e) {
    ctx.err(e instanceof Error ? e.message : String(e));
    return EXIT.badInput;
  }
  const results = await predictFiles(
    predictor,
    images.map((i) => path.resolve(i)),
    topK,
  );
  for (const r of results) {
    if (ctx.json) ctx.out(JSON.stringify(r));
    else if (r.error) ctx.out(`${r.file}: error: ${r.error}`);
    else ctx.out(`${r.file}: ${r.top.map((t) => `${t.label} ${(t.probability * 100).toFixed(1)}%`).join(', ')}`);
  }
  return results.some((r) => r.error) ? EXIT.badInput : EXIT.ok;
}
