// The run folder on disk: naming, atomic rewrites of run.json, appended metrics that
// survive a torn last line, tolerant reading and listing, orphan recovery and deletion.
// The fault test re-runs this bundle as a child writer and SIGKILLs it mid-write.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flowersExperiment } from '../fixtures/experiment';
import {
  appendMetrics,
  createRun,
  deleteRun,
  isPidAlive,
  listRuns,
  markOrphanedRuns,
  ORPHANED_MESSAGE,
  readMetrics,
  readRun,
  RUN_ID_PATTERN,
  slugify,
  updateRun,
  writeJsonAtomic,
  type MetricRecord,
} from '../../src/core/runStore';

const experiment = flowersExperiment;

const epoch = (n: number, extra: Partial<MetricRecord> = {}): MetricRecord => ({
  kind: 'epoch',
  epoch: n,
  step: n * 10,
  loss: 1 / n,
  accuracy: 0.5,
  val_loss: 1,
  val_accuracy: 0.4,
  lr: 0.001,
  time: 1_700_000_000_000 + n,
  ...extra,
});

// Child mode: write run.json and metrics as fast as possible until killed.
if (process.env.TL_RUNSTORE_WRITER) {
  const dir = process.env.TL_RUNSTORE_WRITER;
  updateRun(dir, { pid: process.pid }); // as the trainer does
  process.send?.('ready');
  for (let i = 1; ; i++) {
    updateRun(dir, { metrics: { step: i, accuracy: i / 1e6 }, timings: { startedAt: new Date(0).toISOString(), [`phase${i % 7}Ms`]: i } });
    appendMetrics(dir, [epoch(i, { batch: i }), epoch(i)]);
  }
} else {
  defineTests();
}

// This file is also the child process the crash tests fork (above), so its tests are registered
// in one function that only the parent calls; each test inside stays short.
// eslint-disable-next-line max-lines-per-function -- a suite of tests, not one function's logic
function defineTests(): void {
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-runs-'));
  after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
  let n = 0;
  const runsDir = () => path.join(tmpRoot, `runs${n++}`);

  test('createRun makes <yyyyMMdd-HHmmss>-<slug>-<hex> with a running run.json and an empty metrics.jsonl', () => {
    const dir = runsDir();
    const startedAt = new Date(2024, 2, 5, 14, 7, 9);
    const exp = experiment();
    const run = createRun(dir, exp, { backend: 'tensorflow', startedAt, skipped: [{ path: '/x/notes.txt', reason: 'not an image' }] });
    assert.match(run.id, /^20240305-140709-flowers-mobilenet-[0-9a-f]{4}$/);
    assert.match(run.id, RUN_ID_PATTERN);
    assert.equal(run.dir, path.join(dir, run.id));
    const read = readRun(run.dir);
    assert.ok(read.ok);
    assert.deepEqual(read.value, run.record);
    assert.equal(read.value.status, 'running');
    assert.equal(read.value.format, 'transfer-lab-run');
    assert.equal(read.value.version, 1);
    assert.deepEqual(read.value.experiment, { name: 'Flowers MobileNet', file: exp.file });
    assert.deepEqual(read.value.config, exp);
    assert.equal(read.value.pid, process.pid);
    assert.equal(read.value.host, os.hostname());
    assert.equal(read.value.timings.startedAt, startedAt.toISOString());
    assert.equal(fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8'), '');
    // Same second, same name: still distinct folders.
    const ids = new Set(Array.from({ length: 20 }, () => createRun(dir, exp, { backend: 'cpu', startedAt }).id));
    assert.equal(ids.size, 20);
  });

  test('a run folder appears complete or not at all; drafts a kill left are hidden, then cleaned', () => {
    const dir = runsDir();
    const run = createRun(dir, experiment(), { backend: 'cpu' });
    assert.deepEqual(fs.readdirSync(dir), [run.id], 'no draft left beside the run');
    // What a trainer killed between creating and renaming leaves: a hidden draft.
    const fresh = path.join(dir, '.creating-abc123');
    const stale = path.join(dir, '.creating-def456');
    for (const d of [fresh, stale]) {
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'metrics.jsonl'), '');
    }
    const hourAgo = new Date(Date.now() - 2 * 3_600_000);
    fs.utimesSync(stale, hourAgo, hourAgo);
    assert.deepEqual(listRuns(dir).problems, []);
    assert.deepEqual(
      listRuns(dir).runs.map((r) => r.dir),
      [run.dir],
    );
    createRun(dir, experiment(), { backend: 'cpu' });
    assert.ok(fs.existsSync(fresh), "a recent draft may be another trainer's: kept");
    assert.ok(!fs.existsSync(stale), 'an hour-old draft is removed');
  });

  test('slugs are short lowercase ASCII', () => {
    assert.equal(slugify('Flowers MobileNet v2 (fine-tune)'), 'flowers-mobilenet-v2-fine-tune');
    assert.equal(slugify('Café Ñandú'), 'cafe-nandu');
    assert.equal(slugify('猫と犬'), 'experiment');
    assert.equal(slugify('--x--'), 'x');
    assert.equal(slugify('a'.repeat(39) + ' b'), 'a'.repeat(39));
    assert.ok(slugify('word '.repeat(30)).length <= 40);
  });

  test('updateRun merges, keeps phase timings, and leaves no temp files', () => {
    const run = createRun(runsDir(), experiment(), { backend: 'wasm' });
    updateRun(run.dir, { timings: { startedAt: run.record.timings.startedAt, loadBackboneMs: 120 } });
    const done = updateRun(run.dir, {
      status: 'succeeded',
      metrics: { accuracy: 0.9, loss: Number.NaN },
      timings: { startedAt: run.record.timings.startedAt, endedAt: new Date().toISOString(), durationMs: 5, trainMs: 3 },
    });
    assert.equal(done.status, 'succeeded');
    assert.equal(done.timings.loadBackboneMs, 120);
    assert.equal(done.timings.trainMs, 3);
    const read = readRun(run.dir);
    assert.ok(read.ok);
    assert.equal(read.value.metrics.accuracy, 0.9);
    assert.ok(Number.isNaN(read.value.metrics.loss), 'NaN is stored as null and read back as NaN');
    assert.deepEqual(fs.readdirSync(run.dir).sort(), ['metrics.jsonl', 'run.json']);
  });

  test('writeJsonAtomic keeps the old file when writing fails', () => {
    const file = path.join(tmpRoot, 'atomic.json');
    writeJsonAtomic(file, { v: 1 });
    assert.throws(() => writeJsonAtomic(file, { v: 2, big: 10n }), /BigInt/);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { v: 1 });
    assert.deepEqual(
      fs.readdirSync(tmpRoot).filter((f) => f.includes('atomic')),
      ['atomic.json'],
    );
  });

  test('metrics append as JSON lines and read back; a torn last line is tolerated and isolated', () => {
    const run = createRun(runsDir(), experiment(), { backend: 'cpu' });
    appendMetrics(run.dir, [epoch(1, { kind: 'batch', batch: 1, imagesPerSec: 50 }), epoch(1)]);
    appendMetrics(run.dir, [epoch(2, { loss: Number.POSITIVE_INFINITY })]);
    appendMetrics(run.dir, []);
    let read = readMetrics(run.dir);
    assert.deepEqual(read.problems, []);
    assert.equal(read.records.length, 3);
    assert.deepEqual(read.records[0], epoch(1, { kind: 'batch', batch: 1, imagesPerSec: 50 }));
    assert.ok(Number.isNaN(read.records[2].loss));
    // A crash mid-write leaves half a line.
    const file = path.join(run.dir, 'metrics.jsonl');
    fs.appendFileSync(file, '{"kind":"epoch","epoch":3,"st');
    read = readMetrics(run.dir);
    assert.equal(read.records.length, 3);
    assert.deepEqual(
      read.problems.map((p) => [p.file, p.line, p.message]),
      [[file, 4, 'the last line is incomplete (the run stopped while writing it); it is ignored']],
    );
    // A later append starts on a new line, so its records stay whole.
    appendMetrics(run.dir, [epoch(3), epoch(4)]);
    read = readMetrics(run.dir);
    assert.deepEqual(
      read.records.map((r) => r.epoch),
      [1, 1, 2, 3, 4],
    );
    assert.deepEqual(
      read.problems.map((p) => [p.line, p.message]),
      [[4, 'a line is not valid JSON; it is ignored']],
    );
    fs.appendFileSync(file, '{"kind":"other"}\n');
    assert.match(readMetrics(run.dir).problems[1].message, /not a metric record/);
    assert.deepEqual(readMetrics(path.join(tmpRoot, 'no-such-run')), { records: [], problems: [] });
  });

  test('readRun never throws: a missing, corrupt or foreign run.json is an error naming the file', () => {
    const run = createRun(runsDir(), experiment(), { backend: 'cpu' });
    const file = path.join(run.dir, 'run.json');
    const errorOf = () => {
      const r = readRun(run.dir);
      assert.equal(r.ok, false);
      const [e] = (r as { errors: { file?: string; path: string; message: string; hint?: string }[] }).errors;
      assert.equal(e.file, file);
      return e;
    };
    fs.writeFileSync(file, '{"format":"transfer-lab-run","vers');
    assert.match(errorOf().message, /^is not valid JSON/);
    fs.writeFileSync(file, '[]');
    assert.equal(errorOf().message, 'must hold a JSON object');
    fs.writeFileSync(file, JSON.stringify({ ...run.record, status: 'paused' }));
    let e = errorOf();
    assert.equal(e.path, 'status');
    assert.equal(e.message, 'must be one of running, succeeded, failed, cancelled, got "paused"');
    fs.writeFileSync(file, JSON.stringify({ ...run.record, metrics: { accuracy: 'high' } }));
    assert.equal(errorOf().path, 'metrics');
    fs.writeFileSync(file, JSON.stringify({ ...run.record, version: 99 }));
    e = errorOf();
    assert.match(e.message, /written by a newer Transfer Lab/);
    assert.match(e.hint ?? '', /Update Transfer Lab/);
    fs.writeFileSync(file, JSON.stringify({ hello: 1 }));
    assert.match(errorOf().message, /not a Transfer Lab run record/);
    fs.rmSync(file);
    assert.match(errorOf().message, /^missing: this folder is not a run folder/);
    // updateRun (the writer) throws on a broken folder, naming the file.
    assert.throws(() => updateRun(run.dir, { status: 'failed' }), new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: missing`));
  });

  test('listRuns: newest first; broken folders reported, not thrown; a missing folder is empty', () => {
    const dir = runsDir();
    const old = createRun(dir, experiment('old'), { backend: 'cpu', startedAt: new Date(2024, 0, 1) });
    const newest = createRun(dir, experiment('newest'), { backend: 'cpu', startedAt: new Date(2024, 5, 1) });
    const middle = createRun(dir, experiment('middle'), { backend: 'cpu', startedAt: new Date(2024, 2, 1) });
    fs.mkdirSync(path.join(dir, 'not-a-run'));
    fs.mkdirSync(path.join(dir, '.hidden'));
    fs.writeFileSync(path.join(dir, 'stray.txt'), 'x');
    const broken = createRun(dir, experiment('broken'), { backend: 'cpu' });
    fs.writeFileSync(path.join(broken.dir, 'run.json'), '{');
    const listed = listRuns(dir);
    assert.deepEqual(
      listed.runs.map((r) => r.record.experiment.name),
      ['newest', 'middle', 'old'],
    );
    assert.deepEqual(
      listed.runs.map((r) => r.dir),
      [newest.dir, middle.dir, old.dir],
    );
    assert.deepEqual(listed.problems.map((p) => path.basename(p.dir)).sort(), [broken.id, 'not-a-run'].sort());
    assert.ok(listed.problems.every((p) => p.errors[0].file === path.join(p.dir, 'run.json')));
    assert.deepEqual(listRuns(path.join(tmpRoot, 'never-created')), { runs: [], problems: [] });
  });

  test('markOrphanedRuns fails running runs whose trainer is gone, and only those', () => {
    const dir = runsDir();
    const dead = createRun(dir, experiment('dead'), { backend: 'cpu', pid: 111111, startedAt: new Date(Date.now() - 60_000) });
    appendMetrics(dead.dir, [epoch(1)]);
    const alive = createRun(dir, experiment('alive'), { backend: 'cpu', pid: 222222 });
    const finished = createRun(dir, experiment('finished'), { backend: 'cpu', pid: 111111 });
    updateRun(finished.dir, { status: 'succeeded' });
    const remote = createRun(dir, experiment('remote'), { backend: 'cpu', pid: 111111 });
    updateRun(remote.dir, { host: 'another-machine' });
    const marked = markOrphanedRuns(dir, (pid) => pid === 222222);
    assert.deepEqual(marked, [dead.dir]);
    const r = readRun(dead.dir);
    assert.ok(r.ok);
    assert.equal(r.value.status, 'failed');
    assert.equal(r.value.failure?.message, ORPHANED_MESSAGE);
    assert.equal(ORPHANED_MESSAGE, 'the trainer stopped without finishing (editor reloaded or process killed)');
    assert.ok(r.value.timings.endedAt && r.value.timings.durationMs! >= 59_000);
    assert.equal(readMetrics(dead.dir).records.length, 1, 'metrics so far are kept');
    for (const kept of [alive, finished, remote]) assert.notEqual((readRun(kept.dir) as { value: { status: string } }).value.status, 'failed');
    assert.deepEqual(markOrphanedRuns(dir, () => false).sort(), [alive.dir].sort(), 'a second pass marks only what changed');
  });

  test('isPidAlive tells a live process from an exited one', () => {
    assert.equal(isPidAlive(process.pid), true);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    assert.equal(isPidAlive(Number(child.stdout)), false);
  });

  test('deleteRun removes a run folder and refuses anything else', () => {
    const dir = runsDir();
    const run = createRun(dir, experiment(), { backend: 'cpu' });
    fs.mkdirSync(path.join(run.dir, 'model'));
    fs.writeFileSync(path.join(run.dir, 'model', 'model.json'), '{}');
    deleteRun(run.dir);
    assert.equal(fs.existsSync(run.dir), false);
    const precious = path.join(tmpRoot, 'my-photos');
    fs.mkdirSync(precious);
    fs.writeFileSync(path.join(precious, 'a.jpg'), 'x');
    assert.throws(() => deleteRun(precious), /is not a run folder \(no run\.json, and not named like one\); not deleting it/);
    assert.ok(fs.existsSync(path.join(precious, 'a.jpg')));
  });

  test('a writer SIGKILLed at random moments never leaves an unreadable run folder', async () => {
    const dir = runsDir();
    const run = createRun(dir, experiment('killed'), { backend: 'cpu' });
    for (let round = 0; round < 15; round++) {
      const child = spawn(process.execPath, [__filename], {
        env: { ...process.env, TL_RUNSTORE_WRITER: run.dir },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 60));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const record = readRun(run.dir);
      assert.ok(record.ok, `round ${round}: ${record.ok ? '' : record.errors[0].message}`);
      const metrics = readMetrics(run.dir);
      // Only a torn line at the very end of a write may be lost; earlier rounds' torn lines are isolated.
      assert.ok(metrics.problems.length <= round + 1, `round ${round}: ${metrics.problems.length} bad lines`);
      for (const r of metrics.records) assert.equal(typeof r.epoch, 'number');
    }
    const orphaned = markOrphanedRuns(dir);
    assert.deepEqual(orphaned, [run.dir]);
    assert.deepEqual(fs.readdirSync(run.dir).sort(), ['metrics.jsonl', 'run.json'], 'temp files of killed writes are cleaned up');
    assert.equal((readRun(run.dir) as { value: { status: string } }).value.status, 'failed');
  });
}
