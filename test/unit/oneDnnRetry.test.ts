// A oneDNN crash and its retry with the real trainer (dist/trainer.js) and real processes,
// as the extension's TrainerHost runs them (extension/oneDnnRetry.ts) minus vscode. oneDNN
// does not crash on this machine, so TRANSFER_LAB_SIMULATE_ONEDNN_CRASH=1 (a test-only
// simulation) makes the trainer die of a real SIGFPE when its oneDNN is on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainerProcess } from '../../src/extension/trainerProcess';
import { isOneDnnRetryNotice, OneDnnRetryJob } from '../../src/extension/oneDnnRetry';
import { listRuns, readRun } from '../../src/core/runStore';
import { machineKey, readVerdicts, verdictFileOf } from '../../src/engine/oneDnnPolicy';
import type { Job, TrainerMessage } from '../../src/core/protocol';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const repo = path.resolve(__dirname, '../../..');
const trainerScript = path.join(repo, 'dist', 'trainer.js');
// The children inherit this process's environment: the policy, not a setting, decides here.
delete process.env.TF_ENABLE_ONEDNN_OPTS;

interface Driven {
  job: OneDnnRetryJob;
  messages: TrainerMessage[];
  /** Every process started, with the environment it was given. */
  launches: { trainer: TrainerProcess; env: NodeJS.ProcessEnv; pidSeen?: number }[];
}

/** What TrainerHost does: each attempt a TrainerProcess with the simulation on, owned here. */
function drive(job: Job, nativeInstallDir: string, opts: { cancelGraceMs?: number; onMessage?: (m: TrainerMessage, d: Driven) => void } = {}): Driven {
  const d = { messages: [], launches: [] } as unknown as Driven;
  d.job = new OneDnnRetryJob({
    launch: (env, onMessage) => {
      const trainer = new TrainerProcess(
        {
          script: trainerScript,
          startTimeoutMs: 60_000,
          deadlineMs: 300_000,
          cancelGraceMs: opts.cancelGraceMs,
          env: { TRANSFER_LAB_SIMULATE_ONEDNN_CRASH: '1', ...env },
        },
        job,
        { backend: 'tensorflow', nativeInstallDir },
        onMessage,
      );
      d.launches.push({ trainer, env });
      return trainer;
    },
    onMessage: (m) => {
      d.messages.push(m);
      // The job's pid is the live attempt's.
      if (m.type === 'hello') d.launches.at(-1)!.pidSeen = d.job.pid;
      opts.onMessage?.(m, d);
    },
    verdictFile: verdictFileOf(nativeInstallDir),
  });
  return d;
}

const kernelsOf = (messages: TrainerMessage[]) => messages.filter((m): m is Extract<TrainerMessage, { type: 'kernels' }> => m.type === 'kernels');

test('a run oneDNN crashes is retried once with oneDNN off, remembered, and the next run of that model starts with it off', { timeout: 600_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-onednn-retry-'));
  copyShippedDataset(path.join(root, 'data'), { train: 4, val: 2, test: 2 }, repo);
  const experimentFile = writeTinyExperiment(path.join(root, 'tiny.tlexp.json'));
  const runsDir = path.join(root, 'runs');
  const nativeInstallDir = path.join(root, 'native');
  const job: Job = { kind: 'run', experimentFile, runsDir, cacheDir: path.join(root, 'cache') };

  const first = drive(job, nativeInstallDir);
  const outcome = await first.job.outcome;
  assert.deepEqual(outcome, { ok: true }, JSON.stringify(outcome));
  assert.equal(first.launches.length, 2, 'one crash, one retry');
  const crashed = await first.launches[0].trainer.outcome;
  assert.ok(!crashed.ok && crashed.signal === 'SIGFPE', `the first attempt died of SIGFPE: ${JSON.stringify(crashed)}`);
  assert.deepEqual(first.launches[1].env, { TF_ENABLE_ONEDNN_OPTS: '0' }, 'the retry runs with oneDNN off');
  assert.deepEqual(
    first.launches.map((l) => l.pidSeen),
    first.launches.map((l) => l.trainer.pid),
    'pid follows the live attempt',
  );
  const [k1, k2] = kernelsOf(first.messages);
  assert.deepEqual([k1.oneDnn.enabled, k1.oneDnn.source, k1.model], [true, 'default', 'catalog:fmnist-mini']);
  assert.equal(k1.machine, machineKey());
  assert.equal(k2.oneDnn.enabled, false);
  assert.match(k2.oneDnn.reason, /oneDNN crashed this model on this machine \(SIGFPE\)/);
  const notice = first.messages.find(isOneDnnRetryNotice);
  assert.ok(notice, 'the job is told it is retried');
  assert.match(notice.message, /running it once more with oneDNN off.*onednn-verdicts\.json; delete it to forget/);

  const verdicts = await readVerdicts(verdictFileOf(nativeInstallDir));
  assert.deepEqual(
    verdicts.verdicts.map((v) => [v.machine, v.model, v.oneDnn, v.signal]),
    [[machineKey(), 'catalog:fmnist-mini', 'off', 'SIGFPE']],
  );

  const started = first.messages.flatMap((m) => (m.type === 'run-event' && m.event.type === 'run-started' ? [m.event.runDir] : []));
  assert.equal(started.length, 2, 'each attempt made its own run folder');
  const [crashedRun, retriedRun] = started.map((dir) => readRun(dir));
  assert.ok(crashedRun.ok && retriedRun.ok);
  assert.equal(crashedRun.value.status, 'failed');
  assert.match(crashedRun.value.failure?.message ?? '', /oneDNN crashed this run \(SIGFPE\).*retried it with oneDNN off/);
  assert.equal(retriedRun.value.status, 'succeeded');
  assert.equal(listRuns(runsDir).runs.length, 2);

  // The same model again: off from the start, by the verdict, and no crash.
  const second = drive(job, nativeInstallDir);
  assert.deepEqual(await second.job.outcome, { ok: true });
  assert.equal(second.launches.length, 1, 'no crash, no retry');
  const [k] = kernelsOf(second.messages);
  assert.deepEqual([k.oneDnn.enabled, k.oneDnn.source], [false, 'verdict']);
  assert.match(k.oneDnn.reason, /^oneDNN crashed this model on this machine \(SIGFPE\) on \d{4}-\d\d-\d\d; Transfer Lab runs it with oneDNN off$/);
  fs.rmSync(root, { recursive: true, force: true });
});

test('an environment job oneDNN crashes answers from its retry, which reports oneDNN off, why, and the models remembered', { timeout: 300_000 }, async () => {
  const nativeInstallDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-onednn-env-'));
  const d = drive({ kind: 'environment' }, nativeInstallDir);
  assert.deepEqual(await d.job.outcome, { ok: true });
  assert.equal(d.launches.length, 2);
  const env = d.messages.find((m) => m.type === 'environment');
  assert.ok(env && env.type === 'environment');
  assert.equal(env.report.backend, 'tensorflow');
  assert.equal(env.report.oneDnn?.enabled, false);
  assert.match(env.report.oneDnn?.reason ?? '', /oneDNN crashed this model on this machine/);
  assert.equal(env.report.oneDnn?.rememberedOff, 1);
  assert.equal(env.report.oneDnn?.verdictFile, verdictFileOf(nativeInstallDir));
  fs.rmSync(nativeInstallDir, { recursive: true, force: true });
});

test('a job the user cancelled is not retried after a oneDNN crash, and nothing is remembered', { timeout: 300_000 }, async () => {
  const nativeInstallDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-onednn-cancel-'));
  // Cancelled as soon as its kernels are known; the simulated crash comes before it can stop.
  const d = drive({ kind: 'environment' }, nativeInstallDir, { cancelGraceMs: 60_000, onMessage: (m, driven) => m.type === 'kernels' && driven.job.cancel() });
  const outcome = await d.job.outcome;
  assert.ok(!outcome.ok && outcome.signal === 'SIGFPE', JSON.stringify(outcome));
  assert.equal(d.launches.length, 1);
  assert.equal(d.messages.some(isOneDnnRetryNotice), false);
  assert.deepEqual((await readVerdicts(verdictFileOf(nativeInstallDir))).verdicts, []);
  fs.rmSync(nativeInstallDir, { recursive: true, force: true });
});

test("a crash with oneDNN forced on by the user's TF_ENABLE_ONEDNN_OPTS is not overridden", { timeout: 300_000 }, async () => {
  const nativeInstallDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-onednn-forced-'));
  process.env.TF_ENABLE_ONEDNN_OPTS = '1';
  try {
    const d = drive({ kind: 'environment' }, nativeInstallDir);
    const outcome = await d.job.outcome;
    assert.ok(!outcome.ok && outcome.signal === 'SIGFPE', JSON.stringify(outcome));
    assert.equal(d.launches.length, 1, 'the user said on: no retry with it off');
    assert.match(outcome.hint ?? '', /retried once automatically/);
  } finally {
    delete process.env.TF_ENABLE_ONEDNN_OPTS;
    fs.rmSync(nativeInstallDir, { recursive: true, force: true });
  }
});
