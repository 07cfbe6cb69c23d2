// The wizard's backbone step, outside VS Code: every catalog family gets its group, each
// entry says its size, ImageNet top-1, input size and whether it is here; a not-downloaded
// entry's host is probed (a real loopback server answering, a closed port, a server that
// never answers) so the wizard can say "offline" before the experiment is written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BACKBONE_CATALOG, findCatalogEntry, type BackboneFamily } from '../../src/core/backboneCatalog';
import {
  availabilityText,
  catalogGroups,
  catalogItemText,
  downloadUrlOf,
  FAMILY_TITLES,
  offlineMessage,
  probeReachable,
} from '../../src/extension/backboneChoices';

const entry = (id: string) => {
  const e = findCatalogEntry(id);
  assert.ok(e, `catalog entry ${id}`);
  return e;
};

test('the backbone step groups the catalog by family, every Keras Applications family included', () => {
  const groups = catalogGroups(BACKBONE_CATALOG);
  const families = groups.map((g) => g.family);
  assert.equal(new Set(families).size, families.length, 'one group per family');
  const keras: BackboneFamily[] = [
    'resnet',
    'resnet_v2',
    'vgg',
    'inception_v3',
    'inception_resnet_v2',
    'xception',
    'densenet',
    'efficientnet',
    'efficientnet_v2',
    'nasnet',
    'convnext',
    'mobilenet_v1',
    'mobilenet_v2',
    'mobilenet_v3',
  ];
  for (const f of keras) assert.ok(families.includes(f), `a ${FAMILY_TITLES[f]} group`);
  assert.equal(groups[0].title, 'Ships with Transfer Lab');
  assert.deepEqual(
    groups.find((g) => g.family === 'resnet')!.entries.map((e) => e.id),
    ['resnet50', 'resnet101', 'resnet152'],
  );
  assert.equal(
    groups.reduce((n, g) => n + g.entries.length, 0),
    BACKBONE_CATALOG.length,
  );
});

test('each entry: size (params, MB), ImageNet top-1, input size, and here or not', () => {
  assert.deepEqual(catalogItemText(entry('resnet50'), 'download'), {
    label: 'resnet50',
    description: '23.6M params, 94.4 MB · ImageNet top-1 74.9% · 224×224 input',
    detail: '$(cloud-download) not downloaded yet (needs internet, 94.4 MB) · ResNet50 (Keras Applications, no top) at 224x224',
  });
  assert.deepEqual(catalogItemText(entry('efficientnet_b0'), 'cached'), {
    label: 'efficientnet_b0',
    description: '4.0M params, 16.2 MB · ImageNet top-1 77.1% · 224×224 input',
    detail: '$(check) downloaded · EfficientNetB0 (Keras Applications, no top) at 224x224',
  });
  assert.deepEqual(catalogItemText(entry('fmnist-mini'), 'bundled'), {
    label: 'fmnist-mini',
    description: 'trained on five Fashion-MNIST classes · 32×32 input',
    detail: '$(package) ships with Transfer Lab · Fashion-MNIST mini CNN (ships with Transfer Lab, offline)',
  });
  assert.match(catalogItemText(entry('inception_v3'), 'download').description, /299×299 input/);
  assert.match(catalogItemText(entry('mobilenet_v3_small_100_224_feature_vector'), 'download').detail, /feature extraction only$/);
  assert.equal(availabilityText(entry('convnext_tiny'), 'download'), `not downloaded yet (needs internet, ${entry('convnext_tiny').downloadMB} MB)`);
  for (const e of BACKBONE_CATALOG) {
    const t = catalogItemText(e, e.source.kind === 'bundled' ? 'bundled' : 'download');
    assert.match(t.description, /\d+×\d+ input$/, e.id);
    if (e.imagenetTop1 !== null) assert.match(t.description, /ImageNet top-1 \d/, e.id);
  }
});

test('the URL probed is the one a run downloads: Keras’s own, under a mirror, or from the override manifest', () => {
  const eff = entry('efficientnet_b0');
  assert.ok(eff.source.kind === 'keras-application');
  const keras = eff.source.weights.url;
  assert.equal(downloadUrlOf(eff, {}), keras);
  assert.equal(
    downloadUrlOf(eff, { TRANSFER_LAB_KERAS_MIRROR: 'http://127.0.0.1:8080/mirror/' }),
    `http://127.0.0.1:8080/mirror/${keras.slice('https://storage.googleapis.com/'.length)}`,
  );
  const manifest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tl-choices-')), 'weights.json');
  fs.writeFileSync(
    manifest,
    JSON.stringify({
      efficientnet_b0: { url: 'http://127.0.0.1:9/b0.h5', sha256: 'a'.repeat(64) },
      convnext_tiny: { path: 'tiny.h5', sha256: 'b'.repeat(64) },
    }),
  );
  assert.equal(downloadUrlOf(eff, { TRANSFER_LAB_KERAS_WEIGHTS: manifest }), 'http://127.0.0.1:9/b0.h5');
  assert.equal(downloadUrlOf(entry('convnext_tiny'), { TRANSFER_LAB_KERAS_WEIGHTS: manifest }), undefined, 'a local file needs no network');
  assert.equal(downloadUrlOf(entry('fmnist-mini'), {}), undefined);
  const v2 = entry('mobilenet_v2_1.00_224');
  assert.equal(downloadUrlOf(v2, {}), v2.source.kind === 'url' ? v2.source.modelJsonUrl : '');
});

test('offline is found quickly and said with what to do; a host that answers (any status) is online', async () => {
  const server = http.createServer((req, res) => {
    res.statusCode = req.url === '/missing.h5' ? 404 : 200;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const silent = net.createServer(() => undefined); // accepts, never answers
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const closedPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  try {
    const port = (server.address() as net.AddressInfo).port;
    assert.deepEqual(await probeReachable(`http://127.0.0.1:${port}/w.h5`), { reachable: true });
    assert.deepEqual(await probeReachable(`http://127.0.0.1:${port}/missing.h5`), { reachable: true }, 'a 404 is the run’s to report');
    const refused = await probeReachable(`http://127.0.0.1:${closedPort}/w.h5`);
    assert.equal(refused.reachable, false);
    assert.match((refused as { reason: string }).reason, /ECONNREFUSED/);
    const t0 = Date.now();
    const hung = await probeReachable(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/w.h5`, 300);
    assert.deepEqual(hung, { reachable: false, reason: 'no answer within 0.3 s' });
    assert.ok(Date.now() - t0 < 2000, 'the timeout holds');
  } finally {
    server.close();
    silent.close();
  }
  const m = offlineMessage(
    entry('efficientnet_b0'),
    'https://storage.googleapis.com/tensorflow/keras-applications/efficientnetb0_notop.h5',
    'getaddrinfo ENOTFOUND storage.googleapis.com',
  );
  assert.equal(
    m.message,
    'Transfer Lab: efficientnet_b0 is not downloaded yet (16.2 MB), and storage.googleapis.com, where it downloads from, cannot be reached now (getaddrinfo ENOTFOUND storage.googleapis.com).',
  );
  assert.match(m.detail, /Continue Anyway writes the experiment file now: run it once this machine is online/);
  assert.match(m.detail, /pick a backbone that is already here/);
});
