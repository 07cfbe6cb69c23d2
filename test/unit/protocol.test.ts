import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBackend, parseHostMessage, parseTrainerMessage, PROTOCOL_VERSION, type EnvironmentReport } from '../../src/core/protocol';

const report: EnvironmentReport = {
  backend: 'wasm',
  requested: 'auto',
  fallbacks: [{ backend: 'tensorflow', error: 'not installed' }],
  tfjsVersion: '4.22.0',
  tfjsRoot: '/x',
  threads: 1,
  loadMs: 12.3,
  memory: { rssMB: 1, heapUsedMB: 1, systemTotalMB: 2, systemFreeMB: 1 },
  node: 'v20',
  platform: 'linux-x64',
  pid: 1,
};

const protocol = PROTOCOL_VERSION;

test('trainer messages are validated at the boundary', () => {
  assert.deepEqual(parseTrainerMessage({ type: 'done', protocol }), { ok: true, value: { type: 'done', protocol } });
  assert.ok(parseTrainerMessage({ type: 'environment', protocol, report }).ok);
  assert.equal(parseTrainerMessage({ type: 'environment', protocol, report: { ...report, backend: 'gpu' } }).ok, false);
  assert.equal(parseTrainerMessage({ type: 'log', protocol, level: 'debug', message: 'x' }).ok, false);
  assert.equal(parseTrainerMessage('done').ok, false);
  assert.equal(parseTrainerMessage(null).ok, false);
});

test('host messages are validated at the boundary', () => {
  const start = { type: 'start', protocol: PROTOCOL_VERSION, job: { kind: 'environment' }, options: { backend: 'auto' } };
  assert.deepEqual(parseHostMessage(start), { ok: true, value: start });
  assert.equal(parseHostMessage({ ...start, job: { kind: 'mine-bitcoin' } }).ok, false);
  assert.equal(parseHostMessage({ ...start, options: { backend: 'gpu' } }).ok, false);
  assert.equal(parseHostMessage({ ...start, options: { backend: 'auto', nativeBackendPath: 3 } }).ok, false);
  assert.deepEqual(parseHostMessage({ type: 'cancel', protocol }), { ok: true, value: { type: 'cancel', protocol } });
});

test('a fallback is never silent in the one-line description', () => {
  assert.match(describeBackend(report), /^backend wasm .*fell back because tensorflow: not installed$/);
  assert.doesNotMatch(describeBackend({ ...report, fallbacks: [] }), /fell back/);
});
