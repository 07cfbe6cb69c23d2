// The oneDNN policy (engine/oneDnnPolicy.ts): the decision per machine and model, and the
// verdict file it remembers crashes in, on real temporary folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  backboneKey,
  countOffOnMachine,
  cpuHidesCaches,
  decideOneDnn,
  machineKey,
  modelKeyOf,
  readVerdicts,
  recordOffVerdict,
  verdictFileOf,
  type VerdictStore,
} from '../../src/engine/oneDnnPolicy';

const none: VerdictStore = { version: 1, verdicts: [] };
const hidden = '/no/such/cpu0/cache';
const linuxX64 = process.platform === 'linux' && process.arch === 'x64' && fs.existsSync('/sys/devices/system/cpu/cpu0');

test('oneDNN stays on for a model with no verdict, even where the CPU hides its caches, and says why', () => {
  const reported = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cache-'));
  assert.deepEqual(decideOneDnn({ env: {}, verdicts: none, model: 'catalog:mobilenet_v2', cacheDir: reported }), {
    enabled: true,
    source: 'default',
    reason: 'default',
  });
  const onHidden = decideOneDnn({ env: {}, verdicts: none, model: 'catalog:mobilenet_v2', cacheDir: hidden });
  assert.equal(onHidden.enabled, true);
  if (linuxX64) {
    assert.equal(cpuHidesCaches(hidden), true);
    assert.match(onHidden.reason, /does not report its cache sizes.*retried once with oneDNN off/);
    assert.match(machineKey(hidden), /caches hidden$/);
    assert.match(machineKey(reported), /caches reported$/);
  }
  fs.rmSync(reported, { recursive: true });
});

test('a remembered crash turns oneDNN off for that model on that machine only, naming when and why', () => {
  const machine = machineKey();
  const verdicts: VerdictStore = {
    version: 1,
    verdicts: [{ machine, model: 'catalog:mobilenet_v1', oneDnn: 'off', signal: 'SIGFPE', at: '2026-11-30T10:00:00.000Z' }],
  };
  const off = decideOneDnn({ env: {}, verdicts, machine, model: 'catalog:mobilenet_v1' });
  assert.equal(off.enabled, false);
  assert.equal(off.source, 'verdict');
  assert.equal(off.reason, 'oneDNN crashed this model on this machine (SIGFPE) on 2026-11-30; Transfer Lab runs it with oneDNN off');
  assert.equal(decideOneDnn({ env: {}, verdicts, machine, model: 'catalog:mobilenet_v2' }).enabled, true, 'another model');
  assert.equal(decideOneDnn({ env: {}, verdicts, machine: `${machine} (another)`, model: 'catalog:mobilenet_v1' }).enabled, true, 'another machine');
  assert.equal(countOffOnMachine(verdicts, machine), 1);
  assert.equal(countOffOnMachine(verdicts, 'elsewhere'), 0);
});

test("the user's TF_ENABLE_ONEDNN_OPTS wins over the policy and a verdict", () => {
  const machine = 'm';
  const verdicts: VerdictStore = { version: 1, verdicts: [{ machine, model: 'x', oneDnn: 'off', signal: 'SIGFPE', at: '2026-11-30T10:00:00.000Z' }] };
  const forcedOn = decideOneDnn({ env: { TF_ENABLE_ONEDNN_OPTS: '1' }, verdicts, machine, model: 'x' });
  assert.deepEqual([forcedOn.enabled, forcedOn.source], [true, 'environment']);
  const forcedOff = decideOneDnn({ env: { TF_ENABLE_ONEDNN_OPTS: 'false' }, verdicts: none, machine, model: 'x', cacheDir: hidden });
  assert.deepEqual([forcedOff.enabled, forcedOff.source, forcedOff.reason], [false, 'environment', 'TF_ENABLE_ONEDNN_OPTS=false in the environment']);
  // The host's retry runs with TF_ENABLE_ONEDNN_OPTS=0: the remembered crash says why.
  assert.match(
    decideOneDnn({ env: { TF_ENABLE_ONEDNN_OPTS: '0' }, verdicts, machine, model: 'x' }).reason,
    /^TF_ENABLE_ONEDNN_OPTS=0 in the environment; oneDNN crashed this model/,
  );
  assert.equal(decideOneDnn({ env: { TF_ENABLE_ONEDNN_OPTS: '' }, verdicts: none, machine, model: 'x' }).source, 'default', 'an empty value is unset');
});

test('verdicts are written atomically, kept per machine and model, and survive concurrent writes and a damaged file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-verdicts-'));
  const file = verdictFileOf(path.join(dir, 'native'));
  assert.equal(path.basename(file), 'onednn-verdicts.json');
  assert.deepEqual(await readVerdicts(file), none, 'no file: no verdicts');
  const at = new Date('2026-12-01T08:00:00Z');
  await Promise.all([
    recordOffVerdict(file, { machine: 'a', model: 'catalog:one', signal: 'SIGFPE', at }),
    recordOffVerdict(file, { machine: 'a', model: 'catalog:two', signal: 'SIGFPE', at }),
    recordOffVerdict(file, { machine: 'b', model: 'catalog:one', signal: 'SIGFPE', at }),
  ]);
  await recordOffVerdict(file, { machine: 'a', model: 'catalog:one', signal: 'SIGFPE', at: new Date('2026-12-02T08:00:00Z') });
  const store = await readVerdicts(file);
  assert.equal(store.verdicts.length, 3, 'one entry per machine and model');
  assert.equal(countOffOnMachine(store, 'a'), 2);
  assert.equal(store.verdicts.find((v) => v.machine === 'a' && v.model === 'catalog:one')?.at, '2026-12-02T08:00:00.000Z');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), ['onednn-verdicts.json'], 'no temporary files left');
  fs.writeFileSync(file, '{ not json');
  assert.deepEqual(await readVerdicts(file), none, 'a damaged file forgets, it does not throw');
  await recordOffVerdict(file, { machine: 'a', model: 'catalog:one', signal: 'SIGFPE' });
  assert.equal((await readVerdicts(file)).verdicts.length, 1, 'and is replaced by the next verdict');
  fs.rmSync(dir, { recursive: true });
});

test("a job's model key: the run's backbone, an inspected backbone, a prediction target, the self-check", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-modelkey-'));
  const write = (name: string, text: string) => (fs.writeFileSync(path.join(dir, name), text), path.join(dir, name));
  const run = (file: string) => ({ kind: 'run' as const, experimentFile: file, runsDir: dir, cacheDir: dir });
  assert.equal(await modelKeyOf(run(write('a.tlexp.json', JSON.stringify({ backbone: { catalog: 'mobilenet_v2', cutAt: 'x' } })))), 'catalog:mobilenet_v2');
  assert.equal(await modelKeyOf(run(write('b.tlexp.json', JSON.stringify({ backbone: { path: 'models/net' } })))), `path:${path.join(dir, 'models/net')}`);
  assert.equal(
    await modelKeyOf(run(write('c.tlexp.json', JSON.stringify({ backbone: { url: 'https://example.com/m.json' } })))),
    'url:https://example.com/m.json',
  );
  assert.equal(await modelKeyOf(run(write('d.tlexp.json', '{ broken'))), `experiment:${path.join(dir, 'd.tlexp.json')}`);
  assert.equal(await modelKeyOf(run(path.join(dir, 'missing.tlexp.json'))), `experiment:${path.join(dir, 'missing.tlexp.json')}`);
  assert.equal(await modelKeyOf({ kind: 'inspect', backbone: { path: 'net' }, baseDir: dir, cacheDir: dir }), backboneKey({ path: 'net' }, dir));
  assert.equal(await modelKeyOf({ kind: 'predict', target: dir, images: [], cacheDir: dir }), `model:${dir}`);
  assert.equal(await modelKeyOf({ kind: 'environment' }), 'self-check');
  fs.rmSync(dir, { recursive: true });
});
