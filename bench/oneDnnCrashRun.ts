// A tiny run through the trainer twice, once with a simulated oneDNN crash: did it still
// train, and in how long (the last oneDNN row of `npm run bench`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { verdictFileOf } from '../src/engine/oneDnnPolicy';
import { OneDnnRetryJob } from '../src/extension/oneDnnRetry';
import { TrainerProcess } from '../src/extension/trainerProcess';
import { readRun } from '../src/core/runStore';
import { env, log, root } from './harness';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../test/support/datasets.mjs';

export interface CrashRunOutcome {
  trained: boolean;
  attempts: number;
  crashedSeconds?: number;
  cleanSeconds?: number;
  detail: string;
}

/** A tiny dataset (a few of the shipped images per class) and an experiment on it, in `work`. */
function tinyExperiment(work: string): string {
  copyShippedDataset(path.join(work, 'data'), { train: 4, val: 2, test: 2 }, root);
  return writeTinyExperiment(path.join(work, 'tiny.tlexp.json'), { train: { epochs: 2, batchSize: 4 } });
}

/** One run through the extension's oneDNN retry, with or without the simulated crash. */
async function runOnce(work: string, experimentFile: string, simulate: boolean, nativeInstallDir: string) {
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
}

export async function trainThroughOneDnnCrash(): Promise<CrashRunOutcome> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-onednn-'));
  const experimentFile = tinyExperiment(work);
  try {
    log('tiny run without a crash');
    const clean = await runOnce(work, experimentFile, false, path.join(work, 'native-clean'));
    log('tiny run through a simulated oneDNN crash (SIGFPE) and its retry');
    const crashed = await runOnce(work, experimentFile, true, path.join(work, 'native-crash'));
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
