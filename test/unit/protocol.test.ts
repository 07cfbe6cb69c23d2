import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeBackend, parseHostMessage, parseTrainerMessage, PROTOCOL_VERSION } from '../../src/core/protocol';
import { wasmEnvironment } from '../fixtures/environmentReport';

const report = wasmEnvironment;

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

test('the probe job names its experiment and where probe.json goes (null: nowhere)', () => {
  const job = { kind: 'probe', experimentFile: '/w/a.tlexp.json', probesDir: null, cacheDir: '/c' };
  const start = { type: 'start', protocol, job, options: { backend: 'auto' } };
  assert.ok(parseHostMessage(start).ok);
  assert.ok(parseHostMessage({ ...start, job: { ...job, probesDir: '/w/.transferlab/probes', backbone: { catalog: 'fmnist-mini' }, maxPerClass: 8 } }).ok);
  assert.equal(parseHostMessage({ ...start, job: { ...job, probesDir: undefined } }).ok, false);
  assert.equal(parseHostMessage({ ...start, job: { ...job, maxPerClass: -1 } }).ok, false);
  assert.ok(parseTrainerMessage({ type: 'probe-progress', protocol, message: 'block 2 of 5', done: 2, total: 5 }).ok);
  assert.equal(parseTrainerMessage({ type: 'probe', protocol, probe: { format: 'nope' } }).ok, false);
});
