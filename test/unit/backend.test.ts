// Backend selection on this machine, for real. Under CI=true the native backend must load:
// a silent fallback to wasm/cpu would otherwise hide a broken native build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { describeEnvironment, loadBackend, oneDnnDecision } from '../../src/engine/backend';

const installRoot = path.resolve(__dirname, '../../..');

test('auto picks the first backend that loads and reports every fallback', async () => {
  const loaded = await loadBackend({ preference: 'auto', installRoot });
  const report = describeEnvironment(loaded, 'auto');
  process.stdout.write(
    `# backend in use: ${report.backend} (TensorFlow.js ${report.tfjsVersion}${report.tensorflowVersion ? `, TensorFlow ${report.tensorflowVersion}` : ''}, load ${Math.round(report.loadMs)} ms)\n`,
  );
  const order = ['tensorflow', 'wasm', 'cpu'];
  assert.deepEqual(
    report.fallbacks.map((f) => f.backend),
    order.slice(0, order.indexOf(report.backend)),
  );
  for (const f of report.fallbacks) assert.ok(f.error.length > 0);
  const sum = loaded.tf.tidy(() => loaded.tf.tensor1d([1, 2, 3]).sum().dataSync()[0]);
  assert.equal(sum, 6);
  if (process.env.CI === 'true') assert.equal(report.backend, 'tensorflow', `CI requires the native backend; fallbacks: ${JSON.stringify(report.fallbacks)}`);
});

test('a backend asked for explicitly does not fall back', async () => {
  await assert.rejects(
    loadBackend({ preference: 'tensorflow', installRoot: '/nonexistent-root', nativeBackendPath: '/also-missing' }),
    /No TensorFlow.js backend could be loaded \(tensorflow: native TensorFlow \(@tensorflow\/tfjs-node\) is not installed \(not installed under \/also-missing; not installed under \/nonexistent-root\): run "Transfer Lab: Install Native Backend"/,
  );
});

test('oneDNN: off where the CPU hides its cache sizes, on otherwise; a setting in the environment wins', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cache-'));
  assert.equal(oneDnnDecision({ TF_ENABLE_ONEDNN_OPTS: '0' }, dir).enabled, false);
  assert.equal(oneDnnDecision({ TF_ENABLE_ONEDNN_OPTS: '1' }, '/no/such/dir').enabled, true);
  assert.equal(oneDnnDecision({}, dir).enabled, true);
  if (process.platform === 'linux' && process.arch === 'x64') {
    const off = oneDnnDecision({}, '/no/such/dir');
    assert.equal(off.enabled, false);
    assert.match(off.reason, /does not report its cache sizes.*TF_ENABLE_ONEDNN_OPTS=1/);
  }
  fs.rmSync(dir, { recursive: true });
});

// The convolution that kills oneDNN on such CPUs (a 1x1 convolution to 1,024 channels, as in
// MobileNet v1's last block) in a fresh process that loads the backend our way: the CLI's env.
test('the native backend survives the convolution that crashes oneDNN on CPUs hiding their caches', () => {
  const env = { ...process.env };
  delete env.TF_ENABLE_ONEDNN_OPTS;
  const probe = spawnSync(process.execPath, [path.join(installRoot, 'dist/cli.js'), 'env', '--json'], { encoding: 'utf8', env });
  assert.equal(probe.signal, null, `transfer-lab env died of ${probe.signal}: ${probe.stderr.slice(-500)}`);
  assert.equal(probe.status, 0, probe.stderr.slice(-500));
  const report = JSON.parse(probe.stdout.trim().split('\n').at(-1)!);
  process.stdout.write(
    `# ${report.backend}, oneDNN ${report.oneDnn ? (report.oneDnn.enabled ? 'on' : `off: ${report.oneDnn.reason}`) : 'n/a'}, kernel self-check ${Math.round(report.kernels.ms)} ms\n`,
  );
  assert.equal(report.kernels.ok, true);
});
