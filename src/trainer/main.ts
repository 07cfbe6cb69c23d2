// The trainer child process: one per job. Receives a `start` message, runs the job on the
// engine, streams typed events back over the IPC channel, obeys `cancel`, and exits.
// It never outlives its parent: when the IPC channel closes it exits at once.
import { PROTOCOL_VERSION, parseHostMessage, type HostMessage, type TrainerMessage } from '../core/protocol';
import type { Unversioned } from '../core/messageProtocol';
import { describeEnvironment, installRootOf, loadBackend } from '../engine/backend';
import { runExperiment, InputError, explainFailure } from '../engine/runExperiment';
import { internalDetail, type Stage } from '../engine/stageError';
import { loadBackbone } from '../engine/backboneLoader';
import { summarizeLayers } from '../engine/modelSummary';
import { loadPredictor, predictInBatches } from '../engine/predict';
import { countOffOnMachine, decideOneDnn, machineKey, modelKeyOf, readVerdicts, simulatedOneDnnCrashWanted, verdictFileOf } from '../engine/oneDnnPolicy';
import type { RunEvent } from '../core/runEvents';
import { runStudyJob } from './studyJob';
import { runProbe } from '../engine/probe/runProbe';

/** Set by a `cancel` message; a run checks it between batches and stops cleanly. */
let cancelRequested = false;
/** What the job was doing, for the message of a failure inside TensorFlow.js. */
let jobStage: Stage = 'running';

function send(message: Unversioned<TrainerMessage>): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send({ ...message, protocol: PROTOCOL_VERSION }, undefined, undefined, () => resolve());
  });
}

type StartMessage = Extract<HostMessage, { type: 'start' }>;
type Job = StartMessage['job'];

// A `start` of another protocol never gets here: parseHostMessage refuses it (as a mismatch).
async function runJob(message: StartMessage): Promise<void> {
  const job = message.job;
  const backend = await prepareBackend(message);
  if (backend.simulateCrash && job.kind !== 'run') await simulateOneDnnCrash();
  jobStage = job.kind === 'inspect' ? 'inspecting' : job.kind === 'predict' ? 'predicting' : job.kind === 'environment' ? 'loading' : 'running';
  switch (job.kind) {
    case 'environment': {
      const report = describeEnvironment(backend.loaded, message.options.backend, { selfCheck: true });
      if (report.oneDnn)
        report.oneDnn = { ...report.oneDnn, rememberedOff: countOffOnMachine(backend.verdicts, backend.machine), verdictFile: backend.verdictFile };
      await send({ type: 'environment', report });
      break;
    }
    case 'inspect':
      await inspectJob(job);
      break;
    case 'predict':
      await predictJob(job);
      break;
    case 'run':
      await runRunJob(job, backend);
      break;
    case 'study':
      await runStudyJob(job, backend.loaded.backend, send, () => cancelRequested);
      break;
    case 'probe':
      await probeJob(job, backend.loaded.backend);
      break;
  }
}

async function probeJob(job: Extract<Job, { kind: 'probe' }>, backend: string): Promise<void> {
  try {
    const outcome = await runProbe({
      ...job,
      installRoot: installRootOf(__dirname),
      backend,
      onProgress: (message, done, total) => void send({ type: 'probe-progress', message, done, total }),
      shouldStop: () => cancelRequested,
    });
    if (outcome.status === 'done') await send({ type: 'probe', probe: outcome.probe, file: outcome.file });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    await send({ type: 'failed', message: e.message, hint: 'Fix the experiment file or dataset and probe again.' });
  }
}

type PreparedBackend = Awaited<ReturnType<typeof prepareBackend>>;

/** Decides oneDNN and loads the TensorFlow.js backend; fallbacks are logged to the host. */
async function prepareBackend(message: StartMessage) {
  const job = message.job;
  // oneDNN on or off for this model on this machine (engine/oneDnnPolicy.ts), decided and told
  // to the host before TensorFlow loads: a SIGFPE from here on is retried once with it off.
  const verdictFile = message.options.nativeInstallDir ? verdictFileOf(message.options.nativeInstallDir) : undefined;
  const verdicts = await readVerdicts(verdictFile);
  const machine = machineKey();
  const model = await modelKeyOf(job);
  const native = message.options.backend === 'auto' || message.options.backend === 'tensorflow';
  const oneDnn = native ? decideOneDnn({ env: process.env, verdicts, machine, model }) : undefined;
  if (oneDnn) await send({ type: 'kernels', oneDnn, machine, model });
  const loaded = await loadBackend({
    preference: message.options.backend,
    nativeBackendPath: message.options.nativeBackendPath,
    nativeInstallDir: message.options.nativeInstallDir,
    nativeDevice: message.options.nativeDevice,
    installRoot: installRootOf(__dirname),
    oneDnn,
  });
  for (const f of loaded.fallbacks) {
    await send({ type: 'log', level: 'warn', message: `Backend ${f.backend} unavailable: ${f.error}` });
  }
  const simulateCrash = loaded.backend === 'tensorflow' && simulatedOneDnnCrashWanted(process.env, oneDnn);
  return { loaded, verdicts, verdictFile, machine, simulateCrash };
}

/** Batches stream back as they are done (the panel fills in); a cancel stops at the next batch. */
async function predictJob(job: Extract<Job, { kind: 'predict' }>): Promise<void> {
  const predictor = await loadPredictor(job.target, installRootOf(__dirname), job.cacheDir);
  await send({ type: 'predictor', modelDir: predictor.modelDir, labels: predictor.labels });
  const total = job.images.length;
  const predictions = await predictInBatches(predictor, job.images, {
    topK: 5,
    batchSize: 32,
    onBatch: (batch, done) => send({ type: 'prediction-batch', predictions: batch, done, total }),
    shouldStop: () => cancelRequested,
  });
  await send({ type: 'predictions', predictions });
}

async function inspectJob(job: Extract<Job, { kind: 'inspect' }>): Promise<void> {
  // Show Layers needs the topology, not the weights: a Keras Application's shipped topology
  // is enough, so opening the panel never downloads hundreds of MB (a run does).
  const b = await loadBackbone(job.backbone, { installRoot: installRootOf(__dirname), cacheDir: job.cacheDir, baseDir: job.baseDir, topologyOnly: true });
  const rows = b.kind === 'layers' ? summarizeLayers(b.model, { cutAt: b.cutAt }) : [];
  await send({
    type: 'layers',
    summary: {
      kind: b.kind,
      cutAt: b.cutAt,
      cutFrom: b.cutFrom,
      inputShape: b.inputShape,
      rows,
      source: b.source,
      fineTunable: b.kind === 'layers',
      preprocessing: { mode: b.preprocessing.mode, from: b.preprocessingFrom },
      notes: b.notes,
    },
  });
}

async function runRunJob(job: Extract<Job, { kind: 'run' }>, { loaded, simulateCrash }: PreparedBackend): Promise<void> {
  try {
    const outcome = await runExperiment({
      experimentFile: job.experimentFile,
      runsDir: job.runsDir,
      cacheDir: job.cacheDir,
      installRoot: installRootOf(__dirname),
      backend: loaded.backend,
      onEvent: (event) => {
        void send({ type: 'run-event', event });
        if (simulateCrash && isFirstForward(event)) void simulateOneDnnCrash();
      },
      shouldStop: () => cancelRequested,
    });
    if (outcome.status === 'failed') await send({ type: 'failed', message: outcome.error?.message ?? 'the run failed', hint: outcome.error?.hint });
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    await send({ type: 'failed', message: e.message, hint: 'Fix the experiment file or dataset and run again.' });
  }
}

/** A run's first forward pass is next: the featurizing (or, with nothing frozen, training) phase begins. */
function isFirstForward(event: RunEvent): boolean {
  return event.type === 'phase' && (event.phase === 'featurizing' || event.phase === 'training');
}

/**
 * TEST-ONLY SIMULATION (TRANSFER_LAB_SIMULATE_ONEDNN_CRASH=1, oneDNN on): dies of a real
 * SIGFPE, as oneDNN does on a CPU hiding its cache sizes, once what was sent so far (the run
 * folder's 'run-started') has reached the host. Lets tests and the bench prove the retry on
 * machines where oneDNN never crashes.
 */
async function simulateOneDnnCrash(): Promise<never> {
  await send({ type: 'log', level: 'warn', message: 'TRANSFER_LAB_SIMULATE_ONEDNN_CRASH=1: simulating a oneDNN crash (SIGFPE)' });
  await drained(process.stderr);
  process.kill(process.pid, 'SIGFPE');
  // The signal is delivered at once; nothing after this runs.
  return new Promise<never>(() => {});
}

/** Resolves once everything written so far to `stream` has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write('', () => resolve());
  });
}

/** Exits once stderr (the extension's log of this trainer) is written out. */
async function exit(code: number): Promise<never> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/**
 * A job that failed: the extension gets what we were doing, on which layer when known, and
 * what to try; the internal message and stack go to stderr, the trainer's log.
 */
async function fail(e: unknown): Promise<never> {
  const { message, hint } = explainFailure(e, jobStage);
  process.stderr.write(`${internalDetail(e)}\n`);
  return failWith(message, hint);
}

async function failWith(message: string, hint?: string): Promise<never> {
  await send({ type: 'failed', message, ...(hint ? { hint } : {}) });
  return exit(1);
}

function main(): void {
  if (!process.send) {
    process.stderr.write('transfer-lab trainer: must be started by the extension (no IPC channel)\n');
    process.exit(2);
  }
  process.on('disconnect', () => process.exit(0));
  process.on('uncaughtException', (e) => void fail(e));
  process.on('unhandledRejection', (e) => void fail(e));
  process.on('message', (raw: unknown) => {
    const parsed = parseHostMessage(raw);
    if (!parsed.ok)
      return void failWith(
        `Malformed message from the extension: ${parsed.error}`,
        'Reload the window so the extension and its trainer come from the same version.',
      );
    const message = parsed.value;
    if (message.type === 'cancel') {
      cancelRequested = true;
      return;
    }
    runJob(message)
      .then(() => send({ type: 'done' }))
      .then(() => exit(0))
      .catch(fail);
  });
  void send({ type: 'hello', pid: process.pid });
}

main();
