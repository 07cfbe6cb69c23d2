// transfer-lab probe <experiment> [--backbones a,b,c] [--max-per-class N] [--json]: how well
// each block of the backbone separates the experiment's classes (a ridge probe's val
// accuracy and LogME by depth), the cut and strategy that follow, and with --backbones a
// ranking of backbones by LogME. Writes probe.json per backbone beside the runs folder.
import * as path from 'node:path';
import type { BackboneSpec } from '../core/experiment';
import { probesDirFor, type ProbeFile } from '../core/probeFile';
import { runProbe } from '../engine/probe/runProbe';
import { InputError } from '../engine/runExperiment';
import { integerOption, UsageError, type ParsedArgs } from './args';
import { EXIT, loadCliBackend, type CliContext } from './context';
import { backboneSpecFromArg } from './inspectCommand';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The table by depth: block, output shape, probe accuracy, LogME; the recommendation under it. */
export function formatProbe(p: ProbeFile): string {
  const rows = p.blocks.map((b) => [b.block, `[${b.shape.join(', ')}]`, pct(b.accuracy), b.logme.toFixed(3)]);
  const head = ['block', 'output shape', `probe acc (${p.blocks[0]?.accuracyOn ?? 'val'})`, 'LogME'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [
    `${p.backbone} on ${p.experiment}: ${p.dataset.train} train / ${p.dataset.val} val images, ${p.dataset.classes.length} classes`,
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    `score (max LogME): ${p.score.logme.toFixed(3)} at ${p.score.block}`,
    `measured: ${p.advice.measured}`,
    `recommended: ${p.advice.title}${p.advice.cutAt ? ` (backbone.cutAt: "${p.advice.cutAt}")` : ''}${p.advice.strategy.kind === 'fine-tune' && p.advice.strategy.unfreezeFrom ? ` (strategy.unfreezeFrom: "${p.advice.strategy.unfreezeFrom}")` : ''}`,
    `  ${p.advice.reason}`,
    `time: ${secs(p.timings.totalMs)} (load ${secs(p.timings.loadMs)}, frozen base ${secs(p.timings.featurizeMs)}, probes + LogME ${secs(p.timings.probeMs)})`,
  ].join('\n');
}

export async function probeCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [experiment] = args.positionals;
  if (!experiment) throw new UsageError('probe: which experiment? e.g. transfer-lab probe flowers.tlexp.json');
  const maxPerClass = args.options.has('max-per-class') ? integerOption(args, 'max-per-class', 0, 1) : undefined;
  const listed = args.options.get('backbones');
  const specs: (BackboneSpec | undefined)[] = listed
    ? listed
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => backboneSpecFromArg(s))
    : [undefined];
  if (specs.length === 0) throw new UsageError('probe: --backbones needs at least one catalog id or model path, e.g. --backbones fmnist-mini,mobilenet_v2');
  const loaded = await loadCliBackend(ctx);
  const probesDir = probesDirFor(path.resolve(args.options.get('runs-dir') ?? '.transferlab/runs'));
  const results: { probe: ProbeFile; file?: string }[] = [];
  try {
    for (const backbone of specs) {
      const outcome = await runProbe({
        experimentFile: path.resolve(experiment),
        backbone,
        probesDir,
        cacheDir: ctx.cacheDir,
        installRoot: ctx.installRoot,
        backend: loaded.backend,
        maxPerClass,
        onProgress: ctx.json ? undefined : (m) => ctx.err(m),
      });
      if (outcome.status !== 'done') return EXIT.failed;
      results.push(outcome);
      if (!ctx.json) ctx.out(`${formatProbe(outcome.probe)}\nwritten: ${outcome.file}\n`);
    }
  } catch (e) {
    if (e instanceof InputError) {
      ctx.err(e.message);
      return EXIT.badInput;
    }
    throw e;
  }
  const ranked = [...results].sort((a, b) => b.probe.score.logme - a.probe.score.logme);
  if (ctx.json) ctx.out(JSON.stringify({ probes: results.map((r) => ({ ...r.probe, file: r.file })), ranking: ranked.map((r) => r.probe.backbone) }));
  else if (results.length > 1) {
    ctx.out('Backbones ranked by score (max LogME over blocks; higher transfers better):');
    ranked.forEach((r, i) =>
      ctx.out(
        `  ${i + 1}. ${r.probe.backbone}: LogME ${r.probe.score.logme.toFixed(3)} at ${r.probe.score.block}, best probe accuracy ${pct(Math.max(...r.probe.blocks.map((b) => b.accuracy)))}, ${secs(r.probe.timings.totalMs)}`,
      ),
    );
  }
  return EXIT.ok;
}
