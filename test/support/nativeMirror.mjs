// A loopback mirror of the two files tfjs-node's installer downloads, for the tests of
// Install Native Backend (unit and e2e). The archives have the hosts' layout (libtensorflow:
// lib/ at the top; the binding: napi-v8/tfjs_binding.node, as node-pre-gyp packs it) and are
// built from this machine's offline build (npm run setup:native), so what they hold loads
// here: TensorFlow 2.21's libraries and the binding built against them, not Google's 2.9.1.
// Built once per build (cached under ~/.cache/transfer-lab/native-mirror), served with
// Content-Length and Google Cloud Storage's x-goog-hash md5, as storage.googleapis.com does.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';

const TFJS_NODE = '4.22.0';
const LIBTENSORFLOW = '2.9.1';
export const LIB_PATH = `tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-${LIBTENSORFLOW}.tar.gz`;
export const BINDING_PATH = `tf-builds/pre-built-binary/napi-v8/${TFJS_NODE}/CPU-linux-${TFJS_NODE}.tar.gz`;

const md5Base64 = (file) =>
  new Promise((resolve, reject) => {
    const h = createHash('md5');
    fs.createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('end', () => resolve(h.digest('base64')))
      .on('error', reject);
  });

/** Builds (or reuses) the mirror folder from repo/node_modules/@tensorflow/tfjs-node. */
export async function buildNativeMirror(repo) {
  const pkg = path.join(repo, 'node_modules', '@tensorflow', 'tfjs-node');
  const binding = path.join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node');
  const libDir = path.join(pkg, 'deps', 'lib');
  if (!fs.existsSync(binding)) throw new Error(`${binding} is missing: run npm run setup:native first`);
  const stamp = [binding, ...fs.readdirSync(libDir).map((f) => path.join(libDir, f))]
    .map((f) => {
      const s = fs.lstatSync(f);
      return `${path.basename(f)}:${s.size}:${Math.round(s.mtimeMs)}`;
    })
    .join('|');
  const key = createHash('sha256').update(stamp).digest('hex').slice(0, 16);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const dir = path.join(cache, 'transfer-lab', 'native-mirror', key);
  if (fs.existsSync(path.join(dir, 'done.json'))) return dir;
  const work = `${dir}.tmp-${process.pid}`;
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(path.join(work, path.dirname(LIB_PATH)), { recursive: true });
  fs.mkdirSync(path.join(work, path.dirname(BINDING_PATH)), { recursive: true });
  // Level 1: the archive is rebuilt only when the build changes, and tests unpack it often.
  await tar.c({ gzip: { level: 1 }, file: path.join(work, LIB_PATH), cwd: path.join(pkg, 'deps'), portable: true }, ['lib']);
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-binding-'));
  fs.mkdirSync(path.join(stage, 'napi-v8'));
  fs.copyFileSync(binding, path.join(stage, 'napi-v8', 'tfjs_binding.node'));
  await tar.c({ gzip: true, file: path.join(work, BINDING_PATH), cwd: stage, portable: true }, ['napi-v8']);
  fs.rmSync(stage, { recursive: true, force: true });
  const sums = {};
  for (const rel of [LIB_PATH, BINDING_PATH]) sums[rel] = { md5: await md5Base64(path.join(work, rel)), bytes: fs.statSync(path.join(work, rel)).size };
  fs.writeFileSync(path.join(work, 'done.json'), JSON.stringify(sums, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(work, dir);
  return dir;
}

/**
 * Serves `dir` on 127.0.0.1 as storage.googleapis.com serves the files. faults: { corruptMd5: true }
 * states a wrong md5; { cutAfterBytes: n } closes the connection after n bytes of the libtensorflow
 * archive. `requests` lists 'GET /path' in order.
 */
export async function serveNativeMirror(dir, faults = {}) {
  const sums = JSON.parse(fs.readFileSync(path.join(dir, 'done.json'), 'utf8'));
  const requests = [];
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '');
    requests.push(`${req.method} /${rel}`);
    const sum = sums[rel];
    if (!sum) {
      res.writeHead(404);
      res.end('not found');
      return;
    }
    const md5 = faults.corruptMd5 ? Buffer.alloc(16, 7).toString('base64') : sum.md5;
    res.writeHead(200, { 'content-length': sum.bytes, 'content-type': 'application/x-tar', 'x-goog-hash': `crc32c=AAAAAA==,md5=${md5}` });
    const stream = fs.createReadStream(path.join(dir, rel), faults.cutAfterBytes && rel === LIB_PATH ? { end: faults.cutAfterBytes } : {});
    stream.pipe(res, { end: !(faults.cutAfterBytes && rel === LIB_PATH) });
    if (faults.cutAfterBytes && rel === LIB_PATH) stream.on('end', () => res.socket?.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
