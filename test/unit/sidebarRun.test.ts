import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildSidebarRun,
  chooseFollowedRun,
  emptySidebarCurves,
  latestRun,
  sidebarCurvesFrom,
  valAccuracySummary,
  MINI_POINTS,
} from '../../src/core/sidebarRun';
import { DASHBOARD_VIEW_PROTOCOL, parseDashboardViewState } from '../../src/core/dashboardViewMessages';
import type { MetricRecord, RunRecord } from '../../src/core/runRecord';

test('the followed run: the newest running one, else the kept, else the selected, else the latest', () => {
  const running = [
    { runDir: '/r/old', startedAt: 1, status: 'running' as const },
    { runDir: '/r/new', startedAt: 5, status: 'running' as const },
  ];
  assert.equal(chooseFollowedRun({ running, kept: '/r/k', selected: '/r/s', latest: '/r/l' }), '/r/new');
  // A live run that has already ended does not count as running.
  assert.equal(chooseFollowedRun({ running: [{ runDir: '/r/done', startedAt: 9, status: 'succeeded' }], selected: '/r/s' }), '/r/s');
  assert.equal(chooseFollowedRun({ running: [], kept: '/r/k', selected: '/r/s', latest: '/r/l' }), '/r/k');
  assert.equal(chooseFollowedRun({ running: [], selected: '/r/s', latest: '/r/l' }), '/r/s');
  assert.equal(chooseFollowedRun({ running: [], latest: '/r/l' }), '/r/l');
  assert.equal(chooseFollowedRun({ running: [] }), undefined);
});

test('the latest run is the newest by start time across runs folders', () => {
  const at = (dir: string, startedAt: string) => ({ dir, record: { timings: { startedAt } } });
  assert.equal(latestRun([at('a', '2026-01-01T00:00:00Z'), at('b', '2026-03-01T00:00:00Z'), at('c', '2026-02-01T00:00:00Z')])?.dir, 'b');
  assert.equal(latestRun([]), undefined);
});

const epoch = (e: number, valAccuracy: number): MetricRecord => ({
  kind: 'epoch',
  epoch: e,
  step: e * 10,
  loss: 1 / e,
  accuracy: 0.5,
  val_loss: 2 / e,
  val_accuracy: valAccuracy,
  time: 0,
});

test('mini curves come from epoch lines only, x = the epoch', () => {
  const c = sidebarCurvesFrom([{ kind: 'batch', epoch: 1, batch: 1, step: 1, loss: 9, time: 0 }, epoch(1, 0.4), epoch(2, 0.6)]);
  assert.deepEqual(
    c.valAccuracy.map((p) => p.x),
    [1, 2],
  );
  assert.equal(c.epochLoss.length, 2);
});

test('last and best validation accuracy say their epoch; the first epoch to reach the best wins; NaN is skipped', () => {
  const s = valAccuracySummary([
    { x: 1, y: 0.5 },
    { x: 2, y: 0.8 },
    { x: 3, y: 0.8 },
    { x: 4, y: 0.7 },
    { x: 5, y: NaN },
  ]);
  assert.deepEqual(s, { last: { value: 0.7, epoch: 4 }, best: { value: 0.8, epoch: 2 } });
  assert.deepEqual(valAccuracySummary([]), { last: undefined, best: undefined });
});

const record = (over: Partial<RunRecord> = {}): RunRecord =>
  ({
    id: '2026-run',
    experiment: { name: 'flowers', file: '/w/flowers.tlexp.json' },
    status: 'succeeded',
    backend: 'wasm',
    config: { train: { epochs: 4 } },
    metrics: { accuracy: 0.9, bestValAccuracy: 0.8 },
    timings: { startedAt: '2026-01-01T00:00:00Z' },
    ...over,
  }) as unknown as RunRecord;

test('a running run: live facts, progress, no test accuracy yet; the state validates', () => {
  const curves = sidebarCurvesFrom([epoch(1, 0.4), epoch(2, 0.6)]);
  const run = buildSidebarRun({
    runDir: '/r/x',
    record: record({ status: 'running', metrics: {} }),
    live: { experimentFile: '/w/flowers.tlexp.json', status: 'running', phase: 'training', backend: 'tensorflow', lastEpoch: { epoch: 2, epochs: 4 } },
    curves,
  });
  assert.equal(run.status, 'running');
  assert.equal(run.backend, 'tensorflow');
  assert.deepEqual([run.epoch, run.epochs], [2, 4]);
  assert.deepEqual(run.lastValAccuracy, { value: 0.6, epoch: 2 });
  assert.equal(run.testAccuracy, undefined);
  assert.equal(run.message, 'training');
  const parsed = parseDashboardViewState({ type: 'environment', protocol: DASHBOARD_VIEW_PROTOCOL, experiments: 1, run });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value.run?.curves?.valAccuracy, curves.valAccuracy);
});

test('a finished run from its record: test accuracy, epoch from the curves, failure as the message', () => {
  const done = buildSidebarRun({ runDir: '/r/x', record: record(), curves: sidebarCurvesFrom([epoch(1, 0.4), epoch(2, 0.8), epoch(3, 0.7)]) });
  assert.deepEqual([done.status, done.epoch, done.epochs, done.testAccuracy], ['succeeded', 3, 4, 0.9]);
  assert.deepEqual(done.bestValAccuracy, { value: 0.8, epoch: 2 });
  const failed = buildSidebarRun({
    runDir: '/r/y',
    record: record({ status: 'failed', metrics: {}, failure: { message: 'out of memory', hint: 'smaller batch' } }),
    curves: emptySidebarCurves(),
  });
  assert.equal(failed.message, 'out of memory smaller batch');
  assert.equal(failed.testAccuracy, undefined);
  // Without a record yet (a run that just started): names from the live run and its folder.
  const fresh = buildSidebarRun({ runDir: '/runs/2026-abc', live: { experimentFile: '/w/cats.tlexp.json', status: 'running' }, curves: emptySidebarCurves() });
  assert.deepEqual([fresh.id, fresh.experiment], ['2026-abc', 'cats']);
});

test('long runs send a bounded mini curve', () => {
  const many = sidebarCurvesFrom(Array.from({ length: 5000 }, (_, i) => epoch(i + 1, Math.sin(i))));
  const run = buildSidebarRun({ runDir: '/r/x', record: record(), curves: many });
  assert.ok(run.curves!.valAccuracy.length <= MINI_POINTS);
  // Best and last are over the whole history, not the decimated curve.
  assert.equal(run.lastValAccuracy?.epoch, 5000);
});
