// Experiment file checks of the training strategy: kinds, fine-tuning, rates, schedules,
// early stopping and optimizer warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExperimentText } from '../../src/core/experimentValidation';
import { FILE, withPatch, text, valueOf, errorAt, warningsOf } from './experimentValidationHelpers';

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
