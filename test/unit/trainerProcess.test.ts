// Supervision of the trainer child process with real processes: the real trainer for the
// happy path and a SIGKILL mid-job, and a misbehaving stand-in for crash/hang/exit/garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { explainDeath, TrainerProcess, type TrainerOutcome } from '../../src/extension/trainerProcess';
import type { TrainerMessage } from '../../src/core/protocol';

const repo = path.resolve(__dirname, '../../..');
const realTrainer = path.join(repo, 'dist', 'trainer.js');
const fake = path.join(repo, 'test', 'fixtures', 'trainers', 'misbehaving.js');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function runFake(mode: string, deadlineMs = 5000, env: NodeJS.ProcessEnv = {}): Promise<{ outcome: TrainerOutcome; pid: number }> {
  const trainer = new TrainerProcess(
    { script: fake, startTimeoutMs: 5000, deadlineMs, env: { MODE: mode, ...env } },
    { kind: 'environment' },
    { backend: 'cpu' },
    () => {},
  );
  const outcome = await trainer.outcome;
  return { outcome, pid: trainer.pid! };
}

test('the real trainer reports an environment and exits cleanly', async () => {
  const messages: TrainerMessage[] = [];
  const trainer = new TrainerProcess({ script: realTrainer, startTimeoutMs: 30_000, deadlineMs: 60_000 }, { kind: 'environment' }, { backend: 'cpu' }, (m) =>
    messages.push(m),
  );
  const outcome = await trainer.outcome;
  assert.deepEqual(outcome, { ok: true });
  const env = messages.find((m) => m.type === 'environment');
  assert.ok(env && env.type === 'environment');
  assert.equal(env.report.backend, 'cpu');
  assert.match(env.report.tfjsVersion, /^\d+\.\d+\.\d+$/);
  assert.ok(!isAlive(trainer.pid!), 'trainer process is gone');
});

test('a trainer killed mid-job is a failure that names the signal', async () => {
  const trainer = new TrainerProcess({ script: realTrainer, startTimeoutMs: 30_000 }, { kind: 'environment' }, { backend: 'cpu' }, (m) => {
    if (m.type === 'hello') process.kill(trainer.pid!, 'SIGKILL');
  });
  const outcome = await trainer.outcome;
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok);
  assert.equal(outcome.signal, 'SIGKILL');
  assert.match(outcome.reason, /killed by SIGKILL/);
});

test('a crash is reported with the stderr tail', async () => {
  const { outcome, pid } = await runFake('crash');
  assert.ok(!outcome.ok);
  assert.match(outcome.reason, /exited with code 1/);
  assert.match(outcome.stderrTail, /boom: simulated crash/);
  assert.ok(!isAlive(pid));
});

test('a trainer out of memory is reported as such, with what to change', async () => {
  // A real V8 heap exhaustion (the process aborts), not a simulated message.
  const { outcome, pid } = await runFake('oom', 30_000, { NODE_OPTIONS: '--max-old-space-size=32' });
  assert.ok(!outcome.ok);
  assert.equal(outcome.reason, 'the trainer ran out of memory');
  assert.match(outcome.hint ?? '', /smaller train\.batchSize/);
  assert.match(outcome.stderrTail, /heap out of memory/);
  assert.ok(!isAlive(pid));
});

test('an unasked SIGKILL (the usual out-of-memory killer) says memory may be why', () => {
  assert.match(explainDeath(null, 'SIGKILL', '').hint ?? '', /ran low on memory/);
  assert.equal(explainDeath(null, 'SIGSEGV', '').reason, 'the trainer was killed by SIGSEGV');
  assert.match(explainDeath(null, 'SIGFPE', '').hint ?? '', /retried once automatically with oneDNN off.*TF_ENABLE_ONEDNN_OPTS=0/);
  assert.equal(explainDeath(2, null, 'some error').reason, 'the trainer exited with code 2 before finishing');
  assert.equal(explainDeath(null, 'SIGABRT', '2026 W tensorflow OOM when allocating tensor with shape[32,112,112,96]').reason, 'the trainer ran out of memory');
});

test('an early exit without finishing is a failure with its exit code', async () => {
  const { outcome } = await runFake('early-exit');
  assert.ok(!outcome.ok);
  assert.equal(outcome.exitCode, 3);
  assert.match(outcome.stderrTail, /mode early-exit/);
});

test('a hang past the deadline is killed and reported', async () => {
  const started = Date.now();
  const { outcome, pid } = await runFake('hang', 800);
  assert.ok(!outcome.ok);
  assert.match(outcome.reason, /did not finish within 0.8 s/);
  assert.ok(Date.now() - started < 5000);
  assert.ok(!isAlive(pid), 'no zombie or orphan left');
});

test('a trainer that ignores SIGTERM is SIGKILLed', async () => {
  const { outcome, pid } = await runFake('ignore-term', 500);
  assert.ok(!outcome.ok);
  assert.match(outcome.reason, /did not finish/);
  assert.equal(outcome.signal, 'SIGKILL');
  assert.ok(!isAlive(pid));
});

test('a malformed message ends the job with a clear reason', async () => {
  const { outcome } = await runFake('garbage');
  assert.ok(!outcome.ok);
  assert.match(outcome.reason, /malformed message.*no-such-message/);
});

test('a missing Node binary is a failure, not an exception', async () => {
  const trainer = new TrainerProcess(
    { script: realTrainer, nodePath: '/nonexistent/node', startTimeoutMs: 5000 },
    { kind: 'environment' },
    { backend: 'cpu' },
    () => {},
  );
  const outcome = await trainer.outcome;
  assert.ok(!outcome.ok);
  assert.match(outcome.reason, /could not start the trainer \(\/nonexistent\/node\)/);
  assert.match(outcome.hint ?? '', /transferLab.nodePath/);
});
