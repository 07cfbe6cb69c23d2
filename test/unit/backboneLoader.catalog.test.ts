// The backbone catalog, the layer table, and broken Keras files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadBackbone, BackboneError } from '../../src/engine/backboneLoader';
import { summarizeLayers, formatLayerTable } from '../../src/engine/modelSummary';
import { BACKBONE_CATALOG, findCatalogEntry } from '../../src/core/backboneCatalog';
import { PREPROCESSING_MODES } from '../../src/core/preprocessing';
import { installRoot, mobileNetLike, tmpDir, opts, layersOf, useBackboneTestEnv } from './backboneLoaderFixtures';

useBackboneTestEnv();

// --- Catalog -----------------------------------------------------------------------------

test('catalog: ids, URL forms and fields; unknown ids get suggestions; fmnist-mini is read from the install root', async () => {
  const ids = BACKBONE_CATALOG.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, 'unique ids');
  assert.equal(ids.filter((id) => id.startsWith('mobilenet_v1_')).length, 16);
  const urlOf = (id: string) => (findCatalogEntry(id)!.source as { modelJsonUrl: string }).modelJsonUrl;
  assert.equal(urlOf('mobilenet_v1_0.50_160'), 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.50_160/model.json');
  assert.equal(urlOf('mobilenet_v1_1.0_224'), 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_1.0_224/model.json');
  const v2 = findCatalogEntry('mobilenet_v2_1.00_224')!;
  assert.equal(
    urlOf('mobilenet_v2_1.00_224'),
    'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.00_224_no_top/model.json',
  );
  assert.equal(v2.defaultCut, 'out_relu');
  for (const e of BACKBONE_CATALOG) {
    assert.equal(e.fineTunable, e.format === 'layers', e.id);
    assert.equal(e.inputSize.length, 3, e.id);
    assert.ok(PREPROCESSING_MODES.includes(e.preprocessing), e.id);
    if (e.source.kind === 'url') assert.match(e.source.modelJsonUrl, /^https:\/\//, e.id);
  }
  await assert.rejects(
    loadBackbone({ catalog: 'mobilenet_v2_1.0_224' }, opts()),
    (e: unknown) => e instanceof BackboneError && /no backbone 'mobilenet_v2_1\.0_224'.*Did you mean 'mobilenet_v2_1\.00_224'/.test(e.message),
  );

  // The bundled backbone: loads when the other engineer's files are there, else a clear error.
  const bundled = path.join(installRoot, 'media/backbones/fmnist-mini/model.json');
  if (fs.existsSync(bundled)) {
    const mini = await loadBackbone({ catalog: 'fmnist-mini' }, opts());
    assert.deepEqual(mini.inputShape, [32, 32, 3]);
    assert.equal(mini.kind, 'layers');
    assert.ok(layersOf(mini).layers.some((l) => l.name === mini.cutAt));
  } else {
    await assert.rejects(loadBackbone({ catalog: 'fmnist-mini' }, opts()), /should ship with Transfer Lab at .*fmnist-mini\/model\.json/);
  }
});

// --- Layer table -------------------------------------------------------------------------------

test('summarizeLayers and the layer table: shapes, params, trainable, cut and totals', async () => {
  const model = mobileNetLike();
  const rows = summarizeLayers(model, { cutAt: 'features', trainableFrom: 'conv_pw_1' });
  assert.equal(rows.length, model.layers.length);
  const byName = new Map(rows.map((r) => [r.name, r]));
  assert.deepEqual(byName.get('conv1')!.outputShape, [null, 8, 8, 8]);
  assert.equal(byName.get('conv1')!.params, 3 * 3 * 3 * 8);
  assert.equal(byName.get('conv1')!.trainable, false, 'before trainableFrom');
  assert.equal(byName.get('conv_pw_1')!.trainable, true);
  assert.deepEqual(byName.get('conv1_bn')!.inbound, ['conv1']);
  assert.equal(byName.get('features')!.isCut, true);
  assert.deepEqual(
    rows.filter((r) => r.afterCut).map((r) => r.name),
    ['pool', 'dropout', 'predictions'],
  );
  assert.equal(
    rows.reduce((s, r) => s + r.params, 0),
    model.countParams(),
  );
  const table = formatLayerTable(rows);
  assert.match(table, /^Layer\s+Type\s+Output shape\s+Params\s+Trainable/);
  assert.match(table, /features {2}<- cut\s+ReLU\s+\[null, 8, 8, 16\]/);
  assert.match(table, new RegExp(`Total params: ${model.countParams().toLocaleString('en-US')}`));
  assert.match(table, /Cut at 'features' \[null, 8, 8, 16\]: .* params up to the cut, 3 layer\(s\) after it dropped/);
});

test('broken Keras files name the file, say what is wrong and what to do (no internal message)', async () => {
  const dir = tmpDir('bad-keras');
  const garbage = path.join(dir, 'garbage.keras');
  fs.writeFileSync(garbage, 'garbage\n');
  await assert.rejects(
    loadBackbone({ path: garbage }, opts()),
    (e: unknown) =>
      e instanceof BackboneError && e.field === 'backbone.path' && /garbage\.keras is not a zip archive .*not a Keras 3 \.keras file/.test(e.message),
  );
  const notH5 = path.join(dir, 'model.h5');
  fs.writeFileSync(notH5, 'not hdf5 at all, just text');
  await assert.rejects(
    loadBackbone({ path: notH5 }, opts()),
    (e: unknown) => e instanceof BackboneError && e.field === 'backbone.path' && e.message.includes('model.h5') && /not an HDF5 file/.test(e.message),
  );
  await assert.rejects(
    loadBackbone({ path: path.join(dir, 'missing.keras') }, opts()),
    (e: unknown) => e instanceof BackboneError && /missing\.keras: no such file\. Check backbone\.path/.test(e.message),
  );
});
