// Backend selection on this machine, for real. Under CI=true the native backend must load:
// a silent fallback to wasm/cpu would otherwise hide a broken native build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describeEnvironment, loadBackend } from '../../src/engine/backend';

const installRoot = path.resolve(__dirname, '../../..');

test('auto picks the first backend that loads and reports every fallback', async () => {
  const loaded = await loadBackend({ preference: 'auto', installRoot });
  const report = describeEnvironment(loaded, 'auto');
  process.stdout.write(`# backend in use: ${report.backend} (TensorFlow.js ${report.tfjsVersion}${report.tensorflowVersion ? `, TensorFlow ${report.tensorflowVersion}` : ''}, load ${Math.round(report.loadMs)} ms)\n`);
  const order = ['tensorflow', 'wasm', 'cpu'];
  assert.deepEqual(report.fallbacks.map((f) => f.backend), order.slice(0, order.indexOf(report.backend)));
  for (const f of report.fallbacks) assert.ok(f.error.length > 0);
  const sum = loaded.tf.tidy(() => loaded.tf.tensor1d([1, 2, 3]).sum().dataSync()[0]);
  assert.equal(sum, 6);
  if (process.env.CI === 'true') assert.equal(report.backend, 'tensorflow', `CI requires the native backend; fallbacks: ${JSON.stringify(report.fallbacks)}`);
});

test('a backend asked for explicitly does not fall back', async () => {
  await assert.rejects(
    loadBackend({ preference: 'tensorflow', installRoot: '/nonexistent-root', nativeBackendPath: '/also-missing' }),
    /No TensorFlow.js backend could be loaded \(tensorflow: @tensorflow\/tfjs-node not installed under \/also-missing, not installed under \/nonexistent-root/,
  );
});
