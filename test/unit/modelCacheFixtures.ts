// Shared by the modelCache.*.test.ts files: temp cache folders, model.json + shards to serve,
// HTTP servers on 127.0.0.1, and a matcher for ModelDownloadError kinds.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ModelDownloadError } from '../../src/engine/modelCache';

export const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const tmpDirs: string[] = [];
export function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tl-cache-${tag}-`));
  tmpDirs.push(dir);
  return dir;
}
/** Each test file calls this once: the folders it made are removed after its tests. */
export function removeTmpDirsAfterTests(): void {
  after(() => {
    for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** A model.json whose manifest describes `shards` float32 weights of the given byte sizes. */
export function modelFiles(shards: number[], paths?: string[]): Map<string, Buffer> {
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

export interface Server {
  base: string;
  requests: string[];
  close(): Promise<void>;
}

export async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, base: string) => void): Promise<Server> {
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
export function staticFiles(files: Map<string, Buffer>) {
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

export const isKind = (kind: ModelDownloadError['kind'], re?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ModelDownloadError, `expected a ModelDownloadError, got ${e}`);
  assert.equal(e.kind, kind, e.message);
  if (re) assert.match(e.message, re);
  return true;
};
