// The experiment file as a user writes it: every mistake is named by JSON path, says what
// is wrong and what to do, and points at a line and column; defaults and paths resolve.
// Ranges, strategy and backbone fields are in the other experimentValidation.*.test.ts files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExperimentFile } from '../../src/core/experiment';
import {
  checkExperimentAgainstDataset,
  closest,
  formatProblem,
  loadExperimentText,
  parseExperimentText,
  resolveExperiment,
  validateExperiment,
} from '../../src/core/experimentValidation';
import { FILE, minimal, withPatch, text, errorsOf, valueOf, errorAt, warningsOf } from './experimentValidationHelpers';

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
      // train.seed defaults to data.seed: one seed fixes the whole run.
      seed: 42,
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
