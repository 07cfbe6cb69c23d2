// The download cache's limits against hostile HTTP servers on 127.0.0.1: redirects, stalls,
// the size limit (also after decompression), HTTP errors, and weight paths that try to leave
// the model's folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { fetchModel, ModelDownloadError } from '../../src/engine/modelCache';
import { tmpDir, removeTmpDirsAfterTests, modelFiles, serve, staticFiles, isKind } from './modelCacheFixtures';

removeTmpDirsAfterTests();

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
