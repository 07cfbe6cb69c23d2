// `npm run bench`: Transfer Lab against Keras on this machine, side by side in one run.
// Every measurement runs in its own process (bench/worker.ts for TensorFlow.js,
// bench/keras_bench.py for Keras), repetitions interleaved across contenders, medians
// reported with ratios to Keras, as a table and as bench-results/bench.json.
//
//   npm run bench                               everything: the MobileNetV2 rows, then the zoo rows
//   npm run bench -- --only mobilenet           the MobileNetV2 rows only
//   npm run bench -- --only onednn              the oneDNN policy rows only (MobileNetV2 forward with
//                                               oneDNN on, the product's policy, off; no Keras), to bench-onednn.json
//   npm run bench -- --only zoo                 the zoo rows only (bench/zoo.ts: ResNet50, EfficientNetB0,
//                                               InceptionV3, ConvNeXtTiny), written to bench-results/bench-zoo.json
//   npm run bench -- --families resnet50,inception_v3   those zoo families only (implies --only zoo)
//   npm run bench -- --quick                    the same as BENCH_QUICK=1
//
//   BENCH_REPS=3        repetitions of each measurement (default 3; experiments: 1 + BENCH_REPS/3)
//   BENCH_QUICK=1       a few-minute smoke run (fewer configurations, no 2,000-image experiment;
//                       zoo rows at batch 8, one repetition, two timed iterations)
//   BENCH_KERAS_PYTHON  a Python with tensorflow 2.x (default: a venv made in the cache folder)
//   BENCH_NO_KERAS=1    skip Keras (ratios are then left out)
//   TF_ENABLE_ONEDNN_OPTS  the kernels both sides use (default 1: oneDNN, as Keras uses by
//                       default). The oneDNN policy rows set it per measurement: on, the
//                       trainer's policy (engine/oneDnnPolicy.ts decideOneDnn) as on a CPU that
//                       hides its cache sizes, and off (what such a CPU got before the policy).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { decideOneDnn, verdictFileOf } from '../src/engine/oneDnnPolicy';
import { OneDnnRetryJob } from '../src/extension/oneDnnRetry';
import { TrainerProcess } from '../src/extension/trainerProcess';
import { readRun } from '../src/core/runStore';
import { formatZooTable, runZoo, selectFamilies, ZOO_FAMILIES, type ZooRow } from './zoo';

const root = path.resolve(__dirname, '../..');
const req = createRequire(path.join(root, 'package.json'));

const USAGE = 'usage: node out/bench/suite.js [--only mobilenet|onednn|zoo] [--families id,...] [--quick]';
type Only = 'mobilenet' | 'onednn' | 'zoo';
function parseArgs(argv: string[]): { only?: Only; families?: string[]; quick: boolean } {
  const out: { only?: Only; families?: string[]; quick: boolean } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--only') {
      const v = value();
      if (v !== 'mobilenet' && v !== 'onednn' && v !== 'zoo') throw new Error(`--only ${v}: expected mobilenet, onednn or zoo. ${USAGE}`);
      out.only = v;
    } else if (flag === '--families') {
      out.families = (value() ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const { unknown } = selectFamilies(out.families);
      if (unknown.length || out.families.length === 0)
        throw new Error(`--families: no zoo family ${unknown.join(', ') || '(none given)'}; there are ${ZOO_FAMILIES.map((f) => f.id).join(', ')}`);
      out.only ??= 'zoo';
    } else if (flag === '--quick') out.quick = true;
    else throw new Error(`unknown argument ${argv[i]}. ${USAGE}\nzoo families: ${ZOO_FAMILIES.map((f) => f.id).join(', ')}`);
  }
  return out;
}
const args = (() => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
})();
const QUICK = process.env.BENCH_QUICK === '1' || args.quick;
const REPS = Number(process.env.BENCH_REPS ?? (QUICK ? 1 : 3));
const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab', 'bench');
const worker = path.join(root, 'out', 'bench', 'worker.js');
const zooWorker = path.join(root, 'out', 'bench', 'zooWorker.js');
const kerasScript = path.join(root, 'bench', 'keras_bench.py');
const results: Record<string, unknown>[] = [];
// Both sides use the same kernels: decided here, not by each process's own default.
// The trainer's policy for MobileNetV2 with no remembered crash, as on a CPU that hides its
// cache sizes (a cache folder that does not exist), whatever this CPU reports.
const HIDDEN_CACHES = '/nonexistent/cpu0/cache';
const policyOneDnn = decideOneDnn({ env: {}, verdicts: { version: 1, verdicts: [] }, model: 'catalog:mobilenet_v2', cacheDir: HIDDEN_CACHES });
const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS || '1' };

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error('no JSON result');
  return JSON.parse(line);
}

/** Runs one job in its own process; wall time measured here, result parsed from its last JSON line. */
function runJob(
  cmd: string,
  args: string[],
  timeoutMs = 1_800_000,
  extraEnv: Record<string, string> = {},
): { ok: true; value: Record<string, unknown>; wallMs: number } | { ok: false; error: string } {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0)
    return {
      ok: false,
      error: `${path.basename(cmd)} ${r.signal ?? `exit ${r.status}`}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`,
    };
  try {
    return { ok: true, value: lastJson(r.stdout), wallMs };
  } catch (e) {
    return { ok: false, error: `${(e as Error).message}: ${r.stdout.slice(-300)}` };
  }
}
const tfjs = (job: object, extraEnv?: Record<string, string>) => runJob(process.execPath, [worker, JSON.stringify(job)], undefined, extraEnv);

// ---------------------------------------------------------------------------------------
// Keras: a Python with TensorFlow, made once in the cache folder if there is none

function kerasPython(): { python?: string; why?: string } {
  if (process.env.BENCH_NO_KERAS === '1') return { why: 'BENCH_NO_KERAS=1' };
  const candidates = [process.env.BENCH_KERAS_PYTHON, path.join(cacheRoot, 'keras-venv', 'bin', 'python')].filter(Boolean) as string[];
  const works = (py: string) => spawnSync(py, ['-c', 'import tensorflow'], { env, encoding: 'utf8', timeout: 120_000 }).status === 0;
  for (const py of candidates) if (fs.existsSync(py) && works(py)) return { python: py };
  const venv = path.join(cacheRoot, 'keras-venv');
  log(`setting up Keras: python3 -m venv ${venv} && pip install tensorflow-cpu==2.21.0 pillow (a few minutes, once)`);
  const mk = spawnSync('python3', ['-m', 'venv', venv], { encoding: 'utf8' });
  if (mk.status !== 0) return { why: `python3 -m venv failed: ${(mk.stderr || '').trim().split('\n').pop()}` };
  const py = path.join(venv, 'bin', 'python');
  // Few retries: where only a local index is reachable, each unreachable lookup fails fast.
  const pip = spawnSync(py, ['-m', 'pip', 'install', '-q', '--retries', '1', '--timeout', '15', 'tensorflow-cpu==2.21.0', 'pillow'], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (pip.status !== 0 || !works(py)) return { why: `pip install tensorflow-cpu failed: ${(pip.stderr || '').trim().split('\n').pop()}` };
  return { python: py };
}

// ---------------------------------------------------------------------------------------
// Data: 2,000 JPEGs in 5 class folders, and camera-size JPEGs for decoding

async function benchImages(): Promise<string> {
  const dir = path.join(cacheRoot, 'images-2000');
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  log('writing 2,000 JPEGs (5 classes x 400, 320x240) once into the cache ...');
  const sharp = req('sharp') as typeof import('sharp');
  fs.rmSync(dir, { recursive: true, force: true });
  for (let c = 0; c < 5; c++) {
    fs.mkdirSync(path.join(dir, `class_${c}`), { recursive: true });
    for (let i = 0; i < 400; i++) {
      const w = 320,
        h = 240;
      const raw = Buffer.alloc(w * h * 3);
      // Class-dependent stripes and colours with per-image noise: structure a JPEG encoder keeps.
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const o = (y * w + x) * 3;
          const stripe = Math.sin((x * (c + 1) + y * (5 - c)) / 9 + i) * 60;
          raw[o] = (120 + stripe + c * 25 + ((x * i) & 15)) & 255;
          raw[o + 1] = (100 - stripe + ((y * 7 + i) & 31)) & 255;
          raw[o + 2] = (80 + c * 30 + ((x ^ y) & 63)) & 255;
        }
      fs.writeFileSync(
        path.join(dir, `class_${c}`, `img_${i}.jpg`),
        await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
          .jpeg({ quality: 85 })
          .toBuffer(),
      );
    }
  }
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

/** A tiny run through the trainer twice, once with a simulated oneDNN crash: did it still train, and in how long. */
async function trainThroughOneDnnCrash(): Promise<{ trained: boolean; attempts: number; crashedSeconds?: number; cleanSeconds?: number; detail: string }> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-onednn-'));
  const src = path.join(root, 'media/datasets/fashion-target');
  for (const [split, n] of [
    ['train', 4],
    ['val', 2],
    ['test', 2],
  ] as const)
    for (const cls of fs.readdirSync(path.join(src, split))) {
      fs.mkdirSync(path.join(work, 'data', split, cls), { recursive: true });
      for (const f of fs
        .readdirSync(path.join(src, split, cls))
        .sort()
        .slice(0, n))
        fs.copyFileSync(path.join(src, split, cls, f), path.join(work, 'data', split, cls, f));
    }
  const experimentFile = path.join(work, 'tiny.tlexp.json');
  fs.writeFileSync(
    experimentFile,
    JSON.stringify({
      name: 'tiny',
      data: { dir: 'data' },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'feature-extraction' },
      train: { epochs: 2, batchSize: 4 },
    }),
  );
  const once = async (simulate: boolean, nativeInstallDir: string) => {
    let attempts = 0;
    let runDir: string | undefined;
    const t = performance.now();
    const job = new OneDnnRetryJob({
      launch: (extra, onMessage) => {
        attempts++;
        const launchEnv = { ...env, TF_ENABLE_ONEDNN_OPTS: '', ...(simulate ? { TRANSFER_LAB_SIMULATE_ONEDNN_CRASH: '1' } : {}), ...extra };
        return new TrainerProcess(
          { script: path.join(root, 'dist', 'trainer.js'), startTimeoutMs: 60_000, deadlineMs: 600_000, env: launchEnv },
          { kind: 'run', experimentFile, runsDir: path.join(work, 'runs'), cacheDir: path.join(work, `cache-${simulate}`) },
          { backend: 'tensorflow', nativeInstallDir },
          onMessage,
        );
      },
      onMessage: (m) => {
        if (m.type === 'run-event' && m.event.type === 'run-started') runDir = m.event.runDir;
      },
      verdictFile: verdictFileOf(nativeInstallDir),
    });
    const outcome = await job.outcome;
    const record = runDir ? readRun(runDir) : undefined;
    return {
      ok: outcome.ok && !!record?.ok && record.value.status === 'succeeded',
      attempts,
      seconds: (performance.now() - t) / 1000,
      reason: outcome.ok ? '' : outcome.reason,
    };
  };
  try {
    log('tiny run without a crash');
    const clean = await once(false, path.join(work, 'native-clean'));
    log('tiny run through a simulated oneDNN crash (SIGFPE) and its retry');
    const crashed = await once(true, path.join(work, 'native-crash'));
    const remembered = fs.existsSync(verdictFileOf(path.join(work, 'native-crash')));
    return {
      trained: crashed.ok && crashed.attempts === 2,
      attempts: crashed.attempts,
      crashedSeconds: crashed.seconds,
      cleanSeconds: clean.ok ? clean.seconds : undefined,
      detail: `verdict ${remembered ? 'remembered' : 'NOT remembered'}${crashed.reason ? `; ${crashed.reason}` : ''}${clean.ok ? '' : `; the run without a crash failed: ${clean.reason}`}`,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------

interface Row {
  workload: string;
  config: string;
  ours?: number;
  keras?: number;
  unit: string;
  /** For the ratio: higher is better (img/s) or lower is better (seconds, bytes). */
  higherIsBetter: boolean;
  target?: { ratio: number; text: string };
  note?: string;
}
const rows: Row[] = [];
const ratioOf = (r: Row) => (r.ours === undefined || r.keras === undefined ? undefined : r.higherIsBetter ? r.ours / r.keras : r.keras / r.ours);

async function main(): Promise<void> {
  const t0 = Date.now();
  for (const file of [worker, zooWorker]) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  const runMobileNet = args.only === undefined || args.only === 'mobilenet';
  const runOneDnn = runMobileNet || args.only === 'onednn';
  const zooFamilies = selectFamilies(args.families);
  const runZooRows = args.only === undefined || args.only === 'zoo';
  const keras = runMobileNet || runZooRows ? kerasPython() : { why: '--only onednn' };
  if (!keras.python) log(`Keras unavailable: ${keras.why}`);
  const py = (job: object, extraEnv?: Record<string, string>) =>
    keras.python ? runJob(keras.python, [kerasScript, JSON.stringify(job)], undefined, extraEnv) : ({ ok: false, error: 'Keras unavailable' } as const);
  const kerasVersion = keras.python ? py({ kind: 'version' }) : undefined;

  if (runMobileNet) {
    // 1. Frozen forward img/s, interleaved: for each repetition, every contender once.
    const shapes: [number, number][] = QUICK
      ? [
          [224, 32],
          [96, 1],
        ]
      : [
          [224, 32],
          [224, 1],
          [96, 32],
          [96, 1],
        ];
    type Contender = { name: string; run: (size: number, batch: number) => ReturnType<typeof runJob> };
    const iters = (batch: number) => (batch === 1 ? 30 : 6);
    const contenders: Contender[] = [
      {
        name: 'tfjs tensorflow, fast frozen path',
        run: (size, batch) => tfjs({ kind: 'forward', backend: 'tensorflow', mode: 'plan', size, batch, iters: iters(batch), budgetMs: 60_000 }),
      },
      {
        name: 'tfjs tensorflow, model.predict',
        run: (size, batch) => tfjs({ kind: 'forward', backend: 'tensorflow', mode: 'predict', size, batch, iters: iters(batch), budgetMs: 60_000 }),
      },
      {
        name: 'tfjs wasm, model.predict',
        run: (size, batch) => tfjs({ kind: 'forward', backend: 'wasm', mode: 'predict', size, batch, iters: iters(batch), budgetMs: 15_000 }),
      },
      {
        name: 'tfjs cpu, model.predict',
        run: (size, batch) => tfjs({ kind: 'forward', backend: 'cpu', mode: 'predict', size, batch, iters: iters(batch), budgetMs: 15_000 }),
      },
      { name: 'Keras (tf.function, graph)', run: (size, batch) => py({ kind: 'forward', size, batch, iters: iters(batch) }) },
    ];
    for (const [size, batch] of shapes) {
      const samples: Record<string, number[]> = {};
      const errors: Record<string, string> = {};
      // The slow pure-JS and wasm backends once per configuration (they take a budget, not reps).
      for (let rep = 0; rep < REPS; rep++) {
        for (const c of contenders) {
          if (rep > 0 && /wasm|cpu/.test(c.name)) continue;
          log(`forward ${size}/${batch}: ${c.name} (rep ${rep + 1})`);
          const r = c.run(size, batch);
          if (r.ok) (samples[c.name] ??= []).push(r.value.imgPerSec as number);
          else errors[c.name] = r.error;
        }
      }
      const kerasIps = samples['Keras (tf.function, graph)'] && median(samples['Keras (tf.function, graph)']);
      for (const c of contenders.filter((c) => !c.name.startsWith('Keras'))) {
        rows.push({
          workload: `frozen forward ${size}px batch ${batch}`,
          config: c.name,
          ours: samples[c.name] && median(samples[c.name]),
          keras: kerasIps,
          unit: 'img/s',
          higherIsBetter: true,
          target: size === 224 && batch === 32 && c.name.includes('fast') ? { ratio: 1, text: '>= 1.0x Keras' } : undefined,
          note: errors[c.name],
        });
      }
      results.push({ workload: 'forward', size, batch, samples, errors });
    }

    // 2. Full fine-tune step and peak memory: BatchNorm in inference mode (the Keras recipe, and
    //    what a Transfer Lab fine-tune does), and in training mode (tfjs-layers' trainOnBatch).
    for (const bn of ['inference', 'training'] as const) {
      const size = 224,
        batch = QUICK ? 8 : 32;
      const samples: Record<string, { ips: number[]; rss: number[] }> = { ours: { ips: [], rss: [] }, keras: { ips: [], rss: [] } };
      for (let rep = 0; rep < Math.max(1, Math.ceil(REPS / 2)); rep++) {
        log(`fine-tune step ${size}/${batch}, BatchNorm in ${bn} mode (rep ${rep + 1})`);
        const a = tfjs({ kind: 'finetune', size, batch, iters: 4, bn });
        if (a.ok) {
          samples.ours.ips.push(a.value.imgPerSec as number);
          samples.ours.rss.push(a.value.peakRssBytes as number);
        } else log(a.error);
        const b = py({ kind: 'finetune', size, batch, iters: 4, bn });
        if (b.ok) {
          samples.keras.ips.push(b.value.imgPerSec as number);
          samples.keras.rss.push(b.value.peakRssBytes as number);
        }
      }
      const m = (xs: number[]) => (xs.length ? median(xs) : undefined);
      const how =
        bn === 'inference' ? 'BN inference (Keras recipe): lean blocks vs base(x, training=False)' : 'BN training: tfjs trainOnBatch vs Keras train_on_batch';
      const target = bn === 'inference';
      rows.push({
        workload: `full fine-tune step ${size}px batch ${batch}`,
        config: how,
        ours: m(samples.ours.ips),
        keras: m(samples.keras.ips),
        unit: 'img/s',
        higherIsBetter: true,
        target: target ? { ratio: 0.5, text: '>= 0.5x Keras' } : undefined,
      });
      rows.push({
        workload: `full fine-tune peak memory`,
        config: how,
        ours: m(samples.ours.rss),
        keras: m(samples.keras.rss),
        unit: 'bytes',
        higherIsBetter: false,
        target: target ? { ratio: 1 / 1.5, text: '<= 1.5x Keras' } : undefined,
      });
      results.push({ workload: 'finetune', bn, size, batch, samples });
    }

    // 3. Decode + resize of camera-size JPEGs (bench/decode.ts), against the fast frozen path's img/s.
    {
      log('decode + resize of camera-size JPEGs');
      const r = runJob(process.execPath, [path.join(root, 'out', 'bench', 'decode.js')]);
      if (r.ok) {
        const decodeRows = r.value.rows as { name: string; imagesPerSec: number }[];
        const sharpIps = decodeRows[0].imagesPerSec;
        const forward = rows.find((x) => x.workload === 'frozen forward 224px batch 32' && x.config.includes('fast'))?.ours;
        rows.push({
          workload: 'decode+resize 4000x3000 JPEG -> 224',
          config: `${decodeRows[0].name} vs the fast frozen forward (224/32)`,
          ours: sharpIps,
          keras: forward,
          unit: 'img/s',
          higherIsBetter: true,
          target: { ratio: 3, text: '>= 3x frozen forward' },
          note: 'ratio column: decode img/s / frozen forward img/s',
        });
        results.push({ workload: 'decode', rows: decodeRows });
      } else log(r.error);
    }

    // 4. A whole feature-extraction experiment: 2,000 images, 10 epochs.
    if (!QUICK) {
      const data = await benchImages();
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-exp-'));
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
      const expReps = Math.max(1, Math.round(REPS / 3));
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
      const m = (xs: number[]) => (xs.length ? median(xs) : undefined);
      rows.push({
        workload: 'feature extraction, 2,000 images x 10 epochs',
        config: 'ours (one run, cold cache) vs Keras with the same cache',
        ours: m(samples.ours),
        keras: m(samples.cached),
        unit: 's',
        higherIsBetter: false,
        target: { ratio: 1, text: 'no slower than Keras+cache' },
      });
      rows.push({
        workload: 'feature extraction, 2,000 images x 10 epochs',
        config: 'ours vs the Keras notebook recipe (base.trainable=False, fit)',
        ours: m(samples.ours),
        keras: m(samples.notebook),
        unit: 's',
        higherIsBetter: false,
        target: { ratio: 5, text: '>= 5x faster than the notebook' },
      });
      results.push({ workload: 'experiment', samples });

      // 5. Start-up to first prediction: a fresh process, the saved model, one image.
      const image = path.join(data, 'class_0', 'img_0.jpg');
      const first: Record<string, number[]> = { ours: [], keras: [] };
      for (let rep = 0; rep < REPS; rep++) {
        if (runDir) {
          // The user's path: the CLI in a fresh process (it prints text: timed here).
          const t = performance.now();
          const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'predict', runDir, image], { env, encoding: 'utf8' });
          if (r.status === 0) first.ours.push(performance.now() - t);
          else log(`cli predict: ${r.stderr.trim().split('\n').pop()}`);
        }
        if (fs.existsSync(notebookModel)) {
          const b = py({ kind: 'first-prediction', modelFile: notebookModel, image, size: 224 });
          if (b.ok) first.keras.push(b.wallMs);
        }
      }
      rows.push({
        workload: 'start-up to first prediction',
        config: 'fresh process: load backend + saved model, classify one JPEG',
        ours: first.ours.length ? median(first.ours) / 1000 : undefined,
        keras: first.keras.length ? median(first.keras) / 1000 : undefined,
        unit: 's',
        higherIsBetter: false,
      });
      results.push({ workload: 'first-prediction', samples: first });
      fs.rmSync(work, { recursive: true, force: true });
    }
  }

  // 5b. The oneDNN policy (issue 12): MobileNetV2's frozen forward at 224/32 with oneDNN on,
  //     with the trainer's policy as on a CPU that hides its caches, and with oneDNN off (what
  //     such a CPU got before: off for every model), interleaved; the policy within 10% of on.
  if (runOneDnn) {
    const contenders = [
      { name: 'on', env: { TF_ENABLE_ONEDNN_OPTS: '1' } },
      { name: 'policy', env: { TF_ENABLE_ONEDNN_OPTS: policyOneDnn.enabled ? '1' : '0' } },
      { name: 'off', env: { TF_ENABLE_ONEDNN_OPTS: '0' } },
    ];
    const samples: Record<string, number[]> = { on: [], policy: [], off: [] };
    const errors: Record<string, string> = {};
    for (let rep = 0; rep < REPS; rep++) {
      for (const c of contenders) {
        log(`forward 224/32, oneDNN ${c.name} (TF_ENABLE_ONEDNN_OPTS=${c.env.TF_ENABLE_ONEDNN_OPTS}) (rep ${rep + 1})`);
        const r = tfjs({ kind: 'forward', backend: 'tensorflow', mode: 'plan', size: 224, batch: 32, iters: 4, budgetMs: 60_000 }, c.env);
        if (r.ok) samples[c.name].push(r.value.imgPerSec as number);
        else errors[c.name] = r.error;
      }
    }
    const m = (xs: number[]) => (xs.length ? median(xs) : undefined);
    const on = m(samples.on);
    const workload = 'frozen forward 224px batch 32, oneDNN';
    rows.push({ workload, config: 'oneDNN on', ours: on, unit: 'img/s', higherIsBetter: true, note: errors.on });
    rows.push({
      workload,
      config: `the trainer's policy on a CPU hiding its caches (simulated): oneDNN ${policyOneDnn.enabled ? 'on' : 'off'}`,
      ours: m(samples.policy),
      keras: on,
      unit: 'img/s',
      higherIsBetter: true,
      target: { ratio: 0.9, text: 'within 10% of oneDNN on' },
      note: `ratio column: policy / oneDNN on; the policy's reason: ${policyOneDnn.reason}${errors.policy ? `; ${errors.policy}` : ''}`,
    });
    rows.push({
      workload,
      config: 'oneDNN off (such a CPU before the policy)',
      ours: m(samples.off),
      keras: on,
      unit: 'img/s',
      higherIsBetter: true,
      note: `ratio column: off / oneDNN on${errors.off ? `; ${errors.off}` : ''}`,
    });
    results.push({ workload: 'forward-onednn-policy', policy: policyOneDnn, samples, errors });

    // A model whose shape crashes oneDNN still trains: a tiny run whose trainer dies of a real
    // SIGFPE with oneDNN on (TRANSFER_LAB_SIMULATE_ONEDNN_CRASH=1, the test-only simulation)
    // through the extension's retry (extension/oneDnnRetry.ts), against the same run uncrashed.
    const crash = await trainThroughOneDnnCrash();
    rows.push({
      workload: 'tiny run (fmnist-mini, 40 images) through a oneDNN crash',
      config: `simulated SIGFPE, retried with oneDNN off: ${crash.trained ? 'trained' : 'DID NOT TRAIN'} (${crash.attempts} attempts)`,
      ours: crash.crashedSeconds,
      keras: crash.cleanSeconds,
      unit: 's',
      higherIsBetter: false,
      note: `ratio column: the run without a crash / the run through the crash; ${crash.detail}`,
    });
    results.push({ workload: 'run-through-onednn-crash', ...crash });
  }

  // 6. The zoo rows (bench/zoo.ts): four Keras Applications families, forward and fine-tune step.
  let zooRows: ZooRow[] | undefined;
  if (runZooRows) {
    const version = kerasVersion?.ok ? kerasVersion.value : undefined;
    zooRows = runZoo(
      {
        tfjs: (job) => runJob(process.execPath, [zooWorker, JSON.stringify(job)]),
        keras: keras.python ? (job) => py(job) : undefined,
        kerasVersion: version ? String(version.keras ?? `tf${version.tensorflow}`) : undefined,
        cacheRoot,
        reps: REPS,
        quick: QUICK,
        log,
      },
      zooFamilies.families,
    );
  }

  // The table.
  const fmt = (v: number | undefined, unit: string) =>
    v === undefined ? '-' : unit === 'bytes' ? `${(v / 2 ** 20).toFixed(0)} MB` : unit === 's' ? `${v.toFixed(1)} s` : `${v.toFixed(1)} img/s`;
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${kerasVersion?.ok ? `TensorFlow (Python) ${kerasVersion.value.tensorflow}` : 'no Keras'}`;
  const kernels = `kernels: TF_ENABLE_ONEDNN_OPTS=${env.TF_ENABLE_ONEDNN_OPTS} on both sides (the oneDNN rows set their own); the trainer's policy for a model with no remembered crash: oneDNN ${policyOneDnn.enabled ? 'on' : 'off'}`;
  if (rows.length > 0) {
    console.log(
      `\nTransfer Lab bench (${machine}); medians of ${REPS} interleaved repetitions, one process per measurement; MobileNetV2 1.0 random weights\n${kernels}\n`,
    );
    const header = ['workload', 'config', 'ours', 'Keras', 'ratio', 'target', 'met'];
    const table = rows.map((r) => {
      const ratio = ratioOf(r);
      return [
        r.workload,
        r.config,
        fmt(r.ours, r.unit),
        r.workload.startsWith('decode')
          ? `${fmt(r.keras, r.unit)} (fwd)`
          : r.workload.endsWith('oneDNN') && r.keras !== undefined
            ? `${fmt(r.keras, r.unit)} (on)`
            : fmt(r.keras, r.unit),
        ratio === undefined ? '-' : `${ratio.toFixed(2)}x`,
        r.target?.text ?? '',
        r.target && ratio !== undefined ? (ratio >= r.target.ratio ? 'yes' : 'NO') : '',
      ];
    });
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    console.log(header.map((h, i) => h.padEnd(widths[i])).join(' | '));
    console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
    for (const row of table) console.log(row.map((c, i) => c.padEnd(widths[i])).join(' | '));
    console.log('\nratio: ours / Keras for img/s, Keras / ours for seconds and memory (above 1 is better for us).');
    for (const r of rows.filter((r) => r.note)) console.log(`note: ${r.workload}, ${r.config}: ${r.note}`);
  }
  if (zooRows) {
    console.log(
      `\nZoo rows (${machine}); medians of ${REPS} interleaved repetitions, one process per measurement; Keras Applications, include_top=False, random weights, saved by Keras as .keras\n${kernels}\n`,
    );
    console.log(formatZooTable(zooRows));
  }
  const written: string[] = [];
  const write = (name: string, value: object) => {
    const out = path.join(root, 'bench-results', name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(value, null, 2));
    written.push(out);
  };
  if (!runMobileNet && runOneDnn)
    write('bench-onednn.json', { machine, kernels, reps: REPS, rows: rows.map((r) => ({ ...r, ratio: ratioOf(r) })), raw: results });
  if (runMobileNet)
    write('bench.json', { machine, kernels, reps: REPS, quick: QUICK, rows: rows.map((r) => ({ ...r, ratio: ratioOf(r) })), raw: results, zoo: zooRows });
  if (zooRows)
    write('bench-zoo.json', {
      machine,
      kernels,
      reps: REPS,
      quick: QUICK,
      targets: { forward: '>= 1.0x Keras', step: '>= 0.8x Keras', memory: '<= 1.5x Keras (peak RSS of the fine-tune process)' },
      rows: zooRows,
    });
  console.log(`\n${written.join(', ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
