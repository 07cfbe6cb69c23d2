import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimate, parseDashboardRequest } from '../../src/core/dashboardMessages';

test('panel requests are validated', () => {
  assert.deepEqual(parseDashboardRequest({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseDashboardRequest({ type: 'rendered', points: 10 }), { type: 'rendered', points: 10 });
  assert.equal(parseDashboardRequest({ type: 'rendered', points: 'many' }), undefined);
  assert.equal(parseDashboardRequest({ type: 'runCommand', command: 'rm -rf' }), undefined);
  assert.equal(parseDashboardRequest(null), undefined);
});

test('100,000 points decimate to a bounded message that keeps spikes', () => {
  const points = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: Math.sin(i / 1000) }));
  points[54_321].y = 50; // a spike must survive
  const out = decimate(points, 4000);
  assert.ok(out.length <= 4000);
  assert.ok(out.some((p) => p.y === 50));
  assert.ok(out.every((p, i) => i === 0 || p.x >= out[i - 1].x), 'x stays ordered');
  assert.equal(decimate(points.slice(0, 10), 4000).length, 10);
});
