import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CurveFeed, DASHBOARD_PROTOCOL, decimate, emptyCurves, parseDashboardRequest } from '../../src/core/dashboardMessages';

test('panel requests are validated', () => {
  const protocol = DASHBOARD_PROTOCOL;
  assert.deepEqual(parseDashboardRequest({ type: 'ready', protocol }), { ok: true, value: { type: 'ready', protocol } });
  assert.deepEqual(parseDashboardRequest({ type: 'rendered', protocol, points: 10, outOfOrder: 0 }), {
    ok: true,
    value: { type: 'rendered', protocol, points: 10, outOfOrder: 0 },
  });
  assert.equal(parseDashboardRequest({ type: 'rendered', protocol, points: 'many', outOfOrder: 0 }).ok, false);
  assert.equal(parseDashboardRequest({ type: 'rendered', protocol, points: 10 }).ok, false);
  assert.equal(parseDashboardRequest({ type: 'rendered', protocol, points: -1, outOfOrder: 0 }).ok, false);
  assert.equal(parseDashboardRequest({ type: 'runCommand', protocol, command: 'rm -rf' }).ok, false);
  assert.equal(parseDashboardRequest(null).ok, false);
});

test('100,000 points decimate to a bounded message that keeps spikes', () => {
  const points = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: Math.sin(i / 1000) }));
  points[54_321].y = 50; // a spike must survive
  const out = decimate(points, 4000);
  assert.ok(out.length <= 4000);
  assert.ok(out.some((p) => p.y === 50));
  assert.ok(
    out.every((p, i) => i === 0 || p.x >= out[i - 1].x),
    'x stays ordered',
  );
  assert.equal(decimate(points.slice(0, 10), 4000).length, 10);
});

test('CurveFeed: live points wait for the history, then only newer points follow, each once', () => {
  const feed = new CurveFeed();
  const pts = (...xs: number[]) => xs.map((x) => ({ x, y: x / 10 }));
  // Events arrive while the webview loads: nothing is sent before its history.
  for (const x of [1, 2, 3]) feed.push('batchLoss', { x, y: x / 10 });
  assert.deepEqual(feed.take(), {});
  feed.push('batchLoss', { x: 4, y: 0.4 });
  // By the time the webview asks, the run folder has points 1..4 (and an epoch point).
  feed.history({ ...emptyCurves(), batchLoss: pts(1, 2, 3, 4), epochLoss: pts(4) });
  feed.push('batchLoss', { x: 5, y: 0.5 });
  feed.push('epochLoss', { x: 4, y: 0.4 }); // already in the history
  assert.deepEqual(feed.take(), { batchLoss: pts(5) });
  // Out of order or repeated live points are dropped; curves with no history start anywhere.
  for (const x of [5, 7, 6, 8]) feed.push('batchLoss', { x, y: x / 10 });
  feed.push('valLoss', { x: 8, y: 0.8 });
  assert.deepEqual(feed.take(), { batchLoss: pts(7, 8), valLoss: pts(8) });
  assert.deepEqual(feed.take(), {});
});
