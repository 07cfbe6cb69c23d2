// transfer-lab demo: the seeds' claim, measured. On a small dataset of five Fashion-MNIST
// classes the shipped backbone never saw, train the same network three ways (scratch,
// feature extraction, fine-tuning) and print accuracy, time and epochs to a target.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExperimentFile } from '../core/experiment';
import { runExperiment, type RunOutcome } from '../engine/runExperiment';
import type { ParsedArgs } from './args';
import { EXIT, loadCliBackend, type CliContext } from './context';
import { progressPrinter } from './runCommand';

export const DEMO_DATASET = 'media/datasets/fashion-target';
const TARGET_ACCURACY = 0.7;

function demoExperiments(datasetDir: string): ExperimentFile[] {
  const data = { dir: datasetDir, seed: 42 };
  const train = { epochs: 40, batchSize: 16, optimizer: 'adam' as const, learningRate: 0.003, earlyStopping: { patience: 8, monitor: 'val_loss' as const } };
  const head = { pooling: 'avg' as const, dense: [], dropout: 0.2 };
  // The three differ only in strategy (and the baseline's training settings).
  const experiment = (name: string, description: string, strategy: ExperimentFile['strategy'], trainAs: ExperimentFile['train'] = train): ExperimentFile => ({
    name,
    description,
    data,
    backbone: { catalog: 'fmnist-mini' },
    strategy,
    head,
    train: trainAs,
  });
  return [
    // No early stopping for the baseline: training from scratch is slow to start, and
    // stopping it at its first plateau would flatter transfer learning.
    experiment('demo-scratch', 'Same architecture, random weights: the baseline.', { kind: 'scratch' }, { ...train, earlyStopping: undefined }),
    experiment('demo-feature-extraction', 'Frozen pretrained base, new head.', { kind: 'feature-extraction' }),
    experiment('demo-fine-tune', 'Head first, then the last block trains with a small learning rate.', {
      kind: 'fine-tune',
      unfreezeFrom: 'block_5_dw',
      baseLearningRate: 3e-4,
      warmupEpochs: 10,
    }),
  ];
}

export async function demoCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const dataset = path.join(ctx.installRoot, DEMO_DATASET);
  if (!fs.existsSync(dataset)) {
    ctx.err(`demo: the shipped dataset is missing (${dataset}). Regenerate it with node scripts/make-demo-dataset.mjs.`);
    return EXIT.badInput;
  }
  const loaded = await loadCliBackend(ctx);
  const workDir = path.resolve(args.options.get('runs-dir') ?? '.transferlab/demo');
  fs.mkdirSync(workDir, { recursive: true });
  const rows: { name: string; outcome: RunOutcome; seconds: number }[] = [];
  const quiet = { ...ctx, json: false, err: ctx.json ? () => {} : ctx.err };
  for (const experiment of demoExperiments(dataset)) {
    const file = path.join(workDir, `${experiment.name}.tlexp.json`);
    fs.writeFileSync(file, `${JSON.stringify(experiment, null, 2)}\n`);
    ctx.err(`\n== ${experiment.name}: ${experiment.description}`);
    const started = Date.now();
    const outcome = await runExperiment({
      experimentFile: file,
      runsDir: path.join(workDir, 'runs'),
      cacheDir: ctx.cacheDir,
      installRoot: ctx.installRoot,
      backend: loaded.backend,
      onEvent: (e) => (e.type === 'epoch' || e.type === 'batch' ? undefined : progressPrinter(quiet)(e)),
      shouldStop: () => false,
    });
    rows.push({ name: experiment.name.replace('demo-', ''), outcome, seconds: (Date.now() - started) / 1000 });
  }
  const table = rows.map(({ name, outcome, seconds }) => {
    const history = outcome.train?.history ?? [];
    const reached = history.find((h) => h.valAccuracy >= TARGET_ACCURACY);
    return {
      strategy: name,
      status: outcome.status,
      testAccuracy: outcome.evaluation?.accuracy ?? NaN,
      bestValAccuracy: outcome.train?.best.valAccuracy ?? NaN,
      epochs: history.length,
      epochsToTarget: reached?.epoch ?? null,
      trainSeconds: outcome.metrics?.trainSeconds ?? NaN,
      totalSeconds: seconds,
      runDir: outcome.runDir,
    };
  });
  if (ctx.json) {
    ctx.out(JSON.stringify({ backend: loaded.backend, targetAccuracy: TARGET_ACCURACY, rows: table }));
  } else {
    const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '-');
    const lines = [
      ['strategy', 'test acc', 'best val acc', 'epochs', `epochs to ${TARGET_ACCURACY * 100}% val`, 'train time', 'total time'],
      ...table.map((r) => [
        r.strategy,
        pct(r.testAccuracy),
        pct(r.bestValAccuracy),
        String(r.epochs),
        r.epochsToTarget === null ? 'never' : String(r.epochsToTarget),
        `${r.trainSeconds.toFixed(1)} s`,
        `${r.totalSeconds.toFixed(1)} s`,
      ]),
    ];
    const widths = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
    ctx.out('');
    ctx.out(`Transfer Lab demo on ${loaded.backend}: five Fashion-MNIST classes the backbone never saw, ${path.relative(process.cwd(), dataset) || dataset}`);
    lines.forEach((l, i) => {
      ctx.out(l.map((cell, c) => cell.padEnd(widths[c])).join('  '));
      if (i === 0) ctx.out(widths.map((w) => '-'.repeat(w)).join('  '));
    });
    const scratch = table.find((r) => r.strategy === 'scratch');
    const bestTransfer = table.filter((r) => r.strategy !== 'scratch').sort((a, b) => b.testAccuracy - a.testAccuracy)[0];
    if (scratch && bestTransfer) {
      const delta = (bestTransfer.testAccuracy - scratch.testAccuracy) * 100;
      ctx.out(
        `\n${bestTransfer.strategy} ${delta >= 0 ? 'beats' : 'trails'} scratch by ${Math.abs(delta).toFixed(1)} points of test accuracy. Runs: ${path.join(workDir, 'runs')}`,
      );
    }
  }
  return table.every((r) => r.status === 'succeeded') ? EXIT.ok : EXIT.failed;
}
