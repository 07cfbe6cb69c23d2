// The extension host's (non-blocking) writers of core/runStore.ts do what the blocking ones
// do: the same files written, the same refusals and errors (runStore.test.ts covers the
// blocking ones and the readers).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flowersExperiment } from '../fixtures/experiment';
import {
  createRun,
  deleteRun,
  deleteRunAsync,
  finalizeStoppedRunAsync,
  markOrphanedEntriesAsync,
  markOrphanedRuns,
  ORPHANED_MESSAGE,
  readRun,
  updateRun,
  updateRunAsync,
  writeJsonAtomic,
  writeJsonAtomicAsync,
  listRuns,
  type RunRecord,
} from '../../src/core/runStore';

const experiment = flowersExperiment;

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-runs-async-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
let n = 0;
const runsDir = () => path.join(tmpRoot, `runs${n++}`);
const record = (dir: string) => (readRun(dir) as { value: RunRecord }).value;

test('writeJsonAtomicAsync writes what writeJsonAtomic writes, leaves no temp file, and fails the same way', async () => {
  const dir = runsDir();
  fs.mkdirSync(dir, { recursive: true });
  const value = { a: 1, b: [true, null], c: 'x' };
  writeJsonAtomic(path.join(dir, 'sync.json'), value);
  await writeJsonAtomicAsync(path.join(dir, 'async.json'), value);
  assert.equal(fs.readFileSync(path.join(dir, 'async.json'), 'utf8'), fs.readFileSync(path.join(dir, 'sync.json'), 'utf8'));
  await writeJsonAtomicAsync(path.join(dir, 'async.json'), { replaced: true });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'async.json'), 'utf8')), { replaced: true });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['async.json', 'sync.json']);
  // Renaming over a folder fails: the temp file goes, the error comes through.
  fs.mkdirSync(path.join(dir, 'taken.json'));
  const syncError = (() => {
    try {
      writeJsonAtomic(path.join(dir, 'taken.json'), value);
    } catch (e) {
      return (e as NodeJS.ErrnoException).code;
    }
  })();
  assert.ok(syncError);
  await assert.rejects(writeJsonAtomicAsync(path.join(dir, 'taken.json'), value), (e: NodeJS.ErrnoException) => e.code === syncError);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['async.json', 'sync.json', 'taken.json']);
  await assert.rejects(writeJsonAtomicAsync(path.join(dir, 'missing', 'x.json'), value), /ENOENT/);
});

test('updateRunAsync merges like updateRun (timings accumulate) and throws the same error for a broken run.json', async () => {
  const dir = runsDir();
  const a = createRun(dir, experiment('a'), { backend: 'cpu', pid: 1 });
  const b = createRun(dir, experiment('b'), { backend: 'cpu', pid: 1 });
  const patches: Partial<RunRecord>[] = [
    { metrics: { step: 1 }, timings: { startedAt: a.record.timings.startedAt, featurizeMs: 5 } },
    { status: 'succeeded', timings: { startedAt: a.record.timings.startedAt, trainMs: 7 } },
  ];
  for (const p of patches) updateRun(a.dir, p);
  for (const p of patches) await updateRunAsync(b.dir, p);
  const written = (r: RunRecord) => ({ status: r.status, metrics: r.metrics, timings: { ...r.timings, startedAt: '' }, keys: Object.keys(r) });
  assert.deepEqual(written(record(b.dir)), written(record(a.dir)));
  assert.equal(record(b.dir).timings.featurizeMs, 5);
  assert.equal(record(b.dir).timings.trainMs, 7);
  fs.writeFileSync(path.join(a.dir, 'run.json'), '{ torn');
  fs.writeFileSync(path.join(b.dir, 'run.json'), '{ torn');
  const syncMessage = (() => {
    try {
      updateRun(a.dir, { status: 'failed' });
    } catch (e) {
      return (e as Error).message;
    }
  })();
  assert.ok(syncMessage?.includes('is not valid JSON'));
  await assert.rejects(updateRunAsync(b.dir, { status: 'failed' }), (e: Error) => e.message === syncMessage!.split(a.dir).join(b.dir));
});

test('deleteRunAsync removes a run folder and refuses anything else, with the error deleteRun gives', async () => {
  const dir = runsDir();
  const run = createRun(dir, experiment(), { backend: 'cpu' });
  fs.mkdirSync(path.join(run.dir, 'model'));
  fs.writeFileSync(path.join(run.dir, 'model', 'model.json'), '{}');
  await deleteRunAsync(run.dir);
  assert.equal(fs.existsSync(run.dir), false);
  // Named like a run but without run.json (a half-made run): removed, as deleteRun does.
  const named = path.join(dir, '20240305-140709-flowers-0a1b');
  fs.mkdirSync(named);
  await deleteRunAsync(named);
  assert.equal(fs.existsSync(named), false);
  const precious = path.join(tmpRoot, 'my-photos-async');
  fs.mkdirSync(precious);
  fs.writeFileSync(path.join(precious, 'a.jpg'), 'x');
  assert.throws(() => deleteRun(precious), /is not a run folder \(no run\.json, and not named like one\); not deleting it/);
  await assert.rejects(deleteRunAsync(precious), /is not a run folder \(no run\.json, and not named like one\); not deleting it/);
  assert.ok(fs.existsSync(path.join(precious, 'a.jpg')));
});

test('finalizeStoppedRunAsync fails a running run with the reason, appends stderr to its log, removes half-written files', async () => {
  const dir = runsDir();
  const run = createRun(dir, experiment(), { backend: 'cpu' });
  fs.writeFileSync(path.join(run.dir, 'log.txt'), 'started\n');
  fs.writeFileSync(path.join(run.dir, '.run.json.123.0123abcd.tmp'), '{');
  fs.mkdirSync(path.join(run.dir, '.model.partial-beef'));
  fs.writeFileSync(path.join(run.dir, '.model.partial-beef', 'model.json'), '{');
  fs.mkdirSync(path.join(run.dir, 'model'));
  const failure = { message: 'the trainer stopped: killed', hint: 'See log.txt.' };
  assert.equal(await finalizeStoppedRunAsync(run.dir, failure, 'Error: out of memory'), true);
  const r = record(run.dir);
  assert.equal(r.status, 'failed');
  assert.deepEqual(r.failure, failure);
  assert.ok(r.timings.endedAt && Date.parse(r.timings.endedAt) >= Date.parse(r.timings.startedAt));
  assert.equal(typeof r.timings.durationMs, 'number');
  assert.equal(fs.readFileSync(path.join(run.dir, 'log.txt'), 'utf8'), 'started\n\n--- trainer stderr (last lines) ---\nError: out of memory\n');
  assert.deepEqual(fs.readdirSync(run.dir).sort(), ['log.txt', 'metrics.jsonl', 'model', 'run.json']);
  // A run in an end state, or one without a readable run.json, is left as it is.
  const before = fs.readFileSync(path.join(run.dir, 'run.json'), 'utf8');
  assert.equal(await finalizeStoppedRunAsync(run.dir, { message: 'again' }), false);
  assert.equal(fs.readFileSync(path.join(run.dir, 'run.json'), 'utf8'), before);
  assert.equal(await finalizeStoppedRunAsync(path.join(dir, 'nothing-here'), { message: 'x' }), false);
  // No stderr: no log section.
  const quiet = createRun(dir, experiment('quiet'), { backend: 'cpu' });
  assert.equal(await finalizeStoppedRunAsync(quiet.dir, { message: 'stopped' }), true);
  assert.equal(fs.existsSync(path.join(quiet.dir, 'log.txt')), false);
});

test('markOrphanedEntriesAsync marks the runs markOrphanedRuns marks, the same way', async () => {
  const make = (dir: string) => {
    const gone = createRun(dir, experiment('gone'), { backend: 'cpu', pid: 111111 });
    fs.writeFileSync(path.join(gone.dir, '.run.json.9.00ff00ff.tmp'), '{');
    createRun(dir, experiment('alive'), { backend: 'cpu', pid: 222222 });
    const elsewhere = createRun(dir, experiment('elsewhere'), { backend: 'cpu', pid: 111111 });
    updateRun(elsewhere.dir, { host: 'another-host' });
    const done = createRun(dir, experiment('done'), { backend: 'cpu', pid: 111111 });
    updateRun(done.dir, { status: 'succeeded' });
    return gone.dir;
  };
  const isAlive = (pid: number) => pid === 222222;
  const syncDir = runsDir();
  const asyncDir = runsDir();
  const goneSync = make(syncDir);
  const goneAsync = make(asyncDir);
  assert.deepEqual(markOrphanedRuns(syncDir, isAlive), [goneSync]);
  assert.deepEqual(await markOrphanedEntriesAsync(listRuns(asyncDir).runs, isAlive), [goneAsync]);
  const statuses = (dir: string) =>
    listRuns(dir)
      .runs.map((e) => `${e.record.experiment.name}:${e.record.status}:${e.record.failure?.message ?? ''}`)
      .sort();
  assert.deepEqual(statuses(asyncDir), statuses(syncDir));
  assert.equal(record(goneAsync).failure?.message, ORPHANED_MESSAGE);
  assert.equal(record(goneAsync).failure?.hint, record(goneSync).failure?.hint);
  assert.equal(typeof record(goneAsync).timings.endedAt, 'string');
  assert.deepEqual(fs.readdirSync(goneAsync).sort(), ['metrics.jsonl', 'run.json'], 'temp files are cleaned up');
  assert.deepEqual(await markOrphanedEntriesAsync(listRuns(asyncDir).runs, isAlive), [], 'a second pass marks nothing new');
});
