// The download cache against real HTTP servers on 127.0.0.1: content-addressed blobs and
// index, progress, offline use, corruption, and the URL and weight-path policies. Redirects,
// stalls, the size limit and HTTP errors are in modelCache.http.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  assertAllowedUrl,
  cachedBlobFile,
  cachedModelInfo,
  fetchModel,
  isLoopbackHost,
  resolveWeightUrl,
  unsafeWeightPathReason,
} from '../../src/engine/modelCache';
import { sha, tmpDir, removeTmpDirsAfterTests, modelFiles, serve, staticFiles, isKind } from './modelCacheFixtures';

removeTmpDirsAfterTests();

test('URL policy: HTTPS anywhere, HTTP only to loopback, no credentials', () => {
  for (const ok of [
    'https://storage.googleapis.com/x/model.json',
    'http://127.0.0.1:8080/m.json',
    'http://127.9.8.7/m.json',
    'http://[::1]:9/m.json',
    'http://localhost/m.json',
  ]) {
    assert.doesNotThrow(() => assertAllowedUrl(ok), ok);
  }
  assert.throws(() => assertAllowedUrl('http://example.com/model.json'), isKind('insecure-url', /plain HTTP is only allowed to this machine/));
  assert.throws(() => assertAllowedUrl('http://128.0.0.1/model.json'), isKind('insecure-url'));
  assert.throws(() => assertAllowedUrl('ftp://example.com/model.json'), isKind('insecure-url', /only https/));
  assert.throws(() => assertAllowedUrl('file:///etc/passwd'), isKind('insecure-url'));
  assert.throws(() => assertAllowedUrl('https://user:secret@example.com/model.json'), isKind('insecure-url', /credentials/));
  assert.throws(() => assertAllowedUrl('not a url'), isKind('insecure-url'));
  assert.equal(isLoopbackHost('127.0.0.1'), true);
  assert.equal(isLoopbackHost('localhost'), true);
  assert.equal(isLoopbackHost('[::1]'), true);
  assert.equal(isLoopbackHost('127.0.0.1.evil.com'), false);
  assert.equal(isLoopbackHost('10.0.0.1'), false);
});

test('weight paths: plain relative names pass; escapes, absolute paths and other hosts are refused', () => {
  for (const ok of ['group1-shard1of2.bin', 'weights/part 1.bin', 'a.b..c.bin']) assert.equal(unsafeWeightPathReason(ok), null, ok);
  for (const bad of [
    '../../etc/passwd',
    '/etc/passwd',
    'a/../../b.bin',
    '%2e%2e/%2e%2e/etc/passwd',
    '..%2fsecret',
    'https://evil.example/w.bin',
    '//evil.example/w.bin',
    'C:\\Windows\\x',
    'a\\b.bin',
    '',
    './w.bin',
    'w.bin?x=1',
  ]) {
    assert.notEqual(unsafeWeightPathReason(bad), null, bad);
  }
  // tfjs's rule: the model.json's query is appended to every weight URL (TF Hub's ?tfjs-format=file).
  assert.equal(
    resolveWeightUrl('https://tfhub.example/google/m/1/model.json?tfjs-format=file', 'group1-shard1of1.bin'),
    'https://tfhub.example/google/m/1/group1-shard1of1.bin?tfjs-format=file',
  );
  assert.throws(
    () => resolveWeightUrl('https://h.example/m/model.json', '../../etc/passwd'),
    isKind('weight-path', /weight path '\.\.\/\.\.\/etc\/passwd' is not allowed/),
  );
});

test('download: progress, content-addressed blobs + index; the second load reuses the weights', async () => {
  const files = modelFiles([40_000, 25_000]);
  const server = await serve(staticFiles(files));
  const cacheDir = tmpDir('fresh');
  try {
    const calls: [number, number | undefined][] = [];
    const url = `${server.base}/model/model.json`;
    const first = await fetchModel(url, { cacheDir, onProgress: (l, t) => calls.push([l, t]) });
    assert.equal(first.fromCache, false);
    assert.equal(first.offline, false);
    assert.ok(calls.length >= 1, 'progress reported');
    const last = calls.at(-1)!;
    const totalBytes = [...files.values()].reduce((s, b) => s + b.length, 0);
    assert.equal(last[0], totalBytes, 'all bytes counted');
    assert.equal(last[1], totalBytes, 'total known from the manifest');
    for (let i = 1; i < calls.length; i++) assert.ok(calls[i][0] >= calls[i - 1][0], 'monotonic');
    // Layout: blobs/sha256/<hash of content>, index maps URL -> hashes and manifest paths.
    for (const [name, body] of files) assert.ok(fs.existsSync(path.join(cacheDir, 'blobs', 'sha256', sha(body))), `${name} blob`);
    const info = cachedModelInfo(cacheDir, url)!;
    assert.equal(info.modelJsonSha256, sha(files.get('model.json')!));
    assert.deepEqual(
      info.weights.map((w) => [w.path, w.sha256, w.size]),
      ['group1-shard1of2.bin', 'group1-shard2of2.bin'].map((p) => [p, sha(files.get(p)!), files.get(p)!.length]),
    );
    assert.deepEqual(
      first.weights.map((w) => Buffer.compare(w.data, files.get(w.path)!)),
      [0, 0],
    );

    server.requests.length = 0;
    const second = await fetchModel(url, { cacheDir });
    assert.equal(second.fromCache, true);
    assert.deepEqual(server.requests, ['/model/model.json'], 'only model.json asked for again');
    assert.deepEqual(
      second.weights.map((w) => Buffer.compare(w.data, files.get(w.path)!)),
      [0, 0],
    );
  } finally {
    await server.close();
  }
});

test('a changed remote model.json is noticed and its new weights downloaded', async () => {
  const files = modelFiles([4_000]);
  const server = await serve(staticFiles(files));
  const cacheDir = tmpDir('changed');
  try {
    const url = `${server.base}/model/model.json`;
    await fetchModel(url, { cacheDir });
    const changed = modelFiles([8_000]);
    files.set('model.json', changed.get('model.json')!);
    files.set('group1-shard1of1.bin', changed.get('group1-shard1of1.bin')!);
    const again = await fetchModel(url, { cacheDir });
    assert.equal(again.fromCache, false);
    assert.match(again.notes.join(' '), /changed since it was cached/);
    assert.equal(again.weights[0].size, 8_000);
  } finally {
    await server.close();
  }
});

test("if a changed model's new weights cannot be fetched, the previous complete copy is used and said so", async () => {
  const files = modelFiles([4_000]);
  const server = await serve(staticFiles(files));
  const cacheDir = tmpDir('changed-broken');
  try {
    const url = `${server.base}/model/model.json`;
    await fetchModel(url, { cacheDir });
    const v1 = files.get('group1-shard1of1.bin')!;
    files.set('model.json', modelFiles([8_000], ['new-shard.bin']).get('model.json')!); // its shard is not served
    const result = await fetchModel(url, { cacheDir });
    assert.equal(result.offline, true);
    assert.match(result.notes.join(' '), /Could not download .*new-shard\.bin .*using the previous copy/);
    assert.equal(Buffer.compare(result.weights[0].data, v1), 0);
  } finally {
    await server.close();
  }
});

test('offline: with the server gone the cached copy is used and the result says so', async () => {
  const files = modelFiles([10_000]);
  const server = await serve(staticFiles(files));
  const cacheDir = tmpDir('offline');
  const url = `${server.base}/model/model.json`;
  await fetchModel(url, { cacheDir });
  await server.close();
  const offline = await fetchModel(url, { cacheDir, stallTimeoutMs: 2_000 });
  assert.equal(offline.offline, true);
  assert.equal(offline.fromCache, true);
  assert.match(offline.notes.join(' '), /Could not reach .*using the copy cached on/);
  assert.equal(Buffer.compare(offline.weights[0].data, files.get('group1-shard1of1.bin')!), 0);
  // Never cached + unreachable: a network error, not a crash.
  await assert.rejects(fetchModel(`${server.base}/other/model.json`, { cacheDir }), isKind('network'));
});

test('a corrupt cached blob is re-downloaded online and reported offline', async () => {
  const files = modelFiles([10_000]);
  const server = await serve(staticFiles(files));
  const cacheDir = tmpDir('corrupt');
  const url = `${server.base}/model/model.json`;
  const hash = sha(files.get('group1-shard1of1.bin')!);
  try {
    await fetchModel(url, { cacheDir });
    const blob = cachedBlobFile(cacheDir, hash);
    const bytes = fs.readFileSync(blob);
    bytes[100] ^= 0xff;
    fs.writeFileSync(blob, bytes);
    const repaired = await fetchModel(url, { cacheDir });
    assert.match(repaired.notes.join(' '), /was corrupt \(sha256 mismatch\); downloaded it again/);
    assert.equal(sha(fs.readFileSync(blob)), hash, 'blob repaired');
    fs.writeFileSync(blob, bytes); // corrupt again
  } finally {
    await server.close();
  }
  await assert.rejects(
    fetchModel(url, { cacheDir, stallTimeoutMs: 2_000 }),
    isKind('corrupt-cache', new RegExp(`weight file 'group1-shard1of1.bin'.*corrupt.*${hash}`)),
  );
});
