// The trainer child process: one per job. Receives a `start` message, runs the job on the
// engine, streams typed events back over the IPC channel, obeys `cancel`, and exits.
// It never outlives its parent: when the IPC channel closes it exits at once.
import { PROTOCOL_VERSION, parseHostMessage, type HostMessage, type TrainerMessage } from '../core/protocol';
import { describeEnvironment, installRootOf, loadBackend } from '../engine/backend';
import { runExperiment, InputError } from '../engine/runExperiment';
import { loadBackbone } from '../engine/backboneLoader';
import { summarizeLayers } from '../engine/modelSummary';
import { loadPredictor, predictFiles } from '../engine/predict';

/** Set by a `cancel` message; a run checks it between batches and stops cleanly. */
let cancelRequested = false;

function send(message: TrainerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

async function runJob(message: Extract<HostMessage, { type: 'start' }>): Promise<void> {
  if (message.protocol !== PROTOCOL_VERSION) {
    await send({
      type: 'failed',
      message: `Trainer speaks protocol ${PROTOCOL_VERSION}, the extension sent ${message.protocol}`,
      hint: 'Reload the window so the extension and its trainer come from the same version.',
    });
    return;
  }
  const loaded = await loadBackend({
    preference: message.options.backend,
    nativeBackendPath: message.options.nativeBackendPath,
    installRoot: installRootOf(__dirname),
  });
  for (const f of loaded.fallbacks) {
    await send({ type: 'log', level: 'warn', message: `Backend ${f.backend} unavailable: ${f.error}` });
  }
  const job = message.job;
  switch (job.kind) {
    case 'environment':
      await send({ type: 'environment', report: describeEnvironment(loaded, message.options.backend, { selfCheck: true }) });
      break;
    case 'inspect': {
      const b = await loadBackbone(job.backbone, { installRoot: installRootOf(__dirname), cacheDir: job.cacheDir, baseDir: job.baseDir });
      const rows = b.kind === 'layers' ? summarizeLayers(b.model, { cutAt: b.cutAt }) : [];
      await send({
        type: 'layers',
        summary: { kind: b.kind, cutAt: b.cutAt, inputShape: b.inputShape, rows, source: b.source, fineTunable: b.kind === 'layers' },
      });
      break;
    }
    case 'predict': {
      const predictor = await loadPredictor(job.target, installRootOf(__dirname), job.cacheDir);
      await send({ type: 'predictions', predictions: await predictFiles(predictor, job.images, 5) });
      break;
    }
    case 'run': {
      try {
        const outcome = await runExperiment({
          experimentFile: job.experimentFile,
          runsDir: job.runsDir,
          cacheDir: job.cacheDir,
          installRoot: installRootOf(__dirname),
          backend: loaded.backend,
          onEvent: (event) => void send({ type: 'run-event', event }),
          shouldStop: () => cancelRequested,
        });
        if (outcome.status === 'failed') await send({ type: 'failed', message: outcome.error?.message ?? 'the run failed', hint: outcome.error?.hint });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        await send({ type: 'failed', message: e.message, hint: 'Fix the experiment file or dataset and run again.' });
      }
      break;
    }
  }
}

async function fail(e: unknown): Promise<never> {
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`${e instanceof Error && e.stack ? e.stack : message}\n`);
  await send({ type: 'failed', message });
  process.exit(1);
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
    const message = parseHostMessage(raw);
    if (!message) return void fail(new Error(`Malformed message from the extension: ${JSON.stringify(raw)}`));
    if (message.type === 'cancel') {
      cancelRequested = true;
      return;
    }
    runJob(message)
      .then(() => send({ type: 'done' }))
      .then(() => process.exit(0))
      .catch(fail);
  });
  void send({ type: 'hello', protocol: PROTOCOL_VERSION, pid: process.pid });
}

main();
