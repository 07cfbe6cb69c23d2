// transfer-lab demo: the seeds' claim, measured. A data-efficiency study on a small dataset of
// five Fashion-MNIST classes the shipped backbone never saw: scratch, feature extraction and
// fine-tuning at 5, 10 and 20 images per class (all the training split has), three seeds each,
// then the table of accuracy mean ± spread, epochs to a target and training time. --json:
// the study's events and a final summary, one typed JSON document per line (core/demoOutput.ts).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { demoLine } from '../core/demoOutput';
import type { ExperimentFile } from '../core/experiment';
import type { StudyGrid } from '../core/studyFile';
import { runStudy } from '../engine/study/runStudy';
import type { ParsedArgs } from './args';
import { EXIT, loadCliBackend, stopOnCtrlC, type CliContext } from './context';
import { printStudy, studyProgress } from './studyCommand';

export const DEMO_DATASET = 'media/datasets/fashion-target';
const TARGET_ACCURACY = 0.7;
/** The shipped training split has 20 images per class, so 20 is all of it. */
export const DEMO_GRID: StudyGrid = { perClass: [5, 10, 20], seeds: [1, 2, 3], strategies: ['scratch', 'feature-extraction', 'fine-tune'] };

/**
 * One experiment for every cell: the strategy in the file is the fine-tune one (the last block,
 * block_5, trains at a tenth of the head's rate after ten head-only epochs); the study runs
 * scratch and feature extraction from the same file, so only the strategy differs.
 */
function demoExperiment(datasetDir: string): ExperimentFile {
  return {
    name: 'demo',
    description: 'Scratch vs feature extraction vs fine-tuning on five Fashion-MNIST classes the backbone never saw.',
    data: { dir: datasetDir, seed: 42 },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 3e-4, warmupEpochs: 10 },
    head: { pooling: 'avg', dense: [], dropout: 0.2 },
    train: { epochs: 40, batchSize: 16, optimizer: 'adam', learningRate: 0.003, earlyStopping: { patience: 8, monitor: 'val_loss' } },
  };
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
  const file = path.join(workDir, 'demo.tlexp.json');
  fs.writeFileSync(file, `${JSON.stringify(demoExperiment(dataset), null, 2)}\n`);
  const shouldStop = stopOnCtrlC(ctx);
  const started = Date.now();
  const outcome = await runStudy({
    experimentFile: file,
    runsDir: path.join(workDir, 'runs'),
    cacheDir: ctx.cacheDir,
    installRoot: ctx.installRoot,
    backend: loaded.backend,
    grid: DEMO_GRID,
    target: TARGET_ACCURACY,
    onEvent: studyProgress(ctx),
    shouldStop,
  });
  const seconds = (Date.now() - started) / 1000;
  if (ctx.json) {
    // The study's events went out one per line (studyProgress); the result is the last line, typed like them.
    ctx.out(demoLine({ type: 'summary', status: outcome.status, backend: loaded.backend, seconds, studyDir: outcome.studyDir, study: outcome.study }));
  } else {
    ctx.out(`\nTransfer Lab demo on ${loaded.backend}: five Fashion-MNIST classes the backbone never saw, ${path.relative(process.cwd(), dataset) || dataset}`);
    printStudy(ctx, outcome.study, outcome);
    const load = os.loadavg()[0].toFixed(1);
    ctx.err(`demo: ${seconds.toFixed(0)} s in all on ${os.cpus().length} CPU core(s), load average ${load} at the end`);
  }
  return outcome.status === 'completed' ? EXIT.ok : EXIT.failed;
}
