// The extension host's one disk worker (src/extension/offThread.ts + diskWorker.ts, as built to
// dist/): every task answered by the blocking code the CLI shares, replies matched to their
// requests, failures and shutdown rejecting what waits, and the thread started once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OffThread } from '../../src/extension/offThread';
import { indexDataset } from '../../src/core/datasetIndex';
import { catalogListing } from '../../src/cli/catalogCommand';
import { findCatalogEntry } from '../../src/core/backboneCatalog';
import { KERAS_WEIGHTS_ENV } from '../../src/engine/download/kerasWeights';

const repo = path.resolve(__dirname, '../../..');
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-offthread-'));
after(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const OPTS = { split: { val: 0.2, test: 0.1 }, seed: 42 };

/** A dataset folder with `counts[cls]` images per class. */
function dataset(name: string, counts: Record<string, number>): string {
  const root = path.join(tmpRoot, name);
  for (const [cls, n] of Object.entries(counts)) {
    fs.mkdirSync(path.join(root, cls), { recursive: true });
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(root, cls, `${cls}_${i}.png`), PNG);
  }
  return root;
}

function worker(t: { after: (fn: () => void) => void }): OffThread {
  const w = OffThread.forExtension(repo);
  t.after(() => w.dispose());
  return w;
}

test('a dataset check answers the problems and the counts per class, not the file lists', async (t) => {
  const disk = worker(t);
  const dir = dataset('ok', { cats: 10, dogs: 12 });
  const reply = await disk.checkDataset(dir, OPTS);
  const direct = indexDataset(dir, OPTS);
  assert.ok(direct.ok);
  assert.equal(reply.missing, false);
  assert.deepEqual(reply.errors, []);
  assert.deepEqual(reply.index, { classes: ['cats', 'dogs'], counts: direct.value.counts });
  assert.equal(reply.index.counts.cats.train + reply.index.counts.cats.val + reply.index.counts.cats.test, 10);
  assert.ok(!('items' in reply.index), 'no file lists come back');
});

test('a missing folder is said to be missing; an invalid dataset gets its errors', async (t) => {
  const disk = worker(t);
  assert.deepEqual(await disk.checkDataset(path.join(tmpRoot, 'nope'), OPTS), { missing: true, errors: [], warnings: [] });
  const one = dataset('one-class', { cats: 5 });
  const reply = await disk.checkDataset(one, OPTS);
  const direct = indexDataset(one, OPTS);
  assert.ok(!direct.ok);
  assert.equal(reply.missing, false);
  assert.equal(reply.index, undefined);
  assert.deepEqual(reply.errors, direct.errors);
  assert.ok(reply.errors.length > 0);
});

test('the index task answers what indexDataset returns, file lists included', async (t) => {
  const disk = worker(t);
  const dir = dataset('indexed', { a: 4, b: 6 });
  assert.deepEqual(await disk.run({ task: 'index', dir, opts: OPTS }), indexDataset(dir, OPTS));
});

test("the catalog task answers each entry's availability, as the CLI lists it, and its download URL", async (t) => {
  const disk = worker(t);
  const cacheDir = path.join(tmpRoot, 'cache');
  const listing = await disk.run({ task: 'catalog', cacheDir });
  assert.deepEqual(
    listing.map(([id, availability]) => [id, availability]),
    catalogListing(cacheDir).map((l) => [l.id, l.availability]),
  );
  assert.ok(listing.some(([, a]) => a === 'bundled'));
  assert.ok(listing.some(([, a]) => a === 'download'));
  const urlOf = (id: string) => listing.find(([i]) => i === id)?.[2];
  assert.equal(urlOf('fmnist-mini'), null, 'bundled: nothing to download');
  const b0 = findCatalogEntry('efficientnet_b0');
  assert.ok(b0?.source.kind === 'keras-application');
  assert.equal(urlOf('efficientnet_b0'), b0.source.weights.url);
});

test('the download URLs come from the Keras weights override manifest, read in the worker', async (t) => {
  const manifest = path.join(tmpRoot, 'weights.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      efficientnet_b0: { url: 'http://127.0.0.1:9/b0.h5', sha256: 'a'.repeat(64) },
      convnext_tiny: { path: 'tiny.h5', sha256: 'b'.repeat(64) },
    }),
  );
  process.env[KERAS_WEIGHTS_ENV] = manifest; // the worker's environment is a copy made when it starts
  const disk = worker(t);
  try {
    const listing = await disk.run({ task: 'catalog', cacheDir: path.join(tmpRoot, 'cache') });
    const urlOf = (id: string) => listing.find(([i]) => i === id)?.[2];
    assert.equal(urlOf('efficientnet_b0'), 'http://127.0.0.1:9/b0.h5');
    assert.equal(urlOf('convnext_tiny'), null, 'a local file needs no network');
  } finally {
    delete process.env[KERAS_WEIGHTS_ENV];
  }
});

test('a manifest that cannot be read leaves the catalog answered, with the catalog URLs (the run reports the manifest)', async (t) => {
  const manifest = path.join(tmpRoot, 'broken-weights.json');
  fs.writeFileSync(manifest, '{ not json');
  process.env[KERAS_WEIGHTS_ENV] = manifest;
  const disk = worker(t);
  try {
    const listing = await disk.run({ task: 'catalog', cacheDir: path.join(tmpRoot, 'cache') });
    const b0 = findCatalogEntry('efficientnet_b0');
    assert.ok(b0?.source.kind === 'keras-application');
    assert.equal(listing.find(([i]) => i === 'efficientnet_b0')?.[2], b0.source.weights.url);
  } finally {
    delete process.env[KERAS_WEIGHTS_ENV];
  }
});

test('requests sent together are each answered with their own reply, by one thread', async (t) => {
  const disk = worker(t);
  const dirs = [10, 12, 14, 16].map((n, i) => dataset(`many${i}`, { x: n, y: n + 1 }));
  const replies = await Promise.all(dirs.map((d) => disk.checkDataset(d, OPTS)));
  replies.forEach((r, i) => {
    const c = r.index?.counts.x;
    assert.equal(c && c.train + c.val + c.test, [10, 12, 14, 16][i]);
  });
  const threadOf = (d: OffThread) => (d as unknown as { worker?: object }).worker;
  const first = threadOf(disk);
  assert.ok(first);
  await disk.checkDataset(dirs[0], OPTS);
  assert.equal(threadOf(disk), first, 'the same thread answers later requests');
});

test('disposing rejects what waits and refuses new tasks, without starting a thread', async () => {
  const disk = OffThread.forExtension(repo);
  const pending = disk.checkDataset(dataset('late', { a: 10, b: 10 }), OPTS);
  disk.dispose();
  await assert.rejects(pending, /shutting down/);
  await assert.rejects(disk.run({ task: 'catalog', cacheDir: tmpRoot }), /shutting down/);
  assert.equal((disk as unknown as { worker?: object }).worker, undefined);
});

test('a worker that cannot start rejects the task with why', async (t) => {
  const disk = new OffThread(path.join(tmpRoot, 'no-such-worker.js'));
  t.after(() => disk.dispose());
  await assert.rejects(disk.checkDataset(tmpRoot, OPTS), /no-such-worker|Cannot find module|stopped/);
});
