// The JSON Schema (editor completion and squiggles) and the validator (the authority) must
// describe the same file: same property names at every level, same enums, same defaults,
// and the same verdict on a table of valid and invalid files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BACKBONE_SOURCES,
  EXPERIMENT_DEFAULTS,
  EXPERIMENT_FIELDS,
  MONITORS,
  OPTIMIZERS,
  POOLINGS,
  PREPROCESSING_MODES,
  RESIZE_MODES,
  SCHEDULE_FIELDS_BY_KIND,
  SCHEDULE_KINDS,
  STRATEGY_FIELDS_BY_KIND,
  STRATEGY_KINDS,
  validateExperiment,
} from '../../src/core/experimentValidation';

type Schema = Record<string, any>;
// In the bundle __dirname is out/test/unit.
const schemaFile = path.resolve(__dirname, '../../../media/schema/experiment.schema.json');
const schema: Schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));

const deref = (s: Schema): Schema => {
  if (typeof s.$ref !== 'string') return s;
  const target = s.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: any, key: string) => node?.[key], schema);
  assert.ok(target, `unresolved $ref ${s.$ref}`);
  return deref(target);
};
const variants = (s: Schema): Schema[] => [s, ...((s.oneOf as Schema[] | undefined) ?? [])];
const join = (at: string, key: string) => (at ? `${at}.${key}` : key);

/** JSON path -> property names the schema allows there (union over oneOf variants). */
function schemaFields(node: Schema, at: string, out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const names = new Set<string>();
  for (const v of variants(node)) {
    for (const [key, child] of Object.entries((v.properties ?? {}) as Record<string, Schema>)) {
      names.add(key);
      const c = deref(child);
      if (c.properties || c.oneOf) schemaFields(c, join(at, key), out);
    }
  }
  out.set(at, names);
  return out;
}

/** The schema of the property at a dotted path (first variant that has it). */
function propertyAt(dotted: string): Schema {
  let node: Schema = schema;
  for (const key of dotted.split('.')) {
    const found = variants(node)
      .map((v) => v.properties?.[key])
      .find(Boolean);
    assert.ok(found, `schema has no ${dotted}`);
    node = deref(found);
  }
  return node;
}

test('the schema allows exactly the fields the validator knows, at every level', () => {
  const fromSchema = schemaFields(schema, '');
  assert.deepEqual([...fromSchema.keys()].sort(), Object.keys(EXPERIMENT_FIELDS).sort());
  for (const [at, names] of fromSchema) {
    assert.deepEqual([...names].sort(), [...EXPERIMENT_FIELDS[at]].sort(), `fields of '${at || '(top level)'}'`);
  }
});

test('each strategy and schedule variant allows the fields of its kind', () => {
  const check = (node: Schema, byKind: Record<string, readonly string[]>, kinds: readonly string[], what: string) => {
    const seen: string[] = [];
    for (const v of node.oneOf as Schema[]) {
      const kind = v.properties.kind.const as string;
      seen.push(kind);
      assert.deepEqual(Object.keys(v.properties).sort(), [...byKind[kind]].sort(), `${what} '${kind}'`);
      assert.equal(v.additionalProperties, false, `${what} '${kind}' refuses other fields`);
    }
    assert.deepEqual(seen.sort(), [...kinds].sort());
  };
  check(propertyAt('strategy'), STRATEGY_FIELDS_BY_KIND, STRATEGY_KINDS, 'strategy');
  check(propertyAt('train.schedule'), SCHEDULE_FIELDS_BY_KIND, SCHEDULE_KINDS, 'schedule');
  const backbone = propertyAt('backbone');
  assert.deepEqual((backbone.oneOf as Schema[]).map((v) => v.required[0]).sort(), [...BACKBONE_SOURCES].sort());
});

test('enums and defaults match the validator', () => {
  assert.deepEqual(propertyAt('head.pooling').enum, [...POOLINGS]);
  assert.deepEqual(propertyAt('train.optimizer').enum, [...OPTIMIZERS]);
  assert.deepEqual([...propertyAt('train.checkpointMetric').enum].sort(), [...MONITORS].sort());
  assert.deepEqual([...propertyAt('train.earlyStopping.monitor').enum].sort(), [...MONITORS].sort());
  assert.deepEqual(propertyAt('data.resize').enum, [...RESIZE_MODES]);
  assert.equal(propertyAt('data.resize').enumDescriptions.length, RESIZE_MODES.length);
  for (const v of propertyAt('backbone').oneOf as Schema[]) assert.deepEqual(deref(v.properties.preprocessing).enum, [...PREPROCESSING_MODES]);
  assert.equal(propertyAt('backbone.preprocessing').enumDescriptions.length, PREPROCESSING_MODES.length);
  const D = EXPERIMENT_DEFAULTS;
  const defaults: [string, unknown][] = [
    ['data.split', D.data.split],
    ['data.split.val', D.data.split.val],
    ['data.split.test', D.data.split.test],
    ['data.seed', D.data.seed],
    ['data.resize', D.data.resize],
    ['data.augment.flip', D.augment.flip],
    ['data.augment.rotate', D.augment.rotate],
    ['data.augment.zoom', D.augment.zoom],
    ['data.augment.brightness', D.augment.brightness],
    ['data.augment.contrast', D.augment.contrast],
    ['strategy.unfreezeLast', D.strategy.unfreezeLast],
    ['strategy.warmupEpochs', D.strategy.warmupEpochs],
    ['head.pooling', D.head.pooling],
    ['head.dense', D.head.dense],
    ['head.dropout', D.head.dropout],
    ['train.epochs', D.train.epochs],
    ['train.batchSize', D.train.batchSize],
    ['train.optimizer', D.train.optimizer],
    ['train.learningRate', D.train.learningRate[D.train.optimizer]],
    ['train.momentum', D.train.momentum.sgd],
    ['train.schedule', { kind: D.train.schedule }],
    ['train.schedule.minLearningRate', D.train.cosineMinLearningRate],
    ['train.earlyStopping.monitor', D.train.earlyStoppingMonitor],
    ['train.checkpointMetric', D.train.checkpointMetric],
  ];
  for (const [at, value] of defaults) assert.deepEqual(propertyAt(at).default, value, `default of ${at}`);
});

test('every property is described and every object refuses unknown fields', () => {
  const KEYWORDS = new Set([
    '$schema',
    '$id',
    '$ref',
    'title',
    'description',
    'markdownDescription',
    'type',
    'required',
    'additionalProperties',
    'properties',
    'oneOf',
    'not',
    'const',
    'enum',
    'enumDescriptions',
    'default',
    'defaultSnippets',
    'minimum',
    'maximum',
    'exclusiveMinimum',
    'exclusiveMaximum',
    'minLength',
    'items',
    'pattern',
    'format',
    'definitions',
  ]);
  const visit = (node: Schema, at: string) => {
    for (const key of Object.keys(node)) assert.ok(KEYWORDS.has(key), `unknown keyword '${key}' at ${at}`);
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) {
      const c = deref(child);
      assert.ok(
        typeof child.description === 'string' || typeof c.description === 'string' || typeof c.const === 'string',
        `${join(at, key)} has a description`,
      );
      visit(child, join(at, key));
    }
    for (const v of (node.oneOf ?? []) as Schema[]) visit(v, `${at} (oneOf)`);
    const isObject = node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
    if (isObject && node.properties) assert.equal(node.additionalProperties, false, `${at || '(top level)'} refuses unknown fields`);
    if (isObject && node.oneOf) for (const v of node.oneOf as Schema[]) assert.equal(v.additionalProperties, false, `${at} variants refuse unknown fields`);
  };
  visit(schema, '');
  for (const [name, def] of Object.entries(schema.definitions as Record<string, Schema>)) visit(def, `#/definitions/${name}`);
});

// A draft-07 evaluator for the keywords the schema uses (enough to compare verdicts).
function schemaErrors(node: Schema, value: unknown, at = ''): string[] {
  const s = deref(node);
  const errors: string[] = [];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(value);
    const ok = types.some((x) => x === t || (x === 'integer' && typeof value === 'number' && Number.isInteger(value)));
    if (!ok) return [`${at}: type`];
  }
  if ('const' in s && s.const !== value) errors.push(`${at}: const`);
  if (s.enum && !s.enum.includes(value)) errors.push(`${at}: enum`);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${at}: minimum`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${at}: maximum`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) errors.push(`${at}: exclusiveMinimum`);
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum) errors.push(`${at}: exclusiveMaximum`);
  }
  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) errors.push(`${at}: minLength`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) errors.push(`${at}: pattern`);
  }
  if (Array.isArray(value) && s.items) value.forEach((v, i) => errors.push(...schemaErrors(s.items, v, `${at}[${i}]`)));
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of (s.required ?? []) as string[]) if (!(r in obj)) errors.push(`${join(at, r)}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (s.properties?.[k]) errors.push(...schemaErrors(s.properties[k], v, join(at, k)));
      else if (s.additionalProperties === false) errors.push(`${join(at, k)}: additional`);
    }
  }
  if (s.oneOf) {
    const passing = (s.oneOf as Schema[]).filter((v) => schemaErrors(v, value, at).length === 0).length;
    if (passing !== 1) errors.push(`${at}: oneOf (${passing} match)`);
  }
  if (s.not && schemaErrors(s.not, value, at).length === 0) errors.push(`${at}: not`);
  return errors;
}

/** The minimal valid experiment the verdict cases start from. */
const base = () => ({
  name: 'flowers',
  data: { dir: 'datasets/flowers' },
  backbone: { catalog: 'mobilenet_v2_1.00_224' } as Record<string, unknown>,
  strategy: { kind: 'feature-extraction' } as Record<string, unknown>,
});

/** Valid files, from minimal to everything set. */
function wellFormedCases(): [string, Record<string, unknown>][] {
  return [
    ['minimal', base()],
    [
      "the issue's example",
      {
        ...base(),
        data: { dir: 'd', split: { val: 0.2, test: 0.1 }, seed: 42, augment: { flip: true, rotate: 10, zoom: 0.1 } },
        strategy: { kind: 'fine-tune', unfreezeFrom: 'block_13_expand', baseLearningRate: 1e-5, warmupEpochs: 2 },
        head: { pooling: 'avg', dense: [128], dropout: 0.2 },
        train: { epochs: 10, batchSize: 32, optimizer: 'adam', learningRate: 0.001, earlyStopping: { patience: 3 } },
      },
    ],
    [
      'everything set',
      {
        $schema: './schema.json',
        description: 'all of it',
        ...base(),
        backbone: { url: 'https://example.com/m/model.json', cutAt: 'block2_pool' },
        strategy: { kind: 'fine-tune', unfreezeLast: 10 },
        data: { dir: 'd', augment: { flip: false, rotate: 5, zoom: 0.2, brightness: 0.1, contrast: 0.1 } },
        train: {
          optimizer: 'sgd',
          momentum: 0.8,
          schedule: { kind: 'step', every: 2, factor: 0.5 },
          earlyStopping: { patience: 2, monitor: 'val_accuracy' },
          checkpointMetric: 'val_loss',
        },
      },
    ],
    ['null augment and early stopping', { ...base(), data: { dir: 'd', augment: null }, train: { earlyStopping: null } }],
    ['cosine schedule', { ...base(), train: { schedule: { kind: 'cosine', minLearningRate: 0 } } }],
    ['local path backbone', { ...base(), backbone: { path: 'm/model.json' } }],
    ['scratch', { ...base(), strategy: { kind: 'scratch' } }],
  ];
}

/** One change each from the minimal file: mostly mistakes, then the resize and preprocessing fields. */
function oneChangeCases(): [string, Record<string, unknown>][] {
  return [
    ['unknown top-level field', { ...base(), epochs: 3 }],
    ['unknown nested field', { ...base(), train: { epoch: 3 } }],
    ['missing name', { data: { dir: 'd' }, backbone: { catalog: 'c' }, strategy: { kind: 'scratch' } }],
    ['missing data.dir', { ...base(), data: {} }],
    ['epochs as a string', { ...base(), train: { epochs: '10' } }],
    ['epochs 0', { ...base(), train: { epochs: 0 } }],
    ['epochs 2.5', { ...base(), train: { epochs: 2.5 } }],
    ['batch size 0', { ...base(), train: { batchSize: 0 } }],
    ['learning rate 0', { ...base(), train: { learningRate: 0 } }],
    ['learning rate 2', { ...base(), train: { learningRate: 2 } }],
    ['val 1', { ...base(), data: { dir: 'd', split: { val: 1 } } }],
    ['negative test', { ...base(), data: { dir: 'd', split: { test: -0.1 } } }],
    ['dropout 1', { ...base(), head: { dropout: 1 } }],
    ['dense 0', { ...base(), head: { dense: [0] } }],
    ['pooling typo', { ...base(), head: { pooling: 'average' } }],
    ['two backbone sources', { ...base(), backbone: { catalog: 'c', path: 'p' } }],
    ['no backbone source', { ...base(), backbone: { cutAt: 'x' } }],
    ['ftp url', { ...base(), backbone: { url: 'ftp://x/model.json' } }],
    ['unknown strategy kind', { ...base(), strategy: { kind: 'finetune' } }],
    ['strategy without kind', { ...base(), strategy: {} }],
    ['fine-tune with both', { ...base(), strategy: { kind: 'fine-tune', unfreezeFrom: 'a', unfreezeLast: 3 } }],
    ['unfreezeLast on feature extraction', { ...base(), strategy: { kind: 'feature-extraction', unfreezeLast: 3 } }],
    ['unfreezeLast 0', { ...base(), strategy: { kind: 'fine-tune', unfreezeLast: 0 } }],
    ['step schedule without every', { ...base(), train: { schedule: { kind: 'step', factor: 0.1 } } }],
    ['cosine with every', { ...base(), train: { schedule: { kind: 'cosine', every: 2 } } }],
    ['early stopping without patience', { ...base(), train: { earlyStopping: {} } }],
    ['monitor typo', { ...base(), train: { earlyStopping: { patience: 2, monitor: 'loss' } } }],
    ['optimizer typo', { ...base(), train: { optimizer: 'adamw' } }],
    ['seed -1', { ...base(), data: { dir: 'd', seed: -1 } }],
    ['flip as a string', { ...base(), data: { dir: 'd', augment: { flip: 'yes' } } }],
    ['empty name', { ...base(), name: '' }],
    ['resize and preprocessing', { ...base(), data: { dir: 'd', resize: 'crop-to-aspect-ratio' }, backbone: { path: 'm/model.json', preprocessing: 'caffe' } }],
    ['preprocessing on a url backbone', { ...base(), backbone: { url: 'https://example.com/m/model.json', preprocessing: 'torch' } }],
    ['resize typo', { ...base(), data: { dir: 'd', resize: 'stretch' } }],
    ['preprocessing typo', { ...base(), backbone: { catalog: 'c', preprocessing: 'inception' } }],
    ['a value range', { ...base(), backbone: { catalog: 'c', valueRange: [-1, 1] } }],
  ];
}

test('the schema and the validator give the same verdict on valid and invalid files', () => {
  const cases: [string, Record<string, unknown>][] = [...wellFormedCases(), ...oneChangeCases()];
  for (const [label, exp] of cases) {
    const validator = validateExperiment(exp);
    const fromSchema = schemaErrors(schema, exp);
    assert.equal(
      fromSchema.length === 0,
      validator.ok,
      `${label}: schema says ${fromSchema.length ? fromSchema.join(', ') : 'valid'}, validator says ${validator.ok ? 'valid' : validator.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`,
    );
  }
});
