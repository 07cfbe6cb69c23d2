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
//
// The sections live in bench/mobilenetRows.ts, experimentRows.ts, oneDnnRows.ts and zoo.ts;
// bench/report.ts prints and writes what they measured.
import * as fs from 'node:fs';
import { decideOneDnn } from '../src/engine/oneDnnPolicy';
import { cacheRoot, kerasScript, log, runJob, worker, zooWorker, type Bench } from './harness';
import { experimentRows } from './experimentRows';
import { kerasPython } from './kerasPython';
import { decodeRow, finetuneRows, forwardRows } from './mobilenetRows';
import { oneDnnRows } from './oneDnnRows';
import { printReport, writeReport } from './report';
import { parseArgs } from './suiteArgs';
import { runZoo, selectFamilies, type ZooRow } from './zoo';

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
// The trainer's policy for MobileNetV2 with no remembered crash, as on a CPU that hides its
// cache sizes (a cache folder that does not exist), whatever this CPU reports.
const HIDDEN_CACHES = '/nonexistent/cpu0/cache';
const policyOneDnn = decideOneDnn({ env: {}, verdicts: { version: 1, verdicts: [] }, model: 'catalog:mobilenet_v2', cacheDir: HIDDEN_CACHES });

async function main(): Promise<void> {
  const t0 = Date.now();
  for (const file of [worker, zooWorker]) if (!fs.existsSync(file)) throw new Error(`${file} is missing: run npm run build`);
  const runMobileNet = args.only === undefined || args.only === 'mobilenet';
  const runOneDnn = runMobileNet || args.only === 'onednn';
  const zooFamilies = selectFamilies(args.families);
  const runZooRows = args.only === undefined || args.only === 'zoo';
  const keras = runMobileNet || runZooRows ? kerasPython() : { why: '--only onednn' };
  if (!keras.python) log(`Keras unavailable: ${keras.why}`);
  const bench: Bench = {
    quick: QUICK,
    reps: REPS,
    tfjs: (job, extraEnv) => runJob(process.execPath, [worker, JSON.stringify(job)], undefined, extraEnv),
    py: (job, extraEnv) =>
      keras.python ? runJob(keras.python, [kerasScript, JSON.stringify(job)], undefined, extraEnv) : ({ ok: false, error: 'Keras unavailable' } as const),
    policyOneDnn,
    rows: [],
    results: [],
  };
  const kerasVersion = keras.python ? bench.py({ kind: 'version' }) : undefined;

  if (runMobileNet) {
    forwardRows(bench);
    finetuneRows(bench);
    decodeRow(bench);
    if (!QUICK) await experimentRows(bench);
  }
  if (runOneDnn) await oneDnnRows(bench);

  // 6. The zoo rows (bench/zoo.ts): four Keras Applications families, forward and fine-tune step.
  let zooRows: ZooRow[] | undefined;
  const version = kerasVersion?.ok ? kerasVersion.value : undefined;
  if (runZooRows) {
    zooRows = runZoo(
      {
        tfjs: (job) => runJob(process.execPath, [zooWorker, JSON.stringify(job)]),
        keras: keras.python ? (job) => bench.py(job) : undefined,
        kerasVersion: version ? String(version.keras ?? `tf${version.tensorflow}`) : undefined,
        cacheRoot,
        reps: REPS,
        quick: QUICK,
        log,
      },
      zooFamilies.families,
    );
  }

  const report = { rows: bench.rows, results: bench.results, zooRows, reps: REPS, quick: QUICK, kerasVersion: version, policyOneDnn };
  const written = writeReport(report, { mobileNet: runMobileNet, oneDnn: runOneDnn }, printReport(report));
  console.log(`\n${written.join(', ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
