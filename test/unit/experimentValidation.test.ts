// The experiment file as a user writes it: every mistake is named by JSON path, says what
// is wrong and what to do, and points at a line and column; defaults and paths resolve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExperimentFile, InputProblem, Validated } from '../../src/core/experiment';
import {
  checkExperimentAgainstDataset,
  closest,
  formatProblem,
  loadExperimentText,
  parseExperimentText,
  resolveExperiment,
  validateExperiment,
} from '../../src/core/experimentValidation';

const FILE = path.join(os.tmpdir(), 'proj', 'flowers.tlexp.json');

const minimal = (): Record<string, any> => ({
  name: 'flowers',
  data: { dir: 'datasets/flowers' },
  backbone: { catalog: 'mobilenet_v2_1.00_224' },
  strategy: { kind: 'feature-extraction' },
});

/** `minimal()` with `patch` applied to it (a function that edits the object). */
function withPatch(patch: (e: Record<string, any>) => void): Record<string, any> {
  const e = minimal();
  patch(e);
  return e;
}

const text = (v: unknown) => JSON.stringify(v, null, 2);

function errorsOf<T>(r: Validated<T>): InputProblem[] {
  assert.equal(r.ok, false, `expected errors, got a valid result`);
  return (r as { errors: InputProblem[] }).errors;
}

function valueOf<T>(r: Validated<T>): { value: T; warnings: InputProblem[] } {
  assert.ok(r.ok, `expected valid, got ${r.ok ? '' : r.errors.map((e) => formatProblem(e)).join('\n')}`);
  return r as { value: T; warnings: InputProblem[] };
}

/** The single error (or the one at `at`) of checking this experiment object. */
function errorAt(exp: unknown, at: string): InputProblem {
  const errors = errorsOf(parseExperimentText(text(exp), FILE));
  const hit = errors.find((e) => e.path === at);
  assert.ok(hit, `no error at ${at}; got ${errors.map((e) => `${e.path}: ${e.message}`).join(' | ')}`);
  return hit;
}

function warningsOf(exp: unknown): InputProblem[] {
  return valueOf(loadExperimentText(text(exp), FILE)).warnings;
}

test('a minimal file resolves with every default filled in and paths made absolute', () => {
  const { value, warnings } = valueOf(loadExperimentText(text(minimal()), FILE));
  assert.deepEqual(warnings, []);
  assert.deepEqual(value, {
    name: 'flowers',
    file: FILE,
    data: { dir: path.join(os.tmpdir(), 'proj', 'datasets', 'flowers'), split: { val: 0.2, test: 0.1 }, seed: 42, augment: null, resize: 'squash' },
    backbone: { catalog: 'mobilenet_v2_1.00_224' },
    strategy: { kind: 'feature-extraction' },
    head: { pooling: 'avg', dense: [], dropout: 0.2 },
    train: {
      epochs: 10,
      batchSize: 32,
      optimizer: 'adam',
      learningRate: 0.001,
      momentum: 0,
      schedule: { kind: 'constant' },
      earlyStopping: null,
      checkpointMetric: 'val_accuracy',
    },
  });
});

test("the issue's example file is valid and keeps every value it sets", () => {
  const example = {
    name: 'flowers-mobilenet',
    data: { dir: 'datasets/flowers', split: { val: 0.2, test: 0.1 }, seed: 42, augment: { flip: true, rotate: 10, zoom: 0.1 } },
    backbone: { catalog: 'mobilenet_v2_1.00_224' },
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_13_expand', baseLearningRate: 1e-5, warmupEpochs: 2 },
    head: { pooling: 'avg', dense: [128], dropout: 0.2 },
    train: { epochs: 10, batchSize: 32, optimizer: 'adam', learningRate: 0.001, earlyStopping: { patience: 3 } },
  };
  const { value, warnings } = valueOf(loadExperimentText(text(example), FILE));
  assert.deepEqual(warnings, []);
  assert.deepEqual(value.data.augment, { flip: true, rotate: 10, zoom: 0.1, brightness: 0, contrast: 0 });
  assert.deepEqual(value.strategy, { kind: 'fine-tune', unfreezeFrom: 'block_13_expand', baseLearningRate: 1e-5, warmupEpochs: 2 });
  assert.deepEqual(value.head.dense, [128]);
  assert.deepEqual(value.train.earlyStopping, { patience: 3, monitor: 'val_loss' });
});

test('negative epochs: the message a user sees names file, field, value and what to do', () => {
  const r = validateExperiment(withPatch((e) => (e.train = { epochs: -3 })));
  const [problem] = errorsOf(r);
  assert.equal(
    formatProblem(problem, 'flowers.tlexp.json'),
    'flowers.tlexp.json: train.epochs: must be a positive integer, got -3. Set it to the number of passes over the training images, e.g. 10.',
  );
  // Parsed from text, the same problem also carries its line and column.
  const located = errorAt(
    withPatch((e) => (e.train = { epochs: -3 })),
    'train.epochs',
  );
  const lines = text(withPatch((e) => (e.train = { epochs: -3 }))).split('\n');
  assert.equal(lines[located.line! - 1].indexOf('"epochs"') + 1, located.column);
  assert.match(formatProblem(located, 'flowers.tlexp.json'), /^flowers\.tlexp\.json:\d+:\d+: train\.epochs: must be a positive integer, got -3\./);
});

test('invalid JSON: line and column, what is wrong and a hint', () => {
  const cases: [string, RegExp, RegExp, [number, number]][] = [
    ['{\n  "name": "x",\n}', /trailing comma before '}'/, /Remove the last comma/, [3, 1]],
    ['{\n  "name": "x" // mine\n}', /comments are not allowed: experiment files are plain JSON/, /description/, [2, 15]],
    ['{\n  /* block */ "name": "x"\n}', /comments are not allowed/, /Remove the comment/, [2, 3]],
    ['{\n  "name": "x"\n  "data": {}\n}', /missing ',' after the value of "name"/, /Add a comma/, [3, 3]],
    ["{ 'name': 'x' }", /property names must use double quotes/, /double quotes/, [1, 3]],
    ['{ "name": \'x\' }', /strings must use double quotes/, /double quotes/, [1, 11]],
    ['{ "name": "x", "train": { "epochs": 10 }', /the file ends inside an object/, /missing closing/, [1, 41]],
    ['{ "name": "x }', /a string is not closed/, /closing double quote/, [1, 11]],
    ['{ "a": [1, 2,] }', /trailing comma before ']'/, /Remove the last comma/, [1, 14]],
    ['{ "a": NaN }', /NaN is not allowed in JSON/, /number or null/, [1, 8]],
    ['{ "a": .5 }', /numbers need a digit before the point/, /0\.5/, [1, 8]],
    ['{ "a": 07 }', /invalid number/, /cannot start with 0/, [1, 8]],
    ['{ "a": True }', /True is not JSON/, /Write true/, [1, 8]],
    ['{ "dir": "C:\\data" }', /invalid escape '\\d'/, /doubled/, [1, 13]],
    ['{ "a": 1 } x', /unexpected 'x' after the end of the JSON object/, /exactly one JSON object/, [1, 12]],
    ['{ "a" 1 }', /expected ':' after the property name "a"/, /"a": value/, [1, 7]],
    ['{ "a": mobilenet }', /unexpected word 'mobilenet'; text values need double quotes/, /"mobilenet"/, [1, 8]],
  ];
  for (const [source, message, hint, [line, column]] of cases) {
    const [e] = errorsOf(parseExperimentText(source, FILE));
    assert.equal(e.path, '', source);
    assert.match(e.message, /^not valid JSON: line \d+, column \d+: /, source);
    assert.match(e.message, message, source);
    assert.match(e.hint ?? '', hint, source);
    assert.deepEqual([e.line, e.column], [line, column], source);
  }
});

test('an empty file, a non-object and a byte-order mark', () => {
  assert.match(errorsOf(parseExperimentText('  \n', FILE))[0].message, /the file is empty/);
  const [arr] = errorsOf(parseExperimentText('[1, 2]', FILE));
  assert.match(arr.message, /must contain a JSON object, got a list/);
  valueOf(parseExperimentText('\ufeff' + text(minimal()), FILE));
});

test('required fields are named when missing', () => {
  for (const key of ['name', 'data', 'backbone', 'strategy']) {
    const e = errorAt(
      withPatch((x) => delete x[key]),
      key,
    );
    assert.match(e.message, /^is missing: /);
    assert.match(e.hint ?? '', new RegExp(`"${key}":`));
  }
  assert.match(
    errorAt(
      withPatch((x) => (x.data = {})),
      'data.dir',
    ).message,
    /is missing: the dataset folder/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.name = '')),
      'name',
    ).message,
    /must be a non-empty string, got the string ""/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.strategy = {})),
      'strategy.kind',
    ).message,
    /is missing/,
  );
});

test('unknown fields: named, with the closest known name or where they belong', () => {
  let e = errorAt(
    withPatch((x) => (x.train = { epoch: 5 })),
    'train.epoch',
  );
  assert.equal(e.message, "unknown field 'epoch'");
  assert.equal(e.hint, 'Did you mean "epochs"?');
  e = errorAt(
    withPatch((x) => (x.train = { learning_rate: 0.01 })),
    'train.learning_rate',
  );
  assert.equal(e.hint, 'Did you mean "learningRate"?');
  e = errorAt(
    withPatch((x) => (x.train = { batchsize: 8 })),
    'train.batchsize',
  );
  assert.equal(e.hint, 'Did you mean "batchSize"?');
  e = errorAt(
    withPatch((x) => (x.epochs = 5)),
    'epochs',
  );
  assert.equal(e.hint, '"epochs" belongs in train; move it there.');
  e = errorAt(
    withPatch((x) => (x.colour = 'red')),
    'colour',
  );
  assert.equal(e.hint, 'Allowed at the top level: $schema, name, description, data, backbone, strategy, head, train.');
  e = errorAt(
    withPatch((x) => (x.data.augment = { flipp: true })),
    'data.augment.flipp',
  );
  assert.equal(e.hint, 'Did you mean "flip"?');
  e = errorAt(
    withPatch((x) => (x.backbone.cut_at = 'out_relu')),
    'backbone.cut_at',
  );
  assert.equal(e.hint, 'Did you mean "cutAt"?');
  assert.equal(closest('xyzzy', ['epochs', 'batchSize']), undefined);
});

test('wrong types say what was expected and what came', () => {
  let e = errorAt(
    withPatch((x) => (x.train = { epochs: '10' })),
    'train.epochs',
  );
  assert.equal(e.message, 'must be a whole number, got the string "10"');
  assert.equal(e.hint, 'Write the number without quotes: 10.');
  e = errorAt(
    withPatch((x) => (x.train = { batchSize: 3.5 })),
    'train.batchSize',
  );
  assert.equal(e.message, 'must be a whole number, got 3.5');
  e = errorAt(
    withPatch((x) => (x.train = { optimizer: 'adamw' })),
    'train.optimizer',
  );
  assert.equal(e.message, 'must be one of "adam", "sgd", "rmsprop", got the string "adamw"');
  assert.equal(e.hint, 'Did you mean "adam"?');
  e = errorAt(
    withPatch((x) => (x.head = { pooling: 'average' })),
    'head.pooling',
  );
  assert.match(e.message, /must be one of "avg", "max", "flatten"/);
  e = errorAt(
    withPatch((x) => (x.head = { dense: 128 })),
    'head.dense',
  );
  assert.equal(e.message, 'must be a list of layer sizes, got 128');
  e = errorAt(
    withPatch((x) => (x.head = { dense: [64, 0, 'x'] })),
    'head.dense[1]',
  );
  assert.match(e.message, /must be a positive whole number of units, got 0/);
  errorAt(
    withPatch((x) => (x.head = { dense: [64, 0, 'x'] })),
    'head.dense[2]',
  );
  e = errorAt(
    withPatch((x) => (x.data.augment = { flip: 'yes' })),
    'data.augment.flip',
  );
  assert.equal(e.message, 'must be true or false, got the string "yes"');
  e = errorAt(
    withPatch((x) => (x.train = [])),
    'train',
  );
  assert.match(e.message, /must be an object \(training settings\), got a list/);
  e = errorAt(
    withPatch((x) => (x.data.dir = 42)),
    'data.dir',
  );
  assert.match(e.message, /must be a non-empty string, got 42/);
  e = errorAt(
    withPatch((x) => (x.description = 5)),
    'description',
  );
  assert.match(e.message, /must be a string, got 5/);
});

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

test('strategy kinds, and fields that only fine-tuning uses', () => {
  let e = errorAt(
    withPatch((x) => (x.strategy = { kind: 'finetune' })),
    'strategy.kind',
  );
  assert.equal(e.message, 'must be one of "feature-extraction", "fine-tune", "scratch", got the string "finetune"');
  assert.equal(e.hint, 'Did you mean "fine-tune"?');
  e = errorAt(
    withPatch((x) => (x.strategy = { kind: 'feature-extraction', unfreezeLast: 5 })),
    'strategy.unfreezeLast',
  );
  assert.equal(e.message, 'is only used when kind is "fine-tune", but kind is "feature-extraction"');
  errorAt(
    withPatch((x) => (x.strategy = { kind: 'scratch', warmupEpochs: 1 })),
    'strategy.warmupEpochs',
  );
});

test('fine-tune: unfreezeFrom or unfreezeLast, never both; default unfreezeLast 20 and base rate lr/100', () => {
  const e = errorAt(
    withPatch((x) => (x.strategy = { kind: 'fine-tune', unfreezeFrom: 'block_13_expand', unfreezeLast: 10 })),
    'strategy',
  );
  assert.match(e.message, /has both "unfreezeFrom" and "unfreezeLast"/);
  assert.match(e.hint ?? '', /Keep one/);
  const zero = errorAt(
    withPatch((x) => (x.strategy = { kind: 'fine-tune', unfreezeLast: 0 })),
    'strategy.unfreezeLast',
  );
  assert.match(zero.hint ?? '', /"kind": "feature-extraction"/);
  let r = valueOf(loadExperimentText(text(withPatch((x) => (x.strategy = { kind: 'fine-tune' }))), FILE)).value;
  assert.deepEqual(r.strategy, { kind: 'fine-tune', unfreezeLast: 20, baseLearningRate: 0.001 / 100, warmupEpochs: 0 });
  r = valueOf(
    loadExperimentText(text(withPatch((x) => ((x.strategy = { kind: 'fine-tune', unfreezeLast: 4 }), (x.train = { optimizer: 'sgd' })))), FILE),
  ).value;
  assert.deepEqual(r.strategy, { kind: 'fine-tune', unfreezeLast: 4, baseLearningRate: 0.01 / 100, warmupEpochs: 0 });
  assert.equal(r.train.learningRate, 0.01);
  assert.equal(r.train.momentum, 0.9);
});

test('fine-tune rates and warm-up are checked against train', () => {
  const w = warningsOf(withPatch((x) => (x.strategy = { kind: 'fine-tune', baseLearningRate: 0.01 })));
  assert.equal(w[0].path, 'strategy.baseLearningRate');
  assert.match(w[0].message, /larger than train\.learningRate \(0\.001\)/);
  assert.match(
    errorAt(
      withPatch((x) => (x.strategy = { kind: 'fine-tune', baseLearningRate: 0 })),
      'strategy.baseLearningRate',
    ).message,
    /greater than 0/,
  );
  let e = errorAt(
    withPatch((x) => ((x.strategy = { kind: 'fine-tune', warmupEpochs: 5 }), (x.train = { epochs: 5 }))),
    'strategy.warmupEpochs',
  );
  assert.equal(e.message, '(5) must be less than train.epochs (5), or the backbone never trains');
  e = errorAt(
    withPatch((x) => (x.strategy = { kind: 'fine-tune', warmupEpochs: 10 })),
    'strategy.warmupEpochs',
  );
  assert.match(e.message, /train\.epochs \(10\)/, 'compared with the default epochs');
  assert.match(
    errorAt(
      withPatch((x) => (x.strategy = { kind: 'fine-tune', warmupEpochs: -1 })),
      'strategy.warmupEpochs',
    ).message,
    /0 or more/,
  );
});

test('schedules: step needs every and factor; fields of other kinds are refused', () => {
  let e = errorAt(
    withPatch((x) => (x.train = { schedule: { kind: 'step', factor: 0.1 } })),
    'train.schedule.every',
  );
  assert.match(e.message, /is missing: epochs between learning-rate drops/);
  e = errorAt(
    withPatch((x) => (x.train = { schedule: { kind: 'step', every: 3, factor: 2 } })),
    'train.schedule.factor',
  );
  assert.match(e.message, /between 0 and 1 \(both excluded\), got 2/);
  e = errorAt(
    withPatch((x) => (x.train = { schedule: { kind: 'cosine', every: 3 } })),
    'train.schedule.every',
  );
  assert.equal(e.message, 'is only used when kind is "step", but kind is "cosine"');
  e = errorAt(
    withPatch((x) => (x.train = { learningRate: 0.01, schedule: { kind: 'cosine', minLearningRate: 0.05 } })),
    'train.schedule.minLearningRate',
  );
  assert.match(e.message, /up to \(not including\) train\.learningRate \(0\.01\), got 0\.05/);
  e = errorAt(
    withPatch((x) => (x.train = { schedule: { kind: 'linear' } })),
    'train.schedule.kind',
  );
  assert.match(e.message, /"constant", "step", "cosine"/);
  const r = valueOf(loadExperimentText(text(withPatch((x) => (x.train = { schedule: { kind: 'cosine' } }))), FILE)).value;
  assert.deepEqual(r.train.schedule, { kind: 'cosine', minLearningRate: 0 });
  const s = valueOf(loadExperimentText(text(withPatch((x) => (x.train = { epochs: 4, schedule: { kind: 'step', every: 5, factor: 0.5 } }))), FILE));
  assert.deepEqual(s.value.train.schedule, { kind: 'step', every: 5, factor: 0.5 });
  assert.match(s.warnings[0].message, /never drops/);
});

test('early stopping: off unless given, patience required, monitor defaults to val_loss', () => {
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { earlyStopping: {} })),
      'train.earlyStopping.patience',
    ).message,
    /is missing/,
  );
  assert.match(
    errorAt(
      withPatch((x) => (x.train = { earlyStopping: { patience: 0 } })),
      'train.earlyStopping.patience',
    ).message,
    /at least 1/,
  );
  errorAt(
    withPatch((x) => (x.train = { earlyStopping: { patience: 2, monitor: 'accuracy' } })),
    'train.earlyStopping.monitor',
  );
  let r = valueOf(loadExperimentText(text(withPatch((x) => (x.train = { earlyStopping: { patience: 2, monitor: 'val_accuracy' } }))), FILE));
  assert.deepEqual(r.value.train.earlyStopping, { patience: 2, monitor: 'val_accuracy' });
  r = valueOf(loadExperimentText(text(withPatch((x) => (x.train = { earlyStopping: null }))), FILE));
  assert.equal(r.value.train.earlyStopping, null);
  const w = warningsOf(withPatch((x) => (x.train = { epochs: 3, earlyStopping: { patience: 3 } })));
  assert.match(w[0].message, /can never trigger/);
  errorAt(
    withPatch((x) => (x.train = { checkpointMetric: 'accuracy' })),
    'train.checkpointMetric',
  );
});

test('momentum with a non-sgd optimizer is a warning', () => {
  const [w] = warningsOf(withPatch((x) => (x.train = { momentum: 0.9 })));
  assert.equal(w.path, 'train.momentum');
  assert.match(w.message, /only used by the "sgd" optimizer and is ignored with "adam"/);
});

test('every problem is reported at once, in file order, each with a location', () => {
  const exp = withPatch((x) => {
    x.data.split = { val: 2 };
    x.train = { epochs: -1, batchSize: 0, learningRate: 5 };
    x.head = { dropout: 3 };
  });
  const errors = errorsOf(parseExperimentText(text(exp), FILE));
  assert.deepEqual(
    errors.map((e) => e.path),
    ['data.split.val', 'train.epochs', 'train.batchSize', 'train.learningRate', 'head.dropout'],
  );
  for (const e of errors) assert.ok(e.line && e.column, e.path);
  // A missing field points at its parent object.
  const missing = errorAt(
    withPatch((x) => (x.data = { seed: 1 })),
    'data.dir',
  );
  assert.equal(missing.line, 3);
});

test('duplicate keys are a warning (JSON keeps only the last)', () => {
  const source = '{ "name": "a", "name": "b", "data": { "dir": "d" }, "backbone": { "catalog": "c" }, "strategy": { "kind": "scratch" } }';
  const { value, warnings } = valueOf(parseExperimentText(source, FILE));
  assert.equal(value.name, 'b');
  assert.equal(warnings[0].path, 'name');
  assert.match(warnings[0].message, /appears more than once/);
  assert.equal(warnings[0].column, 16);
});

test('loadExperimentText reports each warning once', () => {
  const w = warningsOf(withPatch((x) => (x.train = { learningRate: 0.5 })));
  assert.equal(w.length, 1);
});

test('a batch larger than the training split is a warning once the dataset is known', () => {
  const r = valueOf(loadExperimentText(text(withPatch((x) => (x.train = { batchSize: 64 }))), FILE)).value;
  const [w] = checkExperimentAgainstDataset(r, 40);
  assert.equal(w.path, 'train.batchSize');
  assert.match(w.message, /64 is larger than the 40 training images/);
  assert.deepEqual(checkExperimentAgainstDataset(r, 64), []);
});

test('resolveExperiment checks objects built in code too', () => {
  const bad = withPatch((x) => (x.train = { epochs: Number.NaN }));
  assert.equal(errorsOf(resolveExperiment(bad as ExperimentFile, '<inline>'))[0].path, 'train.epochs');
});

test('backbone.preprocessing: one of the Keras modes; set only when given', () => {
  for (const mode of ['tf', 'torch', 'caffe', 'none', 'zero-one']) {
    const { value } = valueOf(loadExperimentText(text(withPatch((x) => (x.backbone.preprocessing = mode))), FILE));
    assert.equal(value.backbone.preprocessing, mode);
  }
  assert.equal('preprocessing' in valueOf(loadExperimentText(text(minimal()), FILE)).value.backbone, false, 'absent: the backbone decides');
  let e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'TF')),
    'backbone.preprocessing',
  );
  assert.equal(e.message, 'must be one of "tf", "torch", "caffe", "none", "zero-one", got the string "TF"');
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'torh')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "torch"\? "torch" is Keras's mode for DenseNet\.$/);
  // A family name: the mode Keras uses for it.
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'resnet50')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "caffe"\?/);
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'mobilenet_v2')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "tf"\?/);
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'efficientnet')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Did you mean "none"\?/);
  // A range: its mode.
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = [-1, 1])),
    'backbone.preprocessing',
  );
  assert.equal(e.hint, 'Did you mean "tf"? [-1, 1] is "tf".');
  e = errorAt(
    withPatch((x) => (x.backbone.preprocessing = 'imagenet')),
    'backbone.preprocessing',
  );
  assert.match(e.hint!, /^Pick the mode Keras's preprocess_input uses for the backbone: "tf" \(MobileNet v1\/v2.*"caffe" \(ResNet v1/);
});

test('backbone.valueRange (older files) points at backbone.preprocessing with the mode of the range', () => {
  let e = errorAt(
    withPatch((x) => (x.backbone.valueRange = [-1, 1])),
    'backbone.valueRange',
  );
  assert.equal(e.message, "unknown field 'valueRange'");
  assert.match(
    e.hint!,
    /^\[-1, 1\] is "tf" \(MobileNet v1\/v2, .*\)\. Transfer Lab takes Keras's preprocess_input mode instead of a range: .* Write it as "backbone": \{ \.\.\., "preprocessing": "tf" \}\.$/,
  );
  e = errorAt(
    withPatch((x) => (x.backbone.valueRange = [0, 1])),
    'backbone.valueRange',
  );
  assert.match(e.hint!, /^\[0, 1\] is "zero-one" .*"preprocessing": "zero-one" \}\.$/);
  e = errorAt(
    withPatch((x) => (x.backbone.value_range = [0, 255])),
    'backbone.value_range',
  );
  assert.match(e.hint!, /^\[0, 255\] is "none" .*"preprocessing": "none" \}\.$/);
  // Elsewhere in the file too.
  e = errorAt(
    withPatch((x) => (x.data.valueRange = [-1, 1])),
    'data.valueRange',
  );
  assert.match(e.hint!, /"preprocessing": "tf"/);
  // A known field in the wrong object still says where it belongs.
  e = errorAt(
    withPatch((x) => (x.preprocessing = 'tf')),
    'preprocessing',
  );
  assert.equal(e.hint, '"preprocessing" belongs in backbone; move it there.');
});

test('data.resize: one of the resize modes, default squash; Keras argument names point at it', () => {
  for (const mode of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio', 'center-crop']) {
    assert.equal(valueOf(loadExperimentText(text(withPatch((x) => (x.data.resize = mode))), FILE)).value.data.resize, mode);
  }
  assert.equal(valueOf(loadExperimentText(text(minimal()), FILE)).value.data.resize, 'squash');
  let e = errorAt(
    withPatch((x) => (x.data.resize = 'crop_to_aspect_ratio')),
    'data.resize',
  );
  assert.equal(e.message, 'must be one of "squash", "crop-to-aspect-ratio", "pad-to-aspect-ratio", "center-crop", got the string "crop_to_aspect_ratio"');
  assert.equal(e.hint, 'Did you mean "crop-to-aspect-ratio"?');
  for (const [wrote, meant] of [
    ['stretch', 'squash'],
    ['bilinear', 'squash'],
    ['letterbox', 'pad-to-aspect-ratio'],
    ['centre-crop', 'center-crop'],
    ['crop', 'crop-to-aspect-ratio'],
  ]) {
    assert.equal(
      errorAt(
        withPatch((x) => (x.data.resize = wrote)),
        'data.resize',
      ).hint,
      `Did you mean "${meant}"?`,
      wrote,
    );
  }
  e = errorAt(
    withPatch((x) => (x.data.resize = 224)),
    'data.resize',
  );
  assert.match(e.hint!, /^Pick one: "squash" \(Keras's default/);
  e = errorAt(
    withPatch((x) => (x.data.crop_to_aspect_ratio = true)),
    'data.crop_to_aspect_ratio',
  );
  assert.match(e.hint!, /write "data": \{ \.\.\., "resize": "crop-to-aspect-ratio" \}/);
  e = errorAt(
    withPatch((x) => (x.resize = 'squash')),
    'resize',
  );
  assert.equal(e.hint, '"resize" belongs in data; move it there.');
});

test('backbone.weights: a weights-only Keras file, resolved against the experiment file', () => {
  const { value } = valueOf(loadExperimentText(text(withPatch((x) => (x.backbone.weights = 'weights/resnet50_notop.h5'))), FILE));
  assert.equal(value.backbone.weights, path.join(path.dirname(FILE), 'weights', 'resnet50_notop.h5'));
  assert.equal('weights' in valueOf(loadExperimentText(text(minimal()), FILE)).value.backbone, false);
  const e = errorAt(
    withPatch((x) => (x.backbone.weights = 'model.json')),
    'backbone.weights',
  );
  assert.equal(e.message, "'model.json' is not a Keras weights file");
  assert.match(e.hint!, /save_weights\(\)/);
});
