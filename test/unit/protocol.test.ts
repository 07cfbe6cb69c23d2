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

test('trainer messages are validated at the boundary', () => {
  assert.deepEqual(parseTrainerMessage({ type: 'done' }), { type: 'done' });
  assert.ok(parseTrainerMessage({ type: 'environment', report }));
  assert.equal(parseTrainerMessage({ type: 'environment', report: { ...report, backend: 'gpu' } }), undefined);
  assert.equal(parseTrainerMessage({ type: 'log', level: 'debug', message: 'x' }), undefined);
  assert.equal(parseTrainerMessage('done'), undefined);
  assert.equal(parseTrainerMessage(null), undefined);
});

test('host messages are validated at the boundary', () => {
  const start = { type: 'start', protocol: PROTOCOL_VERSION, job: { kind: 'environment' }, options: { backend: 'auto' } };
  assert.deepEqual(parseHostMessage(start), start);
  assert.equal(parseHostMessage({ ...start, job: { kind: 'mine-bitcoin' } }), undefined);
  assert.equal(parseHostMessage({ ...start, options: { backend: 'gpu' } }), undefined);
  assert.equal(parseHostMessage({ ...start, options: { backend: 'auto', nativeBackendPath: 3 } }), undefined);
  assert.deepEqual(parseHostMessage({ type: 'cancel' }), { type: 'cancel' });
});

test('a fallback is never silent in the one-line description', () => {
  assert.match(describeBackend(report), /^backend wasm .*fell back because tensorflow: not installed$/);
  assert.doesNotMatch(describeBackend({ ...report, fallbacks: [] }), /fell back/);
});
