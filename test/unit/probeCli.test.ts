// transfer-lab probe on tiny data with the native backend: the table by depth lines up with
// Show Layers' blocks, probe.json parses with its schema, --backbones ranks backbones by
// LogME, --json is one parseable object, and bad input exits 2 naming what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseProbeFile } from '../../src/core/probeFile';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const root = path.resolve(__dirname, '../../..');
const cli = path.join(root, 'dist', 'cli.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-probe-'));
const cache = path.join(work, 'cache');
copyShippedDataset(path.join(work, 'data'), { train: 6, val: 4 }, root);
writeTinyExperiment(path.join(work, 'tiny.tlexp.json'));

function tl(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args, '--cache-dir', cache], { cwd: work, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('probe prints accuracy and LogME per block of fmnist-mini and writes probe.json', () => {
  const r = tl('probe', 'tiny.tlexp.json');
  assert.equal(r.code, 0, r.stderr);
  // The blocks Show Layers groups fmnist-mini into, then its cut layer.
  const blocks = r.stdout
    .split('\n')
    .filter((l) => /^\S+\s+\[\d/.test(l))
    .map((l) => l.split(/\s+/)[0]);
  assert.deepEqual(blocks, ['stem', 'block_1', 'block_2', 'block_3', 'block_4', 'block_5', 'top', 'out_relu']);
  assert.match(r.stdout, /measured: probe accuracy .* 6 images per class/);
  assert.match(r.stdout, /recommended: /);
  const file = path.join(work, '.transferlab', 'probes', 'tiny-fmnist-mini.json');
  const parsed = parseProbeFile(fs.readFileSync(file, 'utf8'), file);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  const p = parsed.value;
  assert.equal(p.dataset.train, 30);
  assert.equal(p.dataset.val, 20);
  assert.equal(p.blocks.at(-1)!.layer, 'out_relu');
  for (const b of p.blocks) {
    assert.equal(b.accuracyOn, 'val');
    assert.ok(Number.isFinite(b.logme));
    // Accuracies are fractions of the 20 validation images.
    assert.ok(Math.abs(b.accuracy * 20 - Math.round(b.accuracy * 20)) < 1e-9);
  }
  assert.deepEqual(
    p.blocks.map((b) => b.features),
    [24, 48, 64, 96, 128, 192, 256, 256],
  );
  assert.equal(p.score.logme, Math.max(...p.blocks.map((b) => b.logme)));
});

test('probe --backbones ranks by score; --json is one object; --max-per-class caps the training images', () => {
  const r = tl('probe', 'tiny.tlexp.json', '--backbones', 'fmnist-mini', '--max-per-class', '3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { probes: { dataset: { train: number; maxPerClass?: number }; file: string }[]; ranking: string[] };
  assert.deepEqual(out.ranking, ['fmnist-mini']);
  assert.equal(out.probes[0].dataset.train, 15);
  assert.equal(out.probes[0].dataset.maxPerClass, 3);
  assert.ok(fs.existsSync(out.probes[0].file));
});

test('probe: bad input exits 2 and says what is wrong', () => {
  assert.equal(tl('probe').code, 2);
  const zero = tl('probe', 'tiny.tlexp.json', '--max-per-class', '0');
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--max-per-class: must be a positive integer/);
  const missing = tl('probe', 'missing.tlexp.json');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing\.tlexp\.json.*cannot read the experiment file/);
  const unknown = tl('probe', 'tiny.tlexp.json', '--backbones', path.join(work, 'nope', 'model.json'));
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /nope/);
});
