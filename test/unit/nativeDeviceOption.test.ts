// The CLI's --device / TRANSFER_LAB_NATIVE_DEVICE, and `transfer-lab env` saying which build and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { nativeDeviceOption, NATIVE_DEVICE_ENV } from '../../src/cli/nativeDeviceOption';
import { parseArgs } from '../../src/cli/args';

const installRoot = path.resolve(__dirname, '../../..');

test('--device wins over TRANSFER_LAB_NATIVE_DEVICE, which wins over auto; a wrong value names its source', () => {
  assert.deepEqual(nativeDeviceOption(undefined, {}), { device: 'auto', setBy: '--device' });
  assert.deepEqual(nativeDeviceOption(undefined, { [NATIVE_DEVICE_ENV]: 'cpu' }), { device: 'cpu', setBy: NATIVE_DEVICE_ENV });
  assert.deepEqual(nativeDeviceOption('gpu', { [NATIVE_DEVICE_ENV]: 'cpu' }), { device: 'gpu', setBy: '--device' });
  assert.deepEqual(nativeDeviceOption(undefined, { [NATIVE_DEVICE_ENV]: ' ' }), { device: 'auto', setBy: '--device' });
  assert.throws(() => nativeDeviceOption('cuda', {}), /--device: 'cuda' is not one of auto, cpu, gpu/);
  assert.throws(() => nativeDeviceOption(undefined, { [NATIVE_DEVICE_ENV]: 'GPU0' }), /TRANSFER_LAB_NATIVE_DEVICE: 'GPU0' is not one of auto, cpu, gpu/);
});

test('every command that takes --backend takes --device; the others do not', () => {
  assert.equal(parseArgs(['--device', 'cpu'], 'env').options.get('device'), 'cpu');
  assert.equal(parseArgs(['x.tlexp.json', '--device', 'gpu'], 'run').options.get('device'), 'gpu');
  assert.throws(() => parseArgs(['--device', 'cpu'], 'catalog'), /unknown option '--device'/);
});

test('transfer-lab env --device cpu reports the CPU build and why', (t) => {
  const env = { ...process.env, [NATIVE_DEVICE_ENV]: 'gpu' };
  const r = spawnSync(process.execPath, [path.join(installRoot, 'dist/cli.js'), 'env', '--json', '--backend', 'tensorflow', '--device', 'cpu'], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0 && process.env.CI !== 'true') return t.skip(`native TensorFlow is not set up here: ${r.stderr.slice(-300)}`);
  assert.equal(r.status, 0, r.stderr.slice(-500));
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.deepEqual(
    [report.nativeDevice.requested, report.nativeDevice.build, report.nativeDevice.reason],
    ['cpu', 'cpu', '--device is "cpu": using the CPU build'],
  );
  const line = spawnSync(process.execPath, [path.join(installRoot, 'dist/cli.js'), 'env', '--backend', 'tensorflow'], {
    encoding: 'utf8',
    env: { ...process.env, [NATIVE_DEVICE_ENV]: 'gpu' },
  });
  // No GPU build in this clone: "gpu" is an error that says what to do.
  if (!line.stdout.includes(', GPU ')) assert.match(line.stderr + line.stdout, /TRANSFER_LAB_NATIVE_DEVICE is "gpu" but no GPU build is installed/);
});
