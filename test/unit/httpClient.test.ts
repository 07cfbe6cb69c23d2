// The fetch-based HTTP client's own paths that the cache tests do not reach: the cancel
// signal, socket errors worded with the URL and the OS code, an encoding fetch cannot decode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ModelDownloadError } from '../../src/engine/download/errors';
import { DEFAULT_DOWNLOAD_LIMITS, httpGet, type GetOptions } from '../../src/engine/download/httpClient';

const opts = (extra: Partial<GetOptions> = {}): GetOptions => ({ limits: DEFAULT_DOWNLOAD_LIMITS, budget: 2 ** 20, onBytes: () => undefined, ...extra });

async function serve(handler: http.RequestListener): Promise<{ base: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const isKind = (kind: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ModelDownloadError, String(e));
  assert.equal(e.kind, kind, e.message);
  assert.match(e.message, re);
  return true;
};

test('a cancel signal stops the request before headers and mid-body', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/silent') return;
    res.writeHead(200, { 'content-length': 1000 });
    res.write('abc');
  });
  try {
    const before = new AbortController();
    before.abort();
    await assert.rejects(httpGet(`${server.base}/silent`, opts({ signal: before.signal })), isKind('cancelled', /\/silent: the download was cancelled/));
    const early = new AbortController();
    setTimeout(() => early.abort(), 50);
    await assert.rejects(httpGet(`${server.base}/silent`, opts({ signal: early.signal })), isKind('cancelled', /cancelled/));
    const mid = new AbortController();
    await assert.rejects(
      httpGet(`${server.base}/body`, opts({ signal: mid.signal, onBytes: () => mid.abort() })),
      isKind('cancelled', /\/body: the download was cancelled/),
    );
  } finally {
    await server.close();
  }
});

test('socket errors name the URL and the OS code', async () => {
  const server = await serve(() => undefined);
  const base = server.base;
  await server.close();
  await assert.rejects(httpGet(`${base}/gone`, opts()), isKind('network', new RegExp(`${base}/gone: .+\\. Check the network connection\\.`)));
  await assert.rejects(
    httpGet('https://no-such-host.invalid/model.json', opts()),
    isKind('network', /no-such-host\.invalid\/model\.json: (ENOTFOUND|EAI_AGAIN)\. Check the network connection\./),
  );
});

test('an encoding fetch does not decode is refused', async () => {
  const server = await serve((_req, res) => void res.writeHead(200, { 'content-encoding': 'zstd' }).end('raw'));
  try {
    await assert.rejects(httpGet(`${server.base}/m.json`, opts()), isKind('network', /unsupported content encoding 'zstd'/));
  } finally {
    await server.close();
  }
});
