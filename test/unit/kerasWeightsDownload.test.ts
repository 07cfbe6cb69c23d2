// Keras's ImageNet weight files for the Keras Applications catalog entries, end to end against
// a loopback HTTP server serving files in Keras's format (the Keras fixtures' Keras-2-layout
// weights, made by Keras: EfficientNetB0's have the shapes of the catalog's efficientnet_b0):
// a download through an override manifest loads, reports progress and is cached, then works
// offline; a wrong hash is refused naming the entry, URL, expected and actual hash, and nothing
// is kept; Keras's own ~/.keras/models copy is used without the network when it matches; a
// mirror replaces storage.googleapis.com; files Keras lists no hash for are trusted on first
// use and held to it; a corrupt cached copy is fetched again; a run shows the download's
// progress and keeps where the weights came from in its log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone, BackboneError } from '../../src/engine/backboneLoader';
import { kerasApplicationLayers } from '../../src/engine/backbone/kerasApplication';
import { buildLayersModel } from '../../src/engine/backbone/layersModel';
import { fetchKerasWeights, kerasCacheFiles, mirroredUrl, type KerasWeightsRequest } from '../../src/engine/download/kerasWeights';
import { ModelDownloadError } from '../../src/engine/download/errors';
import { findCatalogEntry, type BackboneCatalogEntry } from '../../src/core/backboneCatalog';
import { catalogListing } from '../../src/cli/catalogCommand';
import { runExperiment } from '../../src/engine/runExperiment';
import type { ExperimentFile } from '../../src/core/experiment';
// @ts-expect-error: plain ESM helper shared with the scripts (no types)
import { writePngClassFolders, TARGET_CLASSES } from '../../scripts/fashionMnist.mjs';
import { loadKerasFixtures, fixturePath } from '../support/kerasFixtures';
import { work, layersOf, freshCache, manifest, blobFiles, predictOn } from './kerasWeightsDownloadHelpers';

const installRoot = path.resolve(__dirname, '../../..');
let weightsFile: string; // EfficientNetB0's weights in the Keras Applications layout
let otherFile: string; // ConvNeXtTiny's: a different file
let bytes: Buffer;
let sha: string;
let md5: string;
const hits: string[] = [];
/** path -> body; a function body can misbehave (cut the connection). */
const routes = new Map<string, Buffer | ((res: http.ServerResponse) => void)>();
let server: http.Server;
let base: string;

before(async () => {
  await loadBackend({ preference: (process.env.TL_TEST_BACKEND as 'cpu') ?? 'auto', installRoot });
  const fx = loadKerasFixtures();
  weightsFile = fixturePath(fx, fx.models.find((m) => m.id === 'efficientnet_b0')!.files.keras2WeightsH5);
  otherFile = fixturePath(fx, fx.models.find((m) => m.id === 'convnext_tiny')!.files.keras2WeightsH5);
  bytes = fs.readFileSync(weightsFile);
  sha = createHash('sha256').update(bytes).digest('hex');
  md5 = createHash('md5').update(bytes).digest('hex');
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    const body = routes.get((req.url ?? '').split('?')[0]);
    if (typeof body === 'function') return body(res);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    // In pieces, so progress has something to report.
    let at = 0;
    const step = () => {
      if (at >= body.length) return res.end();
      res.write(body.subarray(at, at + 2 ** 20), step);
      at += 2 ** 20;
    };
    step();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(work, { recursive: true, force: true });
});

/** The first test's offline step: with the server gone, the cached copy is verified and used. */
async function checkOfflineUse(cacheDir: string, env: Record<string, string>): Promise<void> {
  routes.delete('/w/efficientnetb0_notop.h5');
  hits.length = 0;
  const offline = await loadBackbone({ catalog: 'efficientnet_b0' }, { installRoot, cacheDir, kerasWeights: { env, kerasHome: false } });
  try {
    assert.deepEqual(hits, [], 'no request');
    assert.ok(
      offline.notes.some((n) => /^Weights: efficientnetb0_notop\.h5 from the download cache .*sha256 verified now/.test(n)),
      offline.notes.join('\n'),
    );
  } finally {
    layersOf(offline).dispose();
  }
}

/** The first test's last step: a corrupt cached copy is noticed, removed and fetched again. */
async function checkCorruptCopyFetchedAgain(cacheDir: string, env: Record<string, string>): Promise<void> {
  fs.writeFileSync(path.join(cacheDir, 'blobs', 'sha256', sha), Buffer.from('not the weights'));
  routes.set('/w/efficientnetb0_notop.h5', bytes);
  const again = await fetchKerasWeights(
    {
      entryId: 'efficientnet_b0',
      url: 'https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5',
      fileName: 'efficientnetb0_notop.h5',
      hash: null,
      hashAlgorithm: null,
    },
    { cacheDir, env, kerasHome: false },
  );
  assert.equal(again.from, 'download');
  assert.ok(
    again.notes.some((n) => /was corrupt .*removed and fetched again/.test(n)),
    again.notes.join('\n'),
  );
  assert.equal(createHash('sha256').update(fs.readFileSync(again.file)).digest('hex'), sha);
}

test('a download through the override manifest loads, reports progress and is cached; then it works offline', async () => {
  routes.set('/w/efficientnetb0_notop.h5', bytes);
  const cacheDir = freshCache('cache-a');
  const overrides = manifest('ok', { efficientnet_b0: { url: `${base}/w/efficientnetb0_notop.h5`, sha256: sha } });
  const env = { TRANSFER_LAB_KERAS_WEIGHTS: overrides };
  const progress: [number, number | undefined][] = [];
  hits.length = 0;
  const online = await loadBackbone(
    { catalog: 'efficientnet_b0' },
    { installRoot, cacheDir, onProgress: (l, t) => progress.push([l, t]), kerasWeights: { env, kerasHome: false } },
  );
  const reference = await loadBackbone(
    { catalog: 'efficientnet_b0', weights: weightsFile },
    { installRoot, cacheDir: freshCache('unused'), kerasWeights: { env: {}, kerasHome: false } },
  );
  try {
    assert.deepEqual(hits, ['/w/efficientnetb0_notop.h5']);
    assert.ok(progress.length >= 2, `progress events: ${progress.length}`);
    assert.ok(
      progress.every(([l], i) => i === 0 || l >= progress[i - 1][0]),
      'progress only grows',
    );
    assert.equal(progress.at(-1)![0], bytes.length, 'the last event has every byte');
    assert.ok(
      online.notes.some(
        (n) =>
          n.includes(`Weights: efficientnetb0_notop.h5 downloaded from ${base}/w/efficientnetb0_notop.h5`) &&
          n.includes(`sha256 matches the sha256 in ${overrides}`),
      ),
      online.notes.join('\n'),
    );
    assert.equal(online.cutAt, 'top_activation');
    assert.equal(online.preprocessing.mode, 'none');
    // The same network as the fixture's weights read from disk: equal predictions.
    assert.deepEqual(predictOn(layersOf(online)), predictOn(layersOf(reference)));
    assert.ok(blobFiles(cacheDir).includes(sha), 'kept under its sha256');
  } finally {
    layersOf(online).dispose();
    layersOf(reference).dispose();
  }
  assert.equal(catalogListing(cacheDir, env).find((r) => r.id === 'efficientnet_b0')?.availability, 'cached');
  assert.equal(
    catalogListing(cacheDir, {}).find((r) => r.id === 'efficientnet_b0')?.availability,
    'download',
    "without the override, Keras's own file is not cached",
  );

  await checkOfflineUse(cacheDir, env);
  await checkCorruptCopyFetchedAgain(cacheDir, env);
});

test('a wrong hash is refused naming the entry, URL, expected and actual hash; nothing is kept, nor is a cut-off download', async () => {
  routes.set('/w/efficientnetb0_notop.h5', bytes);
  const cacheDir = freshCache('cache-b');
  const wrong = '0'.repeat(64);
  const overrides = manifest('wrong', { efficientnet_b0: { url: `${base}/w/efficientnetb0_notop.h5`, sha256: wrong } });
  await assert.rejects(
    loadBackbone({ catalog: 'efficientnet_b0' }, { installRoot, cacheDir, kerasWeights: { env: { TRANSFER_LAB_KERAS_WEIGHTS: overrides }, kerasHome: false } }),
    (e: unknown) =>
      e instanceof BackboneError &&
      e.message.includes("'efficientnet_b0'") &&
      e.message.includes(`downloaded from ${base}/w/efficientnetb0_notop.h5`) &&
      e.message.includes(`expected sha256 ${wrong}, got ${sha}`) &&
      e.message.includes('Nothing was kept'),
  );
  assert.deepEqual(blobFiles(cacheDir), [], 'no blob, no partial file');
  assert.ok(!fs.existsSync(path.join(cacheDir, 'keras-weights')) || fs.readdirSync(path.join(cacheDir, 'keras-weights')).length === 0, 'no index record');

  // The connection drops half way: an error that says what is missing and how to get it; nothing half-written.
  routes.set('/w/cut.h5', (res) => {
    res.writeHead(200, { 'content-length': bytes.length });
    res.write(bytes.subarray(0, 2 ** 20), () => res.destroy());
  });
  const cut = manifest('cut', { efficientnet_b0: { url: `${base}/w/cut.h5`, sha256: sha } });
  await assert.rejects(
    loadBackbone({ catalog: 'efficientnet_b0' }, { installRoot, cacheDir, kerasWeights: { env: { TRANSFER_LAB_KERAS_WEIGHTS: cut }, kerasHome: false } }),
    (e: unknown) =>
      e instanceof BackboneError &&
      /'efficientnet_b0' needs its ImageNet weights efficientnetb0_notop\.h5 .*which are not cached here: .*the connection (closed|failed) after .*put Keras's efficientnetb0_notop\.h5 in ~\/\.keras\/models\/, set TRANSFER_LAB_KERAS_MIRROR/.test(
        e.message,
      ),
  );
  assert.deepEqual(blobFiles(cacheDir), []);

  // A manifest entry without a hash cannot be checked: refused, saying how to get one.
  const unhashed = manifest('unhashed', { efficientnet_b0: { url: `${base}/w/efficientnetb0_notop.h5` } });
  await assert.rejects(
    fetchKerasWeights(
      { entryId: 'efficientnet_b0', url: 'https://x/y.h5', fileName: 'y.h5', hash: null, hashAlgorithm: null },
      { cacheDir, overridesFile: unhashed, kerasHome: false },
    ),
    (e: unknown) => e instanceof ModelDownloadError && /needs the file's "sha256" .*sha256sum/.test(e.message),
  );
});

/** The catalog's efficientnet_b0 with Keras's hash replaced by the fixture file's md5 (what Keras would list for it). */
function entryHashing(hash: string, url: string): BackboneCatalogEntry {
  const e = findCatalogEntry('efficientnet_b0')!;
  if (e.source.kind !== 'keras-application') throw new Error('not a Keras Application');
  return { ...e, source: { ...e.source, weights: { ...e.source.weights, url, hash, hashAlgorithm: 'md5' } } };
}

test("Keras's own cache: a matching ~/.keras/models file is used without the network; one that does not match is not", async () => {
  const kerasHome = path.join(work, 'keras-home');
  fs.mkdirSync(path.join(kerasHome, 'models'), { recursive: true });
  const cached = path.join(kerasHome, 'models', 'efficientnetb0_notop.h5');
  fs.copyFileSync(weightsFile, cached);
  assert.deepEqual(kerasCacheFiles('efficientnetb0_notop.h5', { env: { KERAS_HOME: kerasHome } }), [cached]);
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const unreachable = `http://127.0.0.1:${port}/keras-applications/efficientnetb0_notop.h5`;
  const cacheDir = freshCache('cache-c');
  const entry = entryHashing(md5, unreachable);
  const src = await kerasApplicationLayers(entry, { installRoot, cacheDir, download: { env: { KERAS_HOME: kerasHome } } });
  assert.ok(
    src.notes.some(
      (n) => n === `Weights: ${cached}, Keras's own cached copy (md5 matches the md5 Keras lists for efficientnetb0_notop.h5), used without the network.`,
    ),
    src.notes.join('\n'),
  );
  const built = await buildLayersModel(src, undefined);
  const reference = await loadBackbone(
    { catalog: 'efficientnet_b0', weights: weightsFile },
    { installRoot, cacheDir, kerasWeights: { env: {}, kerasHome: false } },
  );
  try {
    assert.deepEqual(predictOn(built.model), predictOn(layersOf(reference)));
  } finally {
    built.model.dispose();
    layersOf(reference).dispose();
  }
  assert.deepEqual(blobFiles(cacheDir), [], "Keras's file is read in place, not copied");
  assert.equal(catalogListing(cacheDir, { KERAS_HOME: kerasHome }).find((r) => r.id === 'efficientnet_b0')?.cachedFile, cached);

  // Another file under that name: not used, and with the network unreachable the error says what to do.
  fs.copyFileSync(otherFile, cached);
  await assert.rejects(
    kerasApplicationLayers(entry, { installRoot, cacheDir, download: { env: { KERAS_HOME: kerasHome }, stallTimeoutMs: 5_000 } }),
    (e: unknown) =>
      e instanceof BackboneError &&
      e.message.includes(`'efficientnet_b0' needs its ImageNet weights efficientnetb0_notop.h5`) &&
      e.message.includes('ECONNREFUSED'),
  );
  const weights = entry.source.kind === 'keras-application' ? entry.source.weights : undefined;
  const r = await fetchKerasWeights(
    { entryId: 'efficientnet_b0', ...weights!, url: `${base}/w/efficientnetb0_notop.h5` },
    { cacheDir, env: { KERAS_HOME: kerasHome } },
  );
  assert.equal(r.from, 'download');
  assert.ok(
    r.notes.some((n) => n.startsWith(`Keras's cached ${cached} does not match the md5 Keras lists`)),
    r.notes.join('\n'),
  );
});

test('a mirror replaces storage.googleapis.com; the hash is still checked', async () => {
  assert.equal(
    mirroredUrl('https://storage.googleapis.com/tensorflow/keras-applications/resnet/r.h5', 'https://mirror.example/keras/'),
    'https://mirror.example/keras/tensorflow/keras-applications/resnet/r.h5',
  );
  assert.equal(mirroredUrl('https://example.org/r.h5', 'https://mirror.example/'), 'https://example.org/r.h5', "only Keras's host is mirrored");
  routes.set('/mirror/keras-applications/efficientnetb0_notop.h5', bytes);
  hits.length = 0;
  const req: KerasWeightsRequest = {
    entryId: 'efficientnet_b0',
    url: 'https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5',
    fileName: 'efficientnetb0_notop.h5',
    hash: md5,
    hashAlgorithm: 'md5',
  };
  const cacheDir = freshCache('cache-d');
  const got = await fetchKerasWeights(req, { cacheDir, env: { TRANSFER_LAB_KERAS_MIRROR: `${base}/mirror/` }, kerasHome: false });
  assert.deepEqual(hits, ['/mirror/keras-applications/efficientnetb0_notop.h5']);
  assert.equal(got.from, 'download');
  assert.equal(got.sha256, sha);
  assert.ok(got.notes[0].includes('md5 matches the md5 Keras lists for efficientnetb0_notop.h5'), got.notes[0]);
  await assert.rejects(
    fetchKerasWeights({ ...req, hash: 'f'.repeat(32) }, { cacheDir: freshCache('cache-d2'), mirror: `${base}/mirror/`, kerasHome: false }),
    (e: unknown) =>
      e instanceof ModelDownloadError &&
      e.kind === 'hash-mismatch' &&
      e.message.includes(`expected md5 ${'f'.repeat(32)}, got ${md5}`) &&
      e.message.includes('(mirror TRANSFER_LAB_KERAS_MIRROR)'),
  );
});

test('files Keras lists no hash for (MobileNet, MobileNetV2): the first sha256 is recorded and later copies must match it', async () => {
  const cacheDir = freshCache('cache-e');
  routes.set('/tofu/mobilenet_1_0_224_tf_no_top.h5', bytes);
  const req: KerasWeightsRequest = {
    entryId: 'mobilenet',
    url: `${base}/tofu/mobilenet_1_0_224_tf_no_top.h5`,
    fileName: 'mobilenet_1_0_224_tf_no_top.h5',
    hash: null,
    hashAlgorithm: null,
  };
  const first = await fetchKerasWeights(req, { cacheDir, kerasHome: false, env: {} });
  assert.equal(first.from, 'download');
  assert.ok(first.notes[0].includes(`Keras lists no hash for this file: its sha256 ${sha} was recorded now (trust on first use)`), first.notes[0]);
  const second = await fetchKerasWeights(req, { cacheDir, kerasHome: false, env: {} });
  assert.equal(second.from, 'cache');
  // The copy is lost and the server now serves something else: refused against the recorded sha256.
  fs.rmSync(first.file);
  routes.set('/tofu/mobilenet_1_0_224_tf_no_top.h5', fs.readFileSync(otherFile).subarray(0, 3 * 2 ** 20));
  await assert.rejects(
    fetchKerasWeights(req, { cacheDir, kerasHome: false, env: {} }),
    (e: unknown) =>
      e instanceof ModelDownloadError &&
      e.kind === 'hash-mismatch' &&
      /does not match the sha256 recorded when mobilenet_1_0_224_tf_no_top\.h5 was first seen on .* \(Keras lists no hash for it\): expected sha256 [0-9a-f]{64}/.test(
        e.message,
      ),
  );
  assert.deepEqual(blobFiles(cacheDir), []);
});

test('a run on a Keras Applications entry: download progress as loading-backbone events, where the weights came from in run.json and log.txt', async () => {
  routes.set('/run/efficientnetb0_notop.h5', bytes);
  const dir = freshCache('run');
  const cacheDir = path.join(dir, 'cache');
  await writePngClassFolders(path.join(dir, 'data'), { classes: TARGET_CLASSES.slice(0, 2), perClass: 6, split: 'train', root: installRoot });
  const exp: ExperimentFile = {
    name: 'efficientnet-b0',
    data: { dir: 'data', split: { val: 0.25, test: 0.25 }, seed: 3 },
    backbone: { catalog: 'efficientnet_b0' },
    strategy: { kind: 'feature-extraction' },
    head: { pooling: 'avg', dense: [], dropout: 0 },
    train: { epochs: 1, batchSize: 4, optimizer: 'adam', learningRate: 0.001 },
  };
  const file = path.join(dir, 'b0.tlexp.json');
  fs.writeFileSync(file, JSON.stringify(exp));
  // The run reads the environment, as the trainer process does.
  const saved = process.env.TRANSFER_LAB_KERAS_WEIGHTS;
  process.env.TRANSFER_LAB_KERAS_WEIGHTS = manifest('run', { efficientnet_b0: { url: `${base}/run/efficientnetb0_notop.h5`, sha256: sha } });
  try {
    const events: { type: string; phase?: string; done?: number; total?: number; message?: string }[] = [];
    const outcome = await runExperiment({
      experimentFile: file,
      runsDir: path.join(dir, 'runs'),
      cacheDir,
      installRoot,
      backend: 'test',
      onEvent: (e) => events.push(e as never),
      shouldStop: () => false,
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.error));
    const downloads = events.filter((e) => e.type === 'phase' && e.phase === 'loading-backbone' && typeof e.done === 'number');
    assert.ok(downloads.length >= 2 && downloads.at(-1)!.done === bytes.length, `download progress: ${JSON.stringify(downloads.slice(-2))}`);
    // What the status bar and the dashboard show: done of total, in MB and percent.
    assert.equal(downloads.at(-1)!.total, bytes.length);
    assert.match(downloads.at(-1)!.message ?? '', /^Downloading backbone: \d+\.\d of \d+\.\d MB \(100%\)$/);
    const run = JSON.parse(fs.readFileSync(path.join(outcome.runDir, 'run.json'), 'utf8')) as { notes?: string[] };
    assert.ok(
      run.notes?.some((n) => n.startsWith('Weights: efficientnetb0_notop.h5 downloaded from')),
      JSON.stringify(run.notes),
    );
    assert.match(fs.readFileSync(path.join(outcome.runDir, 'log.txt'), 'utf8'), /Weights: efficientnetb0_notop\.h5 downloaded from http:\/\/127\.0\.0\.1/);
  } finally {
    if (saved === undefined) delete process.env.TRANSFER_LAB_KERAS_WEIGHTS;
    else process.env.TRANSFER_LAB_KERAS_WEIGHTS = saved;
  }
});
