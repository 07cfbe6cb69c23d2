// The transfer-lab command line as a user runs it: exit codes 0 / 1 / 2, --json events,
// scaffold, run, inspect and predict on the shipped backbone and demo images; output far
// larger than a pipe's buffer arrives whole; the backbone loader's notes reach the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { saveLayersModel } from '../fixtures/layersModel';

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

test("each command takes only its own options: another command's or a malformed number is a usage error naming it", () => {
  const top = tl('run', 'x.tlexp.json', '--top', '3');
  assert.equal(top.code, 2);
  assert.match(top.stderr, /run: unknown option '--top' \(run takes --runs-dir, --backend, --cache-dir, --device, --json\)/);
  const seed = tl('scaffold', 'split', '--split-from', 'pets', '--seed', 'abc');
  assert.equal(seed.code, 2);
  assert.match(seed.stderr, /--seed: must be an integer, got 'abc'/);
  const k = tl('predict', 'run', 'a.png', '--top', '2.5');
  assert.equal(k.code, 2);
  assert.match(k.stderr, /--top: must be a positive integer, got '2\.5'/);
  const missing = tl('inspect', 'm.keras', '--cut-at');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /inspect: Option '--cut-at( <value>)?' argument (missing|is ambiguous)/);
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
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
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
  fs.writeFileSync(
    path.join(work, 'bad.tlexp.json'),
    JSON.stringify({ name: 'bad', data: { dir: 'x' }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' }, train: { epochs: -3 } }),
  );
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

/** The CLI with stdout and stderr as pipes, read to the end (as `transfer-lab ... | cat` does). */
function tlPiped(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args, '--cache-dir', cache], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    // A slow reader: the pipe fills (64 KiB) long before the command ends.
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 2);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A model whose `inspect --json` is far over 200 KB: many 1x1 convolutions with long names. */
async function bigModel(): Promise<string> {
  await loadBackend({ preference: 'auto', installRoot: root });
  const t = tf();
  const input = t.input({ shape: [8, 8, 3], name: 'input_1' });
  let x: tfTypes.SymbolicTensor = input;
  for (let i = 0; i < 1200; i++) {
    x = t.layers
      .conv2d({ filters: 3, kernelSize: 1, name: `projection_in_a_deliberately_long_block_name_${String(i).padStart(4, '0')}` })
      .apply(x) as tfTypes.SymbolicTensor;
  }
  const model = t.model({ inputs: input, outputs: x, name: 'big' });
  const file = await saveLayersModel(model, path.join(work, 'big'));
  model.dispose();
  return file;
}

test("inspect --json of a model far over 200 KB reaches a pipe whole and exits 0; the loader's notes go to stderr and the JSON", async () => {
  const modelJson = await bigModel();
  const r = await tlPiped('inspect', modelJson, '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Buffer.byteLength(r.stdout) > 200_000, `${Buffer.byteLength(r.stdout)} bytes`);
  assert.ok(r.stdout.endsWith('\n'));
  const parsed = JSON.parse(r.stdout) as { layers: { name: string }[]; notes: string[] };
  assert.equal(parsed.layers.length, 1201);
  // A model.json without preprocessing metadata: what the loader assumed is said.
  assert.ok(parsed.notes.length > 0, 'notes in the JSON');
  for (const note of parsed.notes) assert.ok(r.stderr.includes(`note: ${note}`), `stderr says: ${note}`);
  // The table too, and a missing model is bad input (2).
  const table = await tlPiped('inspect', modelJson);
  assert.equal(table.code, 0, table.stderr);
  assert.ok(table.stdout.trimEnd().endsWith('1199'.padStart(4, '0')) || table.stdout.includes('projection_in_a_deliberately_long_block_name_1199'));
  assert.equal((await tlPiped('inspect', path.join(work, 'missing', 'model.json'))).code, 2);
});

test("run: the loader's notes are on stderr (as JSON events with --json) and in run.json; a failure inside TensorFlow.js exits 1 without its internal message", async () => {
  await loadBackend({ preference: 'auto', installRoot: root });
  const t = tf();
  const input = t.input({ shape: [16, 16, 3], name: 'input_1' });
  const y = t.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu', name: 'conv' }).apply(input) as tfTypes.SymbolicTensor;
  const model = t.model({ inputs: input, outputs: y });
  const modelJson = await saveLayersModel(model, path.join(work, 'small'));
  model.dispose();
  const exp = {
    name: 'notes',
    data: { dir: path.join(root, 'media/datasets/fashion-target') },
    backbone: { path: modelJson },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 1, batchSize: 16 },
  };
  fs.writeFileSync(path.join(work, 'notes.tlexp.json'), JSON.stringify(exp));
  const r = await tlPiped('run', 'notes.tlexp.json', '--runs-dir', 'runs-notes');
  assert.equal(r.code, 0, r.stderr);
  const runDir = /run folder: (.+)/.exec(r.stderr)![1].trim();
  const notes = (JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { notes?: string[] }).notes ?? [];
  assert.ok(notes.length > 0, 'notes in run.json');
  const log = fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8');
  for (const note of notes) {
    assert.ok(r.stderr.includes(`warning: ${note}`), `stderr says: ${note}`);
    assert.ok(log.includes(note), `log.txt has: ${note}`);
  }
  const json = await tlPiped('run', 'notes.tlexp.json', '--runs-dir', 'runs-notes', '--json');
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; message?: string });
  for (const note of notes)
    assert.ok(
      events.some((e) => e.type === 'warning' && e.message === note),
      `a warning event: ${note}`,
    );
  assert.ok(!notes.some((n) => json.stderr.includes(n)), 'with --json, stdout carries them (stderr stays quiet)');

  // Any image size at load (so the loader picks 224x224), a Reshape that only fits 32x32: it
  // fails inside TensorFlow.js while the frozen base runs.
  const anySize = t.input({ shape: [null, null, 3], name: 'input_1' });
  let z = t.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'conv' }).apply(anySize) as tfTypes.SymbolicTensor;
  z = t.layers.reshape({ targetShape: [16 * 16 * 4], name: 'flatten_for_32px' }).apply(z) as tfTypes.SymbolicTensor;
  const broken = t.model({ inputs: anySize, outputs: z });
  const brokenJson = await saveLayersModel(broken, path.join(work, 'broken'));
  broken.dispose();
  fs.writeFileSync(path.join(work, 'broken.tlexp.json'), JSON.stringify({ ...exp, name: 'broken', backbone: { path: brokenJson } }));
  const failed = await tlPiped('run', 'broken.tlexp.json', '--runs-dir', 'runs-broken');
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /failed: Running the frozen base on the images failed at layer 'flatten_for_32px' \(Reshape\) with an internal error\./);
  assert.match(failed.stderr, /backbone\.cutAt/);
  assert.doesNotMatch(failed.stderr, /Error in reshape|Cannot read properties|TF_Status|\n\s+at /);
  const failedDir = /run folder: (\S+)/.exec(failed.stderr)![1];
  assert.match(fs.readFileSync(path.join(failedDir, 'log.txt'), 'utf8'), /reshape[\s\S]*\n\s+at /i, 'the internal error and its stack are in log.txt');
});

test('catalog lists every entry offline: bundled, or not downloaded yet with its size; --json for scripts', () => {
  const r = tl('catalog');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fmnist-mini +layers +32x32 .* zero-one .* bundled$/m);
  assert.match(r.stdout, /^mobilenet_v2_1\.00_224 +layers +224x224 +2\.3M +tf +yes +not downloaded yet \(needs internet, \d+(\.\d)? MB\)$/m);
  assert.match(r.stdout, /^mobilenet_v3_small_100_224_feature_vector +graph .* no \(feature extraction\)/m);
  const json = tl('catalog', '--json');
  assert.equal(json.code, 0, json.stderr);
  const rows = JSON.parse(json.stdout) as { id: string; availability: string; preprocessing: string }[];
  assert.ok(rows.length > 20);
  assert.deepEqual(
    rows.find((x) => x.id === 'fmnist-mini'),
    { ...rows.find((x) => x.id === 'fmnist-mini'), availability: 'bundled', preprocessing: 'zero-one' },
  );
  assert.equal(rows.find((x) => x.id === 'mobilenet_v1_1.0_224')?.availability, 'download');
  assert.equal(tl('catalog', 'extra').code, 2);
});

test('study: a mistyped grid is a usage error saying what to write; a size beyond the smallest class names it; a small study prints the table', () => {
  assert.match(tl('study').stderr, /study: which experiment\?/);
  const ten = tl('study', 'x.tlexp.json', '--per-class', '5,ten');
  assert.equal(ten.code, 2);
  assert.match(ten.stderr, /--per-class: 'ten' is not a number of images per class/);
  assert.match(tl('study', 'x.tlexp.json', '--strategies', 'scratch,finetune').stderr, /'finetune' is not a strategy \(did you mean fine-tune\?\)/);
  assert.match(tl('study', '--resume', 'd', '--seeds', '3').stderr, /study --resume: the study keeps its own grid/);
  assert.match(tl('study', 'x.tlexp.json', '--target', '170').stderr, /--target: a validation accuracy from 0 to 1/);
  const exp = {
    name: 'cli-study',
    data: { dir: path.join(root, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 2, batchSize: 16 },
  };
  fs.writeFileSync(path.join(work, 'study.tlexp.json'), JSON.stringify(exp));
  const big = tl('study', 'study.tlexp.json', '--per-class', '5,500', '--runs-dir', 'study-runs');
  assert.equal(big.code, 2);
  assert.match(big.stderr, /study\.tlexp\.json: data\.dir: --per-class 500: class '[\w-]+' has only 20 training images\. Use sizes up to 20/);
  assert.ok(!fs.existsSync(path.join(work, 'study-runs', 'studies')), 'no study folder for a grid that cannot run');
  const r = tl('study', 'study.tlexp.json', '--per-class', '2', '--seeds', '1', '--strategies', 'feature-extraction', '--runs-dir', 'study-runs');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^feature-extraction\s+2\s+1\s+\d+\.\d% ± 0\.0/m);
  assert.match(r.stdout, /Nothing to compare/);
  assert.match(r.stderr, /\[1\/1\] feature-extraction, 2 per class \(10 images\), seed 1: test/);
  const [id] = fs.readdirSync(path.join(work, 'study-runs', 'studies'));
  const study = JSON.parse(fs.readFileSync(path.join(work, 'study-runs', 'studies', id, 'study.json'), 'utf8'));
  assert.equal(study.cells[0].status, 'completed');
  assert.equal(study.experiment, path.join('..', '..', '..', 'study.tlexp.json'));
});
