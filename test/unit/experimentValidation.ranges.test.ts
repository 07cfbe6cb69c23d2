// Experiment file checks: numeric ranges, split fractions, dropout and augmentation, the
// backbone source and how paths resolve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExperimentFile } from '../../src/core/experiment';
import { loadExperimentText, resolveExperiment } from '../../src/core/experimentValidation';
import { FILE, minimal, withPatch, text, valueOf, errorAt, warningsOf } from './experimentValidationHelpers';

test('numeric ranges: epochs, batch size, learning rate, momentum, seed', () => {
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { epochs: 0 })),
      'train.epochs',
    ).message,
    /must be a positive integer, got 0/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { batchSize: 0 })),
      'train.batchSize',
    ).message,
    /must be at least 1, got 0/,
  );
  for (const lr of [0, -0.1, 1e9]) {
    const e = errorAt(
      withPatch((x) => (x.train = { learningRate: lr })),
      'train.learningRate',
    );
    assert.equal(e.message, `must be greater than 0 and at most 1, got ${lr}`);
    assert.match(e.hint ?? '', /0\.001 for adam/);
  }
  const [w] = warningsOf(withPatch((x) => (x.train = { learningRate: 0.5 })));
  assert.equal(w.path, 'train.learningRate');
  assert.match(w.message, /0\.5 is very high/);
  assert.deepEqual(warningsOf(withPatch((x) => (x.train = { learningRate: 0.1 }))), []);
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { optimizer: 'sgd', momentum: 1 })),
      'train.momentum',
    ).message,
    /from 0 up to \(not including\) 1, got 1/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.data.seed = -1)),
      'data.seed',
    ).message,
    /from 0 to 4294967295, got -1/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.data.seed = 1.5)),
      'data.seed',
    ).message,
    /must be a whole number, got 1\.5/,
  );
});

test('split fractions: each in [0, 1), and val + test below 1', () => {
  assert.match(
    errorAt(
      withPatch((x) => (x.data.split = { val: 1 })),
      'data.split.val',
    ).message,
    /from 0 up to \(not including\) 1, got 1/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.data.split = { test: -0.1 })),
      'data.split.test',
    ).message,
    /got -0\.1/,
  );
  const e = errorAt(
    withPatch((x) => (x.data.split = { val: 0.5, test: 0.5 })),
    'data.split',
  );
  assert.equal(e.message, 'val + test must leave images for training, got 0.5 + 0.5 = 1');
  // With a default: val 0.95 + the default test 0.1.
  assert.match(
    errorAt(
      withPatch((x) => (x.data.split = { val: 0.95 })),
      'data.split',
    ).message,
    /0\.95 \+ 0\.1/,
  );
  const { value } = valueOf(loadExperimentText(text(withPatch((x) => (x.data.split = { val: 0.3, test: 0 }))), FILE));
  assert.deepEqual(value.data.split, { val: 0.3, test: 0 });
});

test('dropout and augmentation ranges', () => {
  assert.match(
    errorAt(
      withPatch((x) => (x.head = { dropout: 1 })),
      'head.dropout',
    ).message,
    /from 0 up to \(not including\) 1, got 1/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.head = { dropout: -0.2 })),
      'head.dropout',
    ).message,
    /got -0\.2/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.data.augment = { rotate: 400 })),
      'data.augment.rotate',
    ).message,
    /from 0 to 180, got 400/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.data.augment = { zoom: 1 })),
      'data.augment.zoom',
    ).message,
    /from 0 to below 1, got 1/,
  );
  const r = valueOf(loadExperimentText(text(withPatch((x) => (x.data.augment = { flip: false }))), FILE));
  assert.equal(r.value.data.augment, null);
  assert.match(r.warnings[0].message, /every transform is off/);
  const n = valueOf(loadExperimentText(text(withPatch((x) => (x.data.augment = null))), FILE));
  assert.equal(n.value.data.augment, null);
  assert.deepEqual(n.warnings, []);
});

test('backbone: exactly one of catalog, path or url', () => {
  let e = errorAt(
    withPatch((x) => (x.backbone = { cutAt: 'out_relu' })),
    'backbone',
  );
  assert.equal(e.message, 'needs one of "catalog", "path" or "url"');
  e = errorAt(
    withPatch((x) => (x.backbone = { catalog: 'a', path: 'b/model.json' })),
    'backbone',
  );
  assert.equal(e.message, 'must have exactly one of "catalog", "path" or "url", got "catalog" and "path"');
  assert.equal(e.hint, 'Keep one of catalog, path and remove the other.');
  e = errorAt(
    withPatch((x) => (x.backbone = { path: 'https://example.com/model.json' })),
    'backbone.path',
  );
  assert.equal(e.hint, 'Use { "url": "https://example.com/model.json" } instead.');
  e = errorAt(
    withPatch((x) => (x.backbone = { url: 'ftp://example.com/model.json' })),
    'backbone.url',
  );
  assert.match(e.message, /must be an http\(s\) address, got 'ftp:'/);
  e = errorAt(
    withPatch((x) => (x.backbone = { url: 'file:///m/model.json' })),
    'backbone.url',
  );
  assert.match(e.hint ?? '', /use \{ "path": "\.\.\." \}/);
  e = errorAt(
    withPatch((x) => (x.backbone = { url: 'not a url' })),
    'backbone.url',
  );
  assert.match(e.message, /is not a valid URL/);
  assert.match(
    errorAt(
      withPatch((x) => (x.backbone.cutAt = '')),
      'backbone.cutAt',
    ).message,
    /non-empty string/,
  );
});

test('paths resolve against the experiment file folder; URLs, absolute paths and catalog ids are kept', () => {
  const dir = path.dirname(FILE);
  let r = valueOf(resolveExperiment(withPatch((x) => (x.backbone = { path: '../models/base/model.json', cutAt: 'out_relu' })) as ExperimentFile, FILE)).value;
  assert.deepEqual(r.backbone, { path: path.resolve(dir, '../models/base/model.json'), cutAt: 'out_relu' });
  r = valueOf(resolveExperiment(withPatch((x) => (x.backbone = { url: 'https://example.com/m/model.json' })) as ExperimentFile, FILE)).value;
  assert.deepEqual(r.backbone, { url: 'https://example.com/m/model.json' });
  const abs = path.join(os.tmpdir(), 'elsewhere', 'images');
  r = valueOf(resolveExperiment(withPatch((x) => (x.data.dir = abs)) as ExperimentFile, FILE)).value;
  assert.equal(r.data.dir, abs);
  r = valueOf(resolveExperiment(withPatch((x) => (x.data.dir = '~/datasets/cats')) as ExperimentFile, FILE)).value;
  assert.equal(r.data.dir, path.join(os.homedir(), 'datasets', 'cats'));
  // A relative experiment file path is made absolute first.
  r = valueOf(resolveExperiment(minimal() as ExperimentFile, 'exp/a.tlexp.json')).value;
  assert.equal(r.file, path.resolve('exp/a.tlexp.json'));
  assert.equal(r.data.dir, path.resolve('exp/datasets/flowers'));
});

test('train.seed: a whole number from 0 to 2^32 - 1, resolved to data.seed when absent', () => {
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { seed: -1 })),
      'train.seed',
    ).message,
    /from 0 to 4294967295, got -1/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { seed: 2.5 })),
      'train.seed',
    ).message,
    /must be a whole number, got 2\.5/,
  );
  assert.equal(valueOf(loadExperimentText(text(withPatch((x) => (x.train = { seed: 7 }))), FILE)).value.train.seed, 7);
  assert.equal(valueOf(loadExperimentText(text(withPatch((x) => (x.data.seed = 9))), FILE)).value.train.seed, 9);
});
