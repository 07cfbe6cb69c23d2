// The transfer-lab command line as a user runs it: exit codes 0 / 1 / 2, --json events,
// scaffold, run, inspect and predict on the shipped backbone and demo images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cli-'));
const cache = path.join(work, 'cache');

function tl(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args, '--cache-dir', cache], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('scaffold makes class folders; bad arguments exit 2', () => {
  const r = tl('scaffold', 'pets', '--classes', 'cat,dog');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(fs.statSync(path.join(work, 'pets', 'cat')).isDirectory());
  assert.equal(tl('scaffold', 'x').code, 2);
  assert.equal(tl('frobnicate').code, 2);
  assert.equal(tl('run').code, 2);
});

test('run --json streams one event per line and writes a run; predict uses its model', () => {
  const exp = {
    name: 'cli-fe',
    data: { dir: path.join(root, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 2, batchSize: 16 },
  };
  fs.writeFileSync(path.join(work, 'cli.tlexp.json'), JSON.stringify(exp));
  const r = tl('run', 'cli.tlexp.json', '--json', '--runs-dir', 'runs');
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events[0].type, 'phase');
  const started = events.find((e) => e.type === 'run-started');
  assert.ok(started && fs.existsSync(path.join(started.runDir, 'run.json')));
  assert.equal(events.at(-1).type, 'finished');
  assert.equal(events.at(-1).status, 'succeeded');
  const image = path.join(root, 'media/datasets/fashion-target/test/sandal', fs.readdirSync(path.join(root, 'media/datasets/fashion-target/test/sandal'))[0]);
  const p = tl('predict', started.runDir, image, '--json');
  assert.equal(p.code, 0, p.stderr);
  const prediction = JSON.parse(p.stdout);
  assert.equal(prediction.top.length, 3);
  assert.ok(['ankle-boot', 'coat', 'sandal', 'shirt', 'sneaker'].includes(prediction.top[0].label));
  assert.equal(tl('predict', started.runDir, path.join(work, 'missing.png')).code, 2);
});

test('a bad experiment file exits 2 naming the field; inspect prints the layer table', () => {
  fs.writeFileSync(path.join(work, 'bad.tlexp.json'), JSON.stringify({ name: 'bad', data: { dir: 'x' }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' }, train: { epochs: -3 } }));
  const r = tl('run', 'bad.tlexp.json');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.tlexp\.json.*train\.epochs: must be a positive integer, got -3/);
  const inspect = tl('inspect', 'fmnist-mini');
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /block_5_dw/);
  assert.match(inspect.stdout, /out_relu/);
});

test('a run that fails after it started exits 1 with the reason', () => {
  const exp = {
    name: 'badcut',
    data: { dir: path.join(root, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini', cutAt: 'nope' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 1, batchSize: 16 },
  };
  fs.writeFileSync(path.join(work, 'badcut.tlexp.json'), JSON.stringify(exp));
  const r = tl('run', 'badcut.tlexp.json', '--runs-dir', 'runs');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /backbone\.cutAt: the backbone has no layer 'nope'/);
});
