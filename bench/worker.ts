// The TensorFlow.js side of `npm run bench`: one measurement per process (fresh memory, an
// honest peak RSS), driven by bench/suite.ts. Reads a JSON job from argv[2], prints one JSON
// line. MobileNetV2 (alpha 1.0, no top) exactly as Keras builds it, random weights.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../src/engine/backend';
import { tf } from '../src/engine/tf';
import { buildMobileNetV2 } from '../src/engine/referenceNets';
import { compileInferencePlan } from '../src/engine/inferencePlan';
import { compileTrainingPlan } from '../src/engine/trainingPlan';
import { runExperiment } from '../src/engine/runExperiment';
import { runWorker } from './workerMain';

type Job =
  | { kind: 'forward'; backend: 'tensorflow' | 'wasm' | 'cpu'; mode: 'predict' | 'plan'; size: number; batch: number; iters: number; budgetMs: number }
  | { kind: 'finetune'; size: number; batch: number; iters: number; bn: 'inference' | 'training' }
  | { kind: 'save-backbone'; size: number; dir: string }
  | { kind: 'experiment'; file: string; runsDir: string; cacheDir: string };

const installRoot = path.resolve(__dirname, '../..');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function peakRssBytes(): number | undefined {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : undefined;
}

type ForwardJob = Extract<Job, { kind: 'forward' }>;
type FinetuneJob = Extract<Job, { kind: 'finetune' }>;
type Tf = ReturnType<typeof tf>;

async function forward(t: Tf, job: ForwardJob): Promise<object> {
  const model = buildMobileNetV2({ inputSize: job.size });
  const plan = job.mode === 'plan' ? compileInferencePlan(model) : null;
  const x = t.randomUniform([job.batch, job.size, job.size, 3], -1, 1) as tfTypes.Tensor4D;
  const once = async () => {
    const t0 = performance.now();
    const y = plan ? plan.run(x) : (model.predict(x) as tfTypes.Tensor);
    await y.data();
    y.dispose();
    return performance.now() - t0;
  };
  await once(); // warm-up: kernels, memory pools
  const times: number[] = [];
  const end = performance.now() + job.budgetMs;
  // Slow backends stop at the time budget (at least two timed batches).
  while (times.length < job.iters && (times.length < 2 || performance.now() < end)) times.push(await once());
  return { imgPerSec: (job.batch * 1000) / median(times), batches: times.length, nativeFused: plan?.stats.nativeFused ?? 0 };
}

/**
 * What a Transfer Lab fine-tune does (engine/trainLoop.ts): the base in inference mode
 * (the Keras rule) as lean custom-gradient blocks, a new head, Adam on every variable.
 */
function leanStep(t: Tf, base: tfTypes.LayersModel, x: tfTypes.Tensor, classes: number[]): () => Promise<void> {
  const head = t.sequential({
    layers: [t.layers.globalAveragePooling2d({ inputShape: base.outputs[0].shape.slice(1) as number[] }), t.layers.dense({ units: 5, activation: 'softmax' })],
  });
  const plan = compileTrainingPlan(base);
  const vars = [...base.trainableWeights, ...head.trainableWeights].map((w) => w.read() as tfTypes.Variable);
  const optimizer = t.train.adam(1e-4);
  const y = t.oneHot(t.tensor1d(classes, 'int32'), 5);
  return async () =>
    t.tidy(() => {
      const { value, grads } = t.variableGrads(
        () => t.metrics.categoricalCrossentropy(y, head.apply(plan.apply([x])) as tfTypes.Tensor).mean() as tfTypes.Scalar,
        vars,
      );
      optimizer.applyGradients(grads as tfTypes.NamedTensorMap as never);
      value.dataSync();
    });
}

/** tfjs-layers' own training step, BatchNorm learning its statistics. */
function layersStep(t: Tf, base: tfTypes.LayersModel, size: number, x: tfTypes.Tensor, classes: number[]): () => Promise<void> {
  const input = t.input({ shape: [size, size, 3] });
  let y = base.apply(input) as tfTypes.SymbolicTensor;
  y = t.layers.globalAveragePooling2d({}).apply(y) as tfTypes.SymbolicTensor;
  const model = t.model({ inputs: input, outputs: t.layers.dense({ units: 5, activation: 'softmax' }).apply(y) as tfTypes.SymbolicTensor });
  model.compile({ optimizer: t.train.adam(1e-4), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const labels = t.tensor1d(classes, 'float32');
  return async () => {
    await model.trainOnBatch(x, labels);
  };
}

async function finetune(t: Tf, job: FinetuneJob): Promise<object> {
  const base = buildMobileNetV2({ inputSize: job.size });
  const x = t.randomUniform([job.batch, job.size, job.size, 3], -1, 1);
  const classes = Array.from({ length: job.batch }, (_, i) => i % 5);
  const step = job.bn === 'inference' ? leanStep(t, base, x, classes) : layersStep(t, base, job.size, x, classes);
  for (let i = 0; i < 2; i++) await step();
  const times: number[] = [];
  for (let i = 0; i < job.iters; i++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  return { imgPerSec: (job.batch * 1000) / median(times), peakRssBytes: peakRssBytes() };
}

async function main(job: Job): Promise<object> {
  const backend = job.kind === 'forward' ? job.backend : 'tensorflow';
  // TRANSFER_LAB_NATIVE_DEVICE=cpu|gpu picks native TensorFlow's build (scripts/gpu-check.sh runs both); each row says which ran.
  const device = process.env.TRANSFER_LAB_NATIVE_DEVICE;
  const nativeDevice = device === 'cpu' || device === 'gpu' ? device : 'auto';
  const loaded = await loadBackend({ preference: backend, installRoot, nativeDevice, nativeDeviceSetBy: 'TRANSFER_LAB_NATIVE_DEVICE' });
  const ran = { nativeBuild: loaded.nativeDevice?.build, usingGpu: loaded.nativeDevice?.usingGpu };
  const t = tf();
  if (job.kind === 'forward') return { ...(await forward(t, job)), ...ran };
  if (job.kind === 'finetune') return { ...(await finetune(t, job)), ...ran };
  if (job.kind === 'save-backbone') {
    const model = buildMobileNetV2({ inputSize: job.size });
    await model.save(`file://${job.dir}`);
    return { saved: job.dir };
  }
  const t0 = performance.now();
  const outcome = await runExperiment({
    experimentFile: job.file,
    runsDir: job.runsDir,
    cacheDir: job.cacheDir,
    installRoot,
    backend: 'tensorflow',
    onEvent: () => {},
    shouldStop: () => false,
  });
  if (outcome.status !== 'succeeded') throw new Error(`the experiment ${outcome.status}: ${outcome.error?.message}`);
  return { seconds: (performance.now() - t0) / 1000, runDir: outcome.runDir, accuracy: outcome.metrics?.accuracy };
}

runWorker(main);
