// Fault injection: the real trainer is SIGKILLed at random moments across 50 runs of a tiny
// experiment (at a random time, or right after a random one of its events: during
// featurizing, a batch, an epoch's checkpoint, evaluation or export). After each kill the
// host does what the extension does (finalizeStoppedRunAsync), then every run folder must be
// valid: a readable run.json in an end state, readable metrics, no half-written files, and a
// model/ only if it is complete. A run that completed is never lost or changed afterwards.
// The seed is printed; TRANSFER_LAB_FAULT_SEED reproduces a sequence, TRANSFER_LAB_FAULT_RUNS
// changes the count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrainerProcess, type TrainerOutcome } from '../../src/extension/trainerProcess';
import { finalizeStoppedRunAsync, listRuns, readMetrics, readRun } from '../../src/core/runStore';
import { seededRandom } from '../../src/core/random';
import type { TrainerMessage } from '../../src/core/protocol';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const repo = path.resolve(__dirname, '../../..');
const trainerScript = path.join(repo, 'dist', 'trainer.js');
const RUNS = Number(process.env.TRANSFER_LAB_FAULT_RUNS ?? 50);
const SEED = Number(process.env.TRANSFER_LAB_FAULT_SEED ?? Date.now() % 100_000);

interface Attempt {
  outcome: TrainerOutcome;
  runDir?: string;
  events: string[];
  ms: number;
}

/** One run; `killAt` decides, from the elapsed time and the events so far, when to SIGKILL. */
async function attempt(file: string, runsDir: string, cacheDir: string, killAt: (ms: number, events: string[]) => boolean): Promise<Attempt> {
  const started = Date.now();
  const events: string[] = [];
  let runDir: string | undefined;
  let killed = false;
  // eslint-disable-next-line prefer-const
  let trainer: TrainerProcess;
  const kill = () => {
    if (killed || !trainer?.pid) return;
    killed = true;
    try {
      process.kill(trainer.pid, 'SIGKILL');
    } catch {
      // already gone: the run finished first
    }
  };
  const onMessage = (m: TrainerMessage) => {
    if (m.type !== 'run-event') return;
    const e = m.event;
    events.push(e.type === 'phase' ? `phase:${e.phase}` : e.type);
    if (e.type === 'run-started') runDir = e.runDir;
    if (killAt(Date.now() - started, events)) kill();
  };
  trainer = new TrainerProcess(
    { script: trainerScript, startTimeoutMs: 60_000 },
    { kind: 'run', experimentFile: file, runsDir, cacheDir },
    { backend: 'auto' },
    onMessage,
  );
  const timer = setInterval(() => killAt(Date.now() - started, events) && kill(), 5);
  const outcome = await trainer.outcome;
  clearInterval(timer);
  if (!outcome.ok && runDir) await finalizeStoppedRunAsync(runDir, { message: `the trainer stopped: ${outcome.reason}` }, outcome.stderrTail);
  return { outcome, runDir, events, ms: Date.now() - started };
}

/** A model/ folder is complete: model.json parses and every weight file has the bytes its manifest promises. */
function modelIsComplete(modelDir: string): boolean {
  const topology = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  const size: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
  for (const group of topology.weightsManifest) {
    const expected = group.weights.reduce(
      (n: number, w: { shape: number[]; dtype: string }) => n + w.shape.reduce((a, b) => a * b, 1) * (size[w.dtype] ?? 4),
      0,
    );
    const actual = group.paths.reduce((n: number, p: string) => n + fs.statSync(path.join(modelDir, p)).size, 0);
    if (actual !== expected) return false;
  }
  return fs.existsSync(path.join(modelDir, 'labels.json')) && fs.existsSync(path.join(modelDir, 'preprocessing.json'));
}

function digest(dir: string): string {
  const h = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
    const p = path.join(dir, f);
    if (fs.statSync(p).isFile()) h.update(f).update(fs.readFileSync(p));
  }
  return h.digest('hex');
}

function checkRunFolder(dir: string): string {
  const record = readRun(dir);
  assert.ok(record.ok, `${dir}: run.json unreadable: ${JSON.stringify(!record.ok && record.errors)}`);
  const r = record.value;
  assert.ok(['succeeded', 'failed', 'cancelled'].includes(r.status), `${dir}: status ${r.status} after the trainer is gone`);
  // Only a torn last line is acceptable (a kill mid-append), and it is reported, not fatal.
  const bad = readMetrics(dir).problems.filter((p) => !/last line is incomplete/.test(p.message));
  assert.deepEqual(bad, [], `${dir}: metrics.jsonl damaged`);
  const leftovers = fs.readdirSync(dir).filter((f) => f.startsWith('.'));
  assert.deepEqual(leftovers, [], `${dir}: half-written files left: ${leftovers.join(', ')}`);
  const model = path.join(dir, 'model');
  if (r.status === 'succeeded') assert.ok(modelIsComplete(model), `${dir}: succeeded without a complete model`);
  else if (fs.existsSync(model)) assert.ok(modelIsComplete(model), `${dir}: a ${r.status} run holds an incomplete model/`);
  if (r.status === 'failed') assert.ok(r.failure?.message, `${dir}: failed without saying why`);
  return r.status;
}

test(`the trainer SIGKILLed at random points across ${RUNS} runs leaves no corrupt run folder and loses no completed run`, { timeout: 1_800_000 }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-faults-'));
  copyShippedDataset(path.join(root, 'data'), { train: 4, val: 2, test: 2 }, repo);
  const file = writeTinyExperiment(path.join(root, 'tiny.tlexp.json'), {
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' },
    train: { epochs: 3, batchSize: 4 },
  });
  const runsDir = path.join(root, 'runs');
  const cacheDir = path.join(root, 'cache');

  // A complete run first: its duration and events calibrate the kills, and it must survive them.
  const full = await attempt(file, runsDir, cacheDir, () => false);
  assert.equal(full.outcome.ok, true, JSON.stringify(full.outcome));
  assert.equal(checkRunFolder(full.runDir!), 'succeeded');
  const completed = new Map([[full.runDir!, digest(full.runDir!)]]);
  console.log(`# seed ${SEED}; a full run takes ${full.ms} ms with ${full.events.length} events: ${[...new Set(full.events)].join(', ')}`);

  const random = seededRandom(SEED);
  const seen: Record<string, number> = {};
  for (let i = 0; i < RUNS; i++) {
    // Half the kills at a random time (start-up included), half right after a random event
    // (so the short phases, checkpoint and export, are hit as often as the long ones).
    let where: string;
    let killAt: (ms: number, events: string[]) => boolean;
    if (random() < 0.5) {
      const at = Math.floor(random() * full.ms * 1.05);
      where = `at ${at} ms`;
      killAt = (ms) => ms >= at;
    } else {
      const kinds = [...new Set(full.events)];
      const kind = kinds[Math.floor(random() * kinds.length)];
      const nth = 1 + Math.floor(random() * full.events.filter((e) => e === kind).length);
      where = `after ${kind} #${nth}`;
      killAt = (_ms, events) => events.filter((e) => e === kind).length >= nth;
    }
    const a = await attempt(file, runsDir, cacheDir, killAt);
    const status = a.runDir ? checkRunFolder(a.runDir) : 'no run folder yet';
    seen[status] = (seen[status] ?? 0) + 1;
    if (status === 'succeeded') completed.set(a.runDir!, digest(a.runDir!));
    if (process.env.TRANSFER_LAB_FAULT_VERBOSE) console.log(`# kill ${i + 1} ${where}: ${status}`);
    // Every folder stays valid, and the completed runs are exactly as they were.
    for (const { dir } of listRuns(runsDir).runs) checkRunFolder(dir);
    for (const [dir, hash] of completed) assert.equal(digest(dir), hash, `completed run ${path.basename(dir)} changed after kill ${i + 1} (${where})`);
  }
  const listed = listRuns(runsDir);
  assert.deepEqual(listed.problems, [], 'every run folder lists');
  console.log(
    `# ${RUNS} kills: ${Object.entries(seen)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}; ${completed.size} completed runs intact`,
  );
  // The cache survived the kills too: a last run completes.
  const last = await attempt(file, runsDir, cacheDir, () => false);
  assert.equal(last.outcome.ok, true, `a run after the kills: ${JSON.stringify(last.outcome)}`);
  assert.equal(checkRunFolder(last.runDir!), 'succeeded');
  fs.rmSync(root, { recursive: true, force: true });
});
