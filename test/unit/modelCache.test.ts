// The download cache against real HTTP servers on 127.0.0.1: content-addressed blobs and
// index, progress, offline use, corruption, and the security limits (HTTPS-only policy,
// redirects, stalls, size limit, weight paths that try to leave the model's folder).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import {
  assertAllowedUrl,
  cachedBlobFile,
  cachedModelInfo,
  fetchModel,
  isLoopbackHost,
  ModelDownloadError,
  resolveWeightUrl,
  unsafeWeightPathReason,
} from '../../src/engine/modelCache';

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const tmpDirs: string[] = [];
function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tl-cache-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}
after(() => {
  for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A model.json whose manifest describes `shards` float32 weights of the given byte sizes. */
function modelFiles(shards: number[], paths?: string[]): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const names = paths ?? shards.map((_, i) => `group1-shard${i + 1}of${shards.length}.bin`);
  const total = shards.reduce((a, b) => a + b, 0);
  const modelJson = {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'm', layers: [] } },
    weightsManifest: [{ paths: names, weights: [{ name: 'w', shape: [total / 4], dtype: 'float32' }] }],
  };
  files.set('model.json', Buffer.from(JSON.stringify(modelJson)));
  shards.forEach((size, i) => {
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j++) b[j] = (j * 31 + i * 7) & 0xff;
    if (!paths || !paths[i].includes('..')) files.set(names[i], b);
  });
  return files;
}

interface Server {
  base: string;
  requests: string[];
  close(): Promise<void>;
}

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void): Promise<Server> {
  const requests: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res, base);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves `files` under /model/ (query strings ignored). */
function staticFiles(files: Map<string, Buffer>) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = decodeURIComponent((req.url ?? '').split('?')[0]).replace(/^\/model\//, '');
    const body = files.get(p);
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
  };
}

const isKind = (kind: ModelDownloadError['kind'], re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ModelDownloadError, `expected a ModelDownloadError, got ${e}`);
  assert.equal(e.kind, kind, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

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

test('redirects: loopback to loopback is followed; to plain HTTP elsewhere refused; loops stop', async () => {
  const files = modelFiles([1_000]);
  const plain = staticFiles(files);
  const server = await serve((req, res, base) => {
    // Like TF Hub: model.json and its weights each redirect to where the files are.
    if (req.url?.startsWith('/moved/')) res.writeHead(302, { location: `${base}/model/${req.url.slice('/moved/'.length)}` }).end();
    else if (req.url === '/evil/model.json') res.writeHead(301, { location: 'http://example.invalid/model.json' }).end();
    else if (req.url === '/loop/model.json') res.writeHead(302, { location: '/loop/model.json' }).end();
    else plain(req, res);
  });
  const cacheDir = tmpDir('redirect');
  try {
    const ok = await fetchModel(`${server.base}/moved/model.json`, { cacheDir });
    assert.equal(ok.weights.length, 1);
    await assert.rejects(
      fetchModel(`${server.base}/evil/model.json`, { cacheDir }),
      isKind('insecure-redirect', /redirected to http:\/\/example\.invalid\/model\.json, which is not HTTPS/),
    );
    await assert.rejects(fetchModel(`${server.base}/loop/model.json`, { cacheDir, maxRedirects: 3 }), isKind('too-many-redirects'));
  } finally {
    await server.close();
  }
});

test('a stalled server times out (no headers, and headers then silence)', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/silent/model.json') return; // never answers
    res.writeHead(200, { 'content-length': 1000 });
    res.write('{"modelTopology":'); // then nothing
  });
  const cacheDir = tmpDir('stall');
  try {
    let t0 = Date.now();
    await assert.rejects(fetchModel(`${server.base}/silent/model.json`, { cacheDir, stallTimeoutMs: 300 }), isKind('timeout', /no response for 0.3 s/));
    assert.ok(Date.now() - t0 < 5_000);
    t0 = Date.now();
    await assert.rejects(fetchModel(`${server.base}/slow/model.json`, { cacheDir, stallTimeoutMs: 300 }), isKind('timeout', /stalled/));
    assert.ok(Date.now() - t0 < 5_000);
  } finally {
    await server.close();
  }
});

test('the size limit is enforced from Content-Length and while streaming', async () => {
  const files = modelFiles([300_000]);
  const plain = staticFiles(files);
  const server = await serve((req, res) => {
    if (req.url === '/huge/model.json') {
      // Announces 2 GB; must be refused before the body is read.
      res.writeHead(200, { 'content-length': String(2 * 2 ** 30) });
      res.write('{');
      return;
    }
    if (req.url?.startsWith('/chunked/')) {
      // No Content-Length: the limit must hold while streaming.
      const p = req.url.replace('/chunked/', '');
      const body = files.get(p);
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'transfer-encoding': 'chunked' });
      for (let i = 0; i < body.length; i += 16_384) res.write(body.subarray(i, i + 16_384));
      res.end();
      return;
    }
    plain(req, res);
  });
  const cacheDir = tmpDir('size');
  try {
    await assert.rejects(fetchModel(`${server.base}/huge/model.json`, { cacheDir }), isKind('too-large', /larger than the download limit of 1\.0 GiB/));
    await assert.rejects(fetchModel(`${server.base}/model/model.json`, { cacheDir, maxTotalBytes: 100_000 }), isKind('too-large'));
    await assert.rejects(fetchModel(`${server.base}/chunked/model.json`, { cacheDir, maxTotalBytes: 100_000 }), isKind('too-large'));
    const fine = await fetchModel(`${server.base}/chunked/model.json`, { cacheDir, maxTotalBytes: 400_000 });
    assert.equal(fine.weights[0].size, 300_000);
    assert.equal(fs.readdirSync(path.join(cacheDir, 'blobs', 'sha256')).filter((f) => f.startsWith('.partial')).length, 0, 'no partial files left');
  } finally {
    await server.close();
  }
});

test('a server that compresses anyway is decoded, and the limit counts decoded bytes', async () => {
  const files = modelFiles([200_000]);
  const server = await serve((req, res) => {
    const p = (req.url ?? '').replace(/^\/model\//, '');
    const body = files.get(p);
    if (!body) return void res.writeHead(404).end();
    const gz = zlib.gzipSync(body);
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz);
  });
  const cacheDir = tmpDir('gzip');
  try {
    const got = await fetchModel(`${server.base}/model/model.json`, { cacheDir });
    assert.equal(Buffer.compare(got.weights[0].data, files.get('group1-shard1of1.bin')!), 0);
    // The weights compress to a few KB but decode to 200 KB: over a 100 KB limit.
    await assert.rejects(fetchModel(`${server.base}/model/model.json`, { cacheDir: tmpDir('gzip2'), maxTotalBytes: 100_000 }), isKind('too-large'));
  } finally {
    await server.close();
  }
});

test('HTTP errors and a connection cut short are reported with the URL', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/cut/model.json') {
      res.writeHead(200, { 'content-length': 5000 });
      res.write('{"modelTopology": {}}'); // fewer bytes than announced, then the connection drops
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.writeHead(404).end();
  });
  const cacheDir = tmpDir('errors');
  try {
    await assert.rejects(
      fetchModel(`${server.base}/missing/model.json`, { cacheDir }),
      isKind('http-status', /\/missing\/model\.json: the server answered HTTP 404/),
    );
    await assert.rejects(fetchModel(`${server.base}/cut/model.json`, { cacheDir }), (e: unknown) => e instanceof ModelDownloadError && e.kind === 'network');
  } finally {
    await server.close();
  }
});

test('a served model.json whose weight path leaves the model folder is refused before any weight request', async () => {
  const files = modelFiles([1_000], ['../../etc/passwd']);
  const server = await serve(staticFiles(files));
  const cacheDir = tmpDir('escape');
  try {
    await assert.rejects(
      fetchModel(`${server.base}/model/model.json`, { cacheDir }),
      isKind('weight-path', /weight path '\.\.\/\.\.\/etc\/passwd' is not allowed/),
    );
    assert.deepEqual(server.requests, ['/model/model.json']);
  } finally {
    await server.close();
  }
});
