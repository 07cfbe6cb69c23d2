// The Keras job's inputs without running Python: splits.json is our own dataset index's split
// (the same files, relative to the dataset root), job.json parses against its schema and says
// the backbone as Keras names it, and backbones a Keras job cannot take are refused with the
// field and what to do. Running train.py itself is kerasJob.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v from 'valibot';
import { findCatalogEntry } from '../../src/core/backboneCatalog';
import { indexDataset } from '../../src/core/datasetIndex';
import { loadExperimentText } from '../../src/core/experimentValidation';
import type { ResolvedExperiment } from '../../src/core/experiment';
import { kerasJob, KerasJobSchema, kerasSplits, KerasSplitsSchema } from '../../src/core/kerasScript/jobFile';
import { resolveJobBackbone } from '../../src/core/kerasScript/jobBackbone';
import { TRAIN_PY } from '../../src/core/kerasScript/trainPy';

const root = path.resolve(__dirname, '../../..');
const dataset = path.join(root, 'media/datasets/fashion-target');

function experiment(backbone: object, strategy: object = { kind: 'feature-extraction' }): ResolvedExperiment {
  const text = JSON.stringify({ name: 'Keras job', data: { dir: dataset, seed: 7, split: { val: 0.2, test: 0.1 } }, backbone, strategy });
  const loaded = loadExperimentText(text, path.join(os.tmpdir(), 'k.tlexp.json'));
  assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.errors));
  return loaded.value;
}

test('splits.json holds exactly the files of each split that our dataset index gives, relative to the dataset folder', () => {
  const e = experiment({ catalog: 'fmnist-mini' });
  const indexed = indexDataset(e.data.dir, { split: e.data.split, seed: e.data.seed });
  assert.ok(indexed.ok);
  const splits = v.parse(KerasSplitsSchema, kerasSplits(indexed.value));
  for (const split of ['train', 'val', 'test'] as const) {
    const ours: [string, number][] = indexed.value.items
      .filter((i) => i.split === split)
      .map((i) => [path.relative(dataset, i.path).split(path.sep).join('/'), i.label]);
    assert.deepEqual(
      splits.splits[split].map((i) => [i.path, i.label]),
      ours,
    );
    assert.ok(splits.splits[split].every((i) => fs.existsSync(path.join(dataset, i.path))));
  }
  assert.deepEqual([splits.splits.train.length, splits.splits.val.length, splits.splits.test.length], [100, 50, 250]);
  assert.deepEqual(splits.classes, indexed.value.classes);
});

test('job.json: a Keras Applications entry is its keras.applications class at its input size, cut and preprocess_input mode', () => {
  const e = experiment({ catalog: 'mobilenet_v2' }, { kind: 'fine-tune', unfreezeFrom: 'block_16_expand', baseLearningRate: 1e-4, warmupEpochs: 2 });
  const resolved = resolveJobBackbone(e, { entry: findCatalogEntry('mobilenet_v2') }, root);
  assert.ok(resolved.ok);
  assert.equal(resolved.copyFrom, undefined);
  const job = v.parse(KerasJobSchema, kerasJob(e, resolved.value, { runsDir: '/runs', slug: 'keras-job' }));
  assert.deepEqual(job.backbone, { kind: 'keras-application', constructor: 'MobileNetV2' });
  assert.deepEqual(job.inputSize, [224, 224, 3]);
  assert.equal(job.cutAt, findCatalogEntry('mobilenet_v2')?.defaultCut);
  assert.equal(job.pixels.mode, 'tf');
  assert.deepEqual(job.pixels.offset, [-1, -1, -1]);
  assert.equal(job.config.strategy.kind, 'fine-tune');
});

test('job.json: the shipped fmnist-mini is copied beside train.py and cut where its model card says', () => {
  const e = experiment({ catalog: 'fmnist-mini' });
  const card = JSON.parse(fs.readFileSync(path.join(root, 'media/backbones/fmnist-mini/card.json'), 'utf8')) as { cutAt: string };
  const resolved = resolveJobBackbone(e, { entry: findCatalogEntry('fmnist-mini'), card }, root);
  assert.ok(resolved.ok);
  assert.equal(resolved.copyFrom, path.join(root, 'media/backbones/fmnist-mini'));
  assert.deepEqual(resolved.value.backbone, { kind: 'tfjs-layers', dir: 'backbone' });
  assert.equal(resolved.value.cutAt, 'out_relu');
  assert.equal(resolved.value.mode, 'zero-one');
});

test('backbones a Keras job cannot take are refused naming the field and what to do', () => {
  const id = 'mobilenet_v2_1.00_224';
  assert.ok(findCatalogEntry(id));
  const tfjs = resolveJobBackbone(experiment({ catalog: id }), { entry: findCatalogEntry(id) }, root);
  assert.ok(!tfjs.ok);
  assert.equal(tfjs.field, 'backbone.catalog');
  assert.match(tfjs.hint, /"mobilenet_v2"/);
  const local = resolveJobBackbone(experiment({ path: '/models/net.keras' }), {}, root);
  assert.ok(!local.ok);
  assert.equal(local.field, 'backbone.preprocessing');
  const withMode = resolveJobBackbone(experiment({ path: '/models/net.keras', preprocessing: 'torch' }), {}, root);
  assert.ok(withMode.ok);
  assert.deepEqual(withMode.value.backbone, { kind: 'keras-file', path: '/models/net.keras' });
  assert.equal(withMode.value.inputSize, null);
  const onnx = resolveJobBackbone(experiment({ path: '/models/net.onnx', preprocessing: 'tf' }), {}, root);
  assert.ok(!onnx.ok);
  assert.equal(onnx.field, 'backbone.path');
});

test('train.py is valid Python (compiled by the python on PATH, when there is one)', (t) => {
  const py = spawnSync('python3', ['-c', 'import sys, ast; ast.parse(sys.stdin.read())'], { input: TRAIN_PY, encoding: 'utf8' });
  if (py.error) return t.skip('no python3 on PATH');
  assert.equal(py.status, 0, py.stderr);
  assert.match(TRAIN_PY, /MultiWorkerMirroredStrategy/);
  assert.match(TRAIN_PY, /if __name__ == "__main__":/);
});
