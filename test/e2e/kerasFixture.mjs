// The Keras fixtures folder for the e2e tests (plain ESM, no build): what
// scripts/setup-keras-fixtures.mjs prints, making the fixtures first if they are missing.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from '../support/testEnv.mjs';

export function kerasFixtureRoot() {
  const out = execFileSync(process.execPath, [path.join(repoRoot, 'scripts', 'setup-keras-fixtures.mjs'), '--if-missing'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop();
}

/**
 * A loopback stand-in for Keras's weight host: serves each fixture model's Keras-2-layout
 * weights file (legacy_weights.h5, the layout of the Keras Applications ImageNet files) at
 * /keras-applications/<id>_notop.h5, and writes the override manifest that
 * TRANSFER_LAB_KERAS_WEIGHTS points the extension at (url + sha256 per catalog id). The
 * fixtures' weights are random, so Keras's own hashes cannot match them: the manifest carries
 * theirs, as an air-gapped user's would. Counts requests by method and path ('GET /keras-applications/…').
 */
export async function serveKerasWeights(ids, manifestDir) {
  const http = await import('node:http');
  const crypto = await import('node:crypto');
  const fs = await import('node:fs');
  const fixtures = kerasFixtureRoot();
  const files = new Map(ids.map((id) => [`/keras-applications/${id}_notop.h5`, path.join(fixtures, 'models', id, 'legacy_weights.h5')]));
  const requests = new Map();
  const server = http.createServer((req, res) => {
    const file = files.get(req.url ?? '');
    const key = `${req.method} ${req.url}`;
    requests.set(key, (requests.get(key) ?? 0) + 1);
    if (!file) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    res.setHeader('content-length', String(fs.statSync(file).size));
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const manifest = {};
  for (const [urlPath, file] of files) {
    const id = urlPath.replace(/^\/keras-applications\//, '').replace(/_notop\.h5$/, '');
    manifest[id] = { url: `${base}${urlPath}`, sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
  }
  const manifestFile = path.join(manifestDir, 'keras-weights.json');
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { base, manifestFile, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}
