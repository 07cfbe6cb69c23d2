// The whole-experiment rows of `npm run bench` (4-5, not with --quick): a feature-extraction
// experiment on 2,000 images against Keras, then start-up to the first prediction.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { env, log, median, medianOrNone, root, type Bench } from './harness';
import { benchImages } from './syntheticImages';

interface Trained {
  /** Our last run's folder, for the CLI to predict with. */
  runDir?: string;
  /** The model the Keras notebook recipe saved. */
  notebookModel: string;
}

/** 4. A whole feature-extraction experiment: 2,000 images, 10 epochs. */
function experimentTimes(bench: Bench, data: string, work: string): Trained {
  const { tfjs, py, rows, results } = bench;
  const backboneDir = path.join(work, 'mobilenetv2');
  const saved = tfjs({ kind: 'save-backbone', size: 224, dir: backboneDir });
  if (!saved.ok) throw new Error(saved.error);
  const file = path.join(work, 'bench.tlexp.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'bench',
      data: { dir: data, split: { val: 0.2, test: 0 } },
      backbone: { path: backboneDir },
      strategy: { kind: 'feature-extraction' },
      train: { epochs: 10, batchSize: 32 },
    }),
  );
  const samples: Record<string, number[]> = { ours: [], cached: [], notebook: [] };
  const expReps = Math.max(1, Math.round(bench.reps / 3));
  let runDir: string | undefined;
  const notebookModel = path.join(work, 'notebook.keras');
  for (let rep = 0; rep < expReps; rep++) {
    log(`feature-extraction experiment, 2,000 images x 10 epochs (rep ${rep + 1}): ours`);
    const a = tfjs({ kind: 'experiment', file, runsDir: path.join(work, 'runs'), cacheDir: path.join(work, `cache-${rep}`) }); // a cold cache each time
    if (a.ok) {
      samples.ours.push(a.value.seconds as number);
      runDir = a.value.runDir as string;
    } else log(a.error);
    log('  Keras with a feature cache');
    const b = py({ kind: 'experiment-cached', dataDir: data, size: 224, epochs: 10 });
    if (b.ok) samples.cached.push(b.value.seconds as number);
    log('  Keras notebook recipe');
    const c = py({ kind: 'experiment-notebook', dataDir: data, size: 224, epochs: 10, saveTo: notebookModel });
    if (c.ok) samples.notebook.push(c.value.seconds as number);
    else log(c.error);
  }
  rows.push({
    workload: 'feature extraction, 2,000 images x 10 epochs',
    config: 'ours (one run, cold cache) vs Keras with the same cache',
    ours: medianOrNone(samples.ours),
    keras: medianOrNone(samples.cached),
    unit: 's',
    higherIsBetter: false,
    target: { ratio: 1, text: 'no slower than Keras+cache' },
  });
  rows.push({
    workload: 'feature extraction, 2,000 images x 10 epochs',
    config: 'ours vs the Keras notebook recipe (base.trainable=False, fit)',
    ours: medianOrNone(samples.ours),
    keras: medianOrNone(samples.notebook),
    unit: 's',
    higherIsBetter: false,
    target: { ratio: 5, text: '>= 5x faster than the notebook' },
  });
  results.push({ workload: 'experiment', samples });
  return { runDir, notebookModel };
}

/** 5. Start-up to first prediction: a fresh process, the saved model, one image. */
function firstPredictionRow(bench: Bench, trained: Trained, image: string): void {
  const first: Record<string, number[]> = { ours: [], keras: [] };
  for (let rep = 0; rep < bench.reps; rep++) {
    if (trained.runDir) {
      // The user's path: the CLI in a fresh process (it prints text: timed here).
      const t = performance.now();
      const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'predict', trained.runDir, image], { env, encoding: 'utf8' });
      if (r.status === 0) first.ours.push(performance.now() - t);
      else log(`cli predict: ${r.stderr.trim().split('\n').pop()}`);
    }
    if (fs.existsSync(trained.notebookModel)) {
      const b = bench.py({ kind: 'first-prediction', modelFile: trained.notebookModel, image, size: 224 });
      if (b.ok) first.keras.push(b.wallMs);
    }
  }
  bench.rows.push({
    workload: 'start-up to first prediction',
    config: 'fresh process: load backend + saved model, classify one JPEG',
    ours: first.ours.length ? median(first.ours) / 1000 : undefined,
    keras: first.keras.length ? median(first.keras) / 1000 : undefined,
    unit: 's',
    higherIsBetter: false,
  });
  bench.results.push({ workload: 'first-prediction', samples: first });
}

export async function experimentRows(bench: Bench): Promise<void> {
  const data = await benchImages();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-exp-'));
  const trained = experimentTimes(bench, data, work);
  firstPredictionRow(bench, trained, path.join(data, 'class_0', 'img_0.jpg'));
  fs.rmSync(work, { recursive: true, force: true });
}
