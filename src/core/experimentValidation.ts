// Reading an experiment file: plain JSON text -> a checked ExperimentFile -> a
// ResolvedExperiment with every default filled in and paths made absolute.
//
// Hand-written checks (no schema engine at run time) so every problem names the JSON path,
// says what is wrong and what is allowed, and points at a line and column. The JSON Schema
// in media/schema/experiment.schema.json describes the same fields for editor completion;
// test/unit/experimentSchema.test.ts keeps the two from drifting apart.
import * as os from 'node:os';
import * as path from 'node:path';
import type { AugmentSpec, ExperimentFile, InputProblem, ResolvedExperiment, Validated } from './experiment';
import { modeForValueRange, PREPROCESSING_MODES, RESIZE_MODES, type PreprocessingMode } from './preprocessing';

// ---------------------------------------------------------------------------------------
// The vocabulary: known fields per object, enums and defaults (shared with the schema test)
// ---------------------------------------------------------------------------------------

/** Property names allowed in each object of the file, keyed by JSON path ('' is the top). */
export const EXPERIMENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': ['$schema', 'name', 'description', 'data', 'backbone', 'strategy', 'head', 'train'],
  data: ['dir', 'split', 'seed', 'augment', 'resize'],
  'data.split': ['val', 'test'],
  'data.augment': ['flip', 'rotate', 'zoom', 'brightness', 'contrast'],
  backbone: ['catalog', 'path', 'url', 'cutAt', 'preprocessing', 'weights'],
  strategy: ['kind', 'unfreezeFrom', 'unfreezeLast', 'baseLearningRate', 'warmupEpochs'],
  head: ['pooling', 'dense', 'dropout'],
  train: ['epochs', 'batchSize', 'optimizer', 'learningRate', 'momentum', 'schedule', 'earlyStopping', 'checkpointMetric'],
  'train.schedule': ['kind', 'every', 'factor', 'minLearningRate'],
  'train.earlyStopping': ['patience', 'monitor'],
};

export const STRATEGY_KINDS = ['feature-extraction', 'fine-tune', 'scratch'] as const;
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export const POOLINGS = ['avg', 'max', 'flatten'] as const;
export const SCHEDULE_KINDS = ['constant', 'step', 'cosine'] as const;
export const MONITORS = ['val_loss', 'val_accuracy'] as const;
export const BACKBONE_SOURCES = ['catalog', 'path', 'url'] as const;
export { PREPROCESSING_MODES, RESIZE_MODES };

/** Fields each strategy kind accepts (a subset of EXPERIMENT_FIELDS.strategy). */
export const STRATEGY_FIELDS_BY_KIND: Readonly<Record<(typeof STRATEGY_KINDS)[number], readonly string[]>> = {
  'feature-extraction': ['kind'],
  'fine-tune': ['kind', 'unfreezeFrom', 'unfreezeLast', 'baseLearningRate', 'warmupEpochs'],
  scratch: ['kind'],
};

/** Fields each schedule kind accepts (a subset of EXPERIMENT_FIELDS['train.schedule']). */
export const SCHEDULE_FIELDS_BY_KIND: Readonly<Record<(typeof SCHEDULE_KINDS)[number], readonly string[]>> = {
  constant: ['kind'],
  step: ['kind', 'every', 'factor'],
  cosine: ['kind', 'minLearningRate'],
};

/**
 * Defaults, chosen to match Keras and the TensorFlow transfer-learning guides:
 * - epochs 10, dropout 0.2, Adam at 1e-3, avg pooling: the Keras "Transfer learning &
 *   fine-tuning" guide's head (GlobalAveragePooling2D + Dropout(0.2) + Dense).
 * - batchSize 32: Keras's `fit` default and the size every speed figure in the issue was
 *   measured at. (Teachable Machine uses 16 for its tiny webcam datasets; with the frozen
 *   base cached, the batch size only shapes head updates, and 32 keeps them less noisy.)
 * - learningRate per optimizer, as Keras: adam 1e-3, rmsprop 1e-3, sgd 1e-2; momentum 0.9
 *   for sgd ("SGD with momentum"), unused by the others.
 * - fine-tune: baseLearningRate = learningRate / 100 (the guide fine-tunes at 1e-5 after
 *   training the head at 1e-3); unfreezeLast 20 when neither unfreezeFrom nor unfreezeLast
 *   is given: in MobileNet v2 (cut at out_relu) that is exactly block_15, block_16 and the
 *   top conv, in MobileNet v1 (cut at conv_pw_13_relu) the last three blocks; a backbone
 *   with fewer layers trains all of them.
 * - split val 0.2 test 0.1, seed 42; early stopping off unless given (monitor val_loss,
 *   as Keras's EarlyStopping); best checkpoint by val_accuracy; constant schedule.
 * - resize "squash": what Keras's `image_dataset_from_directory` does by default, so a
 *   model trained here sees the inputs it sees in Python (README: "Preprocessing and
 *   resize", with the decode cost of big camera JPEGs against libvips's "center-crop").
 */
export const EXPERIMENT_DEFAULTS = {
  data: { split: { val: 0.2, test: 0.1 }, seed: 42, resize: 'squash' },
  augment: { flip: false, rotate: 0, zoom: 0, brightness: 0, contrast: 0 },
  strategy: { unfreezeLast: 20, baseLearningRateFactor: 0.01, warmupEpochs: 0 },
  head: { pooling: 'avg', dense: [] as number[], dropout: 0.2 },
  train: {
    epochs: 10,
    batchSize: 32,
    optimizer: 'adam',
    learningRate: { adam: 0.001, rmsprop: 0.001, sgd: 0.01 },
    momentum: { adam: 0, rmsprop: 0, sgd: 0.9 },
    schedule: 'constant',
    earlyStoppingMonitor: 'val_loss',
    checkpointMetric: 'val_accuracy',
    cosineMinLearningRate: 0,
  },
} as const;

/** Learning rates above this train but usually diverge or wreck pretrained weights. */
export const HIGH_LEARNING_RATE = 0.1;

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/**
 * Parses the text of an experiment file (plain JSON: no comments, no trailing commas) and
 * checks it. Problems carry line and column when the text locates them.
 */
export function parseExperimentText(text: string, _file: string): Validated<ExperimentFile> {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = lineStarts(source);
  const at = (offset: number) => positionOf(lines, offset);
  if (source.trim() === '') {
    return {
      ok: false,
      errors: [
        {
          path: '',
          message: 'the file is empty',
          hint: 'An experiment file is a JSON object, e.g. { "name": "my-experiment", "data": { "dir": "images" }, "backbone": { "catalog": "mobilenet_v2_1.00_224" }, "strategy": { "kind": "feature-extraction" } }.',
          line: 1,
          column: 1,
        },
      ],
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (e) {
    const scanned = scanJson(source);
    const problem: InputProblem = scanned.error
      ? { path: '', ...at(scanned.error.offset), message: '', hint: scanned.error.hint }
      : { path: '', message: '', hint: 'Fix the JSON syntax.' };
    const where = problem.line !== undefined ? `line ${problem.line}, column ${problem.column}: ` : '';
    problem.message = `not valid JSON: ${where}${scanned.error ? scanned.error.message : (e as Error).message}`;
    return { ok: false, errors: [problem] };
  }
  const scanned = scanJson(source);
  const locate = (p: string) => {
    for (let q: string | undefined = p; q !== undefined; q = parentPath(q)) {
      const offset = scanned.locations.get(q);
      if (offset !== undefined) return at(offset);
    }
    return undefined;
  };
  const checked = validateExperiment(value, locate);
  if (!checked.ok) return { ok: false, errors: byPosition(checked.errors) };
  const duplicates = scanned.duplicates.map((d): InputProblem => ({
    path: d.path,
    ...at(d.offset),
    message: 'appears more than once in the same object; only the last value counts',
    hint: 'Remove the duplicate.',
  }));
  return { ok: true, value: checked.value, warnings: [...duplicates, ...checked.warnings] };
}

/**
 * Checks a value (parsed JSON, or an object built by the wizard) against the experiment
 * shape. The authority on what an experiment file may contain.
 */
export function validateExperiment(
  value: unknown,
  locate: (jsonPath: string) => { line: number; column: number } | undefined = () => undefined,
): Validated<ExperimentFile> {
  const c = new Checker(locate);
  checkExperiment(c, value);
  if (c.errors.length > 0) return { ok: false, errors: c.errors };
  return { ok: true, value: value as ExperimentFile, warnings: c.warnings };
}

/**
 * Fills in every default and makes data.dir and backbone.path absolute (relative to the
 * experiment file's folder; a leading `~/` is the home folder). URLs and catalog ids are
 * kept as they are. Re-checks the experiment, so its warnings include the checker's.
 */
export function resolveExperiment(exp: ExperimentFile, file: string): Validated<ResolvedExperiment> {
  const checked = validateExperiment(exp);
  if (!checked.ok) return checked;
  const warnings = [...checked.warnings];
  const absoluteFile = file === '<inline>' ? file : path.resolve(file);
  const baseDir = file === '<inline>' ? process.cwd() : path.dirname(absoluteFile);
  const resolvePath = (p: string) => path.resolve(baseDir, p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
  const D = EXPERIMENT_DEFAULTS;

  const augment = resolveAugment(exp.data.augment);
  if (exp.data.augment && !augment) {
    warnings.push({
      path: 'data.augment',
      message: 'every transform is off, so no augmentation is applied',
      hint: 'Set e.g. "flip": true or "rotate": 10, or remove data.augment.',
    });
  }

  const b = exp.backbone;
  const backbone: ResolvedExperiment['backbone'] = 'catalog' in b ? { catalog: b.catalog } : 'path' in b ? { path: resolvePath(b.path) } : { url: b.url };
  if (b.cutAt !== undefined) backbone.cutAt = b.cutAt;
  if (b.preprocessing !== undefined) backbone.preprocessing = b.preprocessing;
  if (b.weights !== undefined) backbone.weights = resolvePath(b.weights);

  const t = exp.train ?? {};
  const optimizer = t.optimizer ?? D.train.optimizer;
  const learningRate = t.learningRate ?? D.train.learningRate[optimizer];
  const schedule: ResolvedExperiment['train']['schedule'] =
    t.schedule === undefined || t.schedule.kind === 'constant'
      ? { kind: 'constant' }
      : t.schedule.kind === 'step'
        ? { kind: 'step', every: t.schedule.every, factor: t.schedule.factor }
        : { kind: 'cosine', minLearningRate: t.schedule.minLearningRate ?? D.train.cosineMinLearningRate };

  const s = exp.strategy;
  let strategy: ResolvedExperiment['strategy'];
  if (s.kind === 'fine-tune') {
    const ft: Extract<ResolvedExperiment['strategy'], { kind: 'fine-tune' }> = {
      kind: 'fine-tune',
      baseLearningRate: s.baseLearningRate ?? learningRate * D.strategy.baseLearningRateFactor,
      warmupEpochs: s.warmupEpochs ?? D.strategy.warmupEpochs,
    };
    if (s.unfreezeFrom !== undefined) ft.unfreezeFrom = s.unfreezeFrom;
    else ft.unfreezeLast = s.unfreezeLast ?? D.strategy.unfreezeLast;
    strategy = ft;
  } else {
    strategy = { kind: s.kind };
  }

  const resolved: ResolvedExperiment = {
    name: exp.name,
    file: absoluteFile,
    data: {
      dir: resolvePath(exp.data.dir),
      split: { val: exp.data.split?.val ?? D.data.split.val, test: exp.data.split?.test ?? D.data.split.test },
      seed: exp.data.seed ?? D.data.seed,
      augment,
      resize: exp.data.resize ?? D.data.resize,
    },
    backbone,
    strategy,
    head: {
      pooling: exp.head?.pooling ?? D.head.pooling,
      dense: [...(exp.head?.dense ?? D.head.dense)],
      dropout: exp.head?.dropout ?? D.head.dropout,
    },
    train: {
      epochs: t.epochs ?? D.train.epochs,
      batchSize: t.batchSize ?? D.train.batchSize,
      optimizer,
      learningRate,
      momentum: t.momentum ?? D.train.momentum[optimizer],
      schedule,
      earlyStopping: t.earlyStopping ? { patience: t.earlyStopping.patience, monitor: t.earlyStopping.monitor ?? D.train.earlyStoppingMonitor } : null,
      checkpointMetric: t.checkpointMetric ?? D.train.checkpointMetric,
    },
  };
  return { ok: true, value: resolved, warnings };
}

/** parseExperimentText then resolveExperiment, with the warnings of both (once each). */
export function loadExperimentText(text: string, file: string): Validated<ResolvedExperiment> {
  const parsed = parseExperimentText(text, file);
  if (!parsed.ok) return parsed;
  const resolved = resolveExperiment(parsed.value, file);
  if (!resolved.ok) return resolved;
  const seen = new Set(parsed.warnings.map((w) => `${w.path}\u0000${w.message}`));
  return { ok: true, value: resolved.value, warnings: [...parsed.warnings, ...resolved.warnings.filter((w) => !seen.has(`${w.path}\u0000${w.message}`))] };
}

/**
 * Checks that need the indexed dataset (warnings only): a batch larger than the training
 * split, more warm-up epochs than useful, and so on.
 */
export function checkExperimentAgainstDataset(exp: ResolvedExperiment, trainImages: number): InputProblem[] {
  const problems: InputProblem[] = [];
  if (trainImages > 0 && exp.train.batchSize > trainImages) {
    problems.push({
      path: 'train.batchSize',
      message: `${exp.train.batchSize} is larger than the ${trainImages} training images, so every epoch is a single batch of ${trainImages}`,
      hint: `Set it to ${Math.max(1, 2 ** Math.floor(Math.log2(Math.max(1, trainImages / 4))))} or less so each epoch makes several updates.`,
    });
  }
  return problems;
}

/**
 * One line for a user: "<file>:<line>:<column>: <path>: <what is wrong>. <what to do>".
 * `file` is what to show (a basename or a full path); a problem's own `file` wins.
 */
export function formatProblem(problem: InputProblem, file?: string): string {
  const where = problem.file ?? file;
  const position = problem.line !== undefined ? `:${problem.line}:${problem.column ?? 1}` : '';
  const prefix = where ? `${where}${position}: ` : position ? `${position.slice(1)}: ` : '';
  const message = /[.!?]$/.test(problem.message) ? problem.message : `${problem.message}.`;
  return `${prefix}${problem.path ? `${problem.path}: ` : ''}${message}${problem.hint ? ` ${problem.hint}` : ''}`;
}

// ---------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

class Checker {
  readonly errors: InputProblem[] = [];
  readonly warnings: InputProblem[] = [];

  constructor(private readonly locate: (jsonPath: string) => { line: number; column: number } | undefined) {}

  error(at: string, message: string, hint?: string): void {
    this.errors.push(this.problem(at, message, hint));
  }

  warn(at: string, message: string, hint?: string): void {
    this.warnings.push(this.problem(at, message, hint));
  }

  private problem(at: string, message: string, hint?: string): InputProblem {
    const p: InputProblem = { path: at, message };
    if (hint) p.hint = hint;
    const loc = this.locate(at);
    if (loc) Object.assign(p, loc);
    return p;
  }

  /** An object at `at` (required or optional); reports unknown fields. */
  object(value: unknown, at: string, what: string, example: string): Json | undefined {
    if (!isRecord(value)) {
      this.error(at, `must be an object (${what}), got ${describe(value)}`, `For example: ${example}.`);
      return undefined;
    }
    this.unknownFields(value, at);
    return value;
  }

  unknownFields(obj: Json, at: string, allowed: readonly string[] = EXPERIMENT_FIELDS[at] ?? []): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      this.error(join(at, key), `unknown field '${key}'`, unknownFieldHint(key, at, allowed, obj[key]));
    }
  }

  required(obj: Json, key: string, at: string, what: string, example: string): boolean {
    if (obj[key] !== undefined) return true;
    this.error(join(at, key), `is missing: ${what}`, `Add it, e.g. "${key}": ${example}.`);
    return false;
  }

  string(obj: Json, key: string, at: string, hint: string): string | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      this.error(join(at, key), `must be a non-empty string, got ${describe(v)}`, hint);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(obj: Json, key: string, at: string, allowed: readonly T[]): T | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    const near = typeof v === 'string' ? closest(v, allowed) : undefined;
    this.error(
      join(at, key),
      `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${describe(v)}`,
      near ? `Did you mean "${near}"?` : `Pick one of ${allowed.join(', ')}.`,
    );
    return undefined;
  }

  boolean(obj: Json, key: string, at: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.error(join(at, key), `must be true or false, got ${describe(v)}`, 'Write it without quotes: true or false.');
      return undefined;
    }
    return v;
  }

  /** A finite number; `integer` also requires a whole number. Range checks are the caller's. */
  number(obj: Json, key: string, at: string, kind: 'number' | 'integer', meaning: string): number | undefined {
    const v = obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (kind === 'integer' && !Number.isInteger(v))) {
      const expected = kind === 'integer' ? 'a whole number' : 'a number';
      const quoted = typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
      this.error(join(at, key), `must be ${expected}, got ${describe(v)}`, quoted ? `Write the number without quotes: ${Number(v)}.` : `Set it to ${meaning}.`);
      return undefined;
    }
    return v;
  }
}

function checkExperiment(c: Checker, value: unknown): void {
  if (!isRecord(value)) {
    c.error('', `the file must contain a JSON object, got ${describe(value)}`, 'Start from { "name": ..., "data": ..., "backbone": ..., "strategy": ... }.');
    return;
  }
  c.unknownFields(value, '');
  c.string(value, '$schema', '', 'Point it at the Transfer Lab experiment schema, or remove it.');
  if (c.required(value, 'name', '', 'a short name for the experiment, used in run folder names', '"flowers-mobilenet"')) {
    c.string(value, 'name', '', 'Give the experiment a short name, e.g. "flowers-mobilenet".');
  }
  if (value.description !== undefined && typeof value.description !== 'string') {
    c.error('description', `must be a string, got ${describe(value.description)}`, 'Write a sentence in double quotes.');
  }
  if (c.required(value, 'data', '', 'where the images are', '{ "dir": "datasets/flowers" }')) checkData(c, value.data);
  if (c.required(value, 'backbone', '', 'the pretrained network to start from', '{ "catalog": "mobilenet_v2_1.00_224" }')) checkBackbone(c, value.backbone);
  const train = value.train === undefined ? undefined : c.object(value.train, 'train', 'training settings', '{ "epochs": 10, "batchSize": 32 }');
  const trainFacts = train ? checkTrain(c, train) : { epochs: EXPERIMENT_DEFAULTS.train.epochs, learningRate: EXPERIMENT_DEFAULTS.train.learningRate.adam };
  if (c.required(value, 'strategy', '', 'how much of the backbone trains', '{ "kind": "feature-extraction" }')) checkStrategy(c, value.strategy, trainFacts);
  if (value.head !== undefined) {
    const head = c.object(value.head, 'head', 'the new classifier on top of the backbone', '{ "pooling": "avg", "dense": [128], "dropout": 0.2 }');
    if (head) checkHead(c, head);
  }
}

function checkData(c: Checker, value: unknown): void {
  const data = c.object(value, 'data', 'where the images are and how to split them', '{ "dir": "datasets/flowers" }');
  if (!data) return;
  if (c.required(data, 'dir', 'data', 'the dataset folder (one subfolder per class, or train/ val/ test/)', '"datasets/flowers"')) {
    c.string(data, 'dir', 'data', 'Set it to the dataset folder, relative to this file, e.g. "datasets/flowers".');
  }
  if (data.split !== undefined) {
    const split = c.object(data.split, 'data.split', 'fractions of each class held out', '{ "val": 0.2, "test": 0.1 }');
    if (split) {
      const fraction = (key: 'val' | 'test', example: number) => {
        const v = c.number(split, key, 'data.split', 'number', `a fraction such as ${example}`);
        if (v !== undefined && (v < 0 || v >= 1)) {
          c.error(
            `data.split.${key}`,
            `must be a fraction from 0 up to (not including) 1, got ${v}`,
            `Set it to the share of each class held out for ${key === 'val' ? 'validation' : 'testing'}, e.g. ${example}.`,
          );
          return undefined;
        }
        return v;
      };
      const val = fraction('val', 0.2) ?? (split.val === undefined ? EXPERIMENT_DEFAULTS.data.split.val : undefined);
      const test = fraction('test', 0.1) ?? (split.test === undefined ? EXPERIMENT_DEFAULTS.data.split.test : undefined);
      if (val !== undefined && test !== undefined && val + test >= 1) {
        c.error(
          'data.split',
          `val + test must leave images for training, got ${val} + ${test} = ${round(val + test)}`,
          'Keep val + test below 1, e.g. { "val": 0.2, "test": 0.1 }.',
        );
      }
    }
  }
  checkResize(c, data);
  const seed = c.number(data, 'seed', 'data', 'integer', 'a whole number such as 42');
  if (seed !== undefined && (seed < 0 || seed > 0xffffffff)) {
    c.error(
      'data.seed',
      `must be a whole number from 0 to 4294967295, got ${seed}`,
      'Any value works; the same seed gives the same split every time, e.g. 42.',
    );
  }
  if (data.augment !== undefined && data.augment !== null) {
    const augment = c.object(data.augment, 'data.augment', 'random changes to training images', '{ "flip": true, "rotate": 10, "zoom": 0.1 }');
    if (augment) {
      c.boolean(augment, 'flip', 'data.augment');
      const range = (key: keyof AugmentSpec, max: number, inclusive: boolean, meaning: string, example: number) => {
        const v = c.number(augment, key, 'data.augment', 'number', meaning);
        if (v !== undefined && (v < 0 || v > max || (!inclusive && v === max))) {
          c.error(
            `data.augment.${key}`,
            `must be from 0 to ${inclusive ? '' : 'below '}${max}, got ${v}`,
            `Set it to ${meaning}, e.g. ${example}; 0 turns it off.`,
          );
        }
      };
      range('rotate', 180, true, 'the largest rotation in degrees', 10);
      range('zoom', 1, false, 'the largest zoom-in fraction', 0.1);
      range('brightness', 1, true, 'the largest brightness change as a fraction of full range', 0.2);
      range('contrast', 1, true, 'the largest contrast change as a fraction', 0.2);
    }
  }
}

function checkBackbone(c: Checker, value: unknown): void {
  const b = c.object(value, 'backbone', 'the pretrained network', '{ "catalog": "mobilenet_v2_1.00_224" }');
  if (!b) return;
  const given = BACKBONE_SOURCES.filter((k) => b[k] !== undefined);
  if (given.length === 0) {
    c.error(
      'backbone',
      'needs one of "catalog", "path" or "url"',
      'For example { "catalog": "mobilenet_v2_1.00_224" }, { "path": "models/base/model.json" } or { "url": "https://.../model.json" }.',
    );
  } else if (given.length > 1) {
    c.error(
      'backbone',
      `must have exactly one of "catalog", "path" or "url", got ${given.map((g) => `"${g}"`).join(' and ')}`,
      `Keep one of ${given.join(', ')} and remove the other${given.length > 2 ? 's' : ''}.`,
    );
  }
  c.string(b, 'catalog', 'backbone', 'Set it to a catalog id such as "mobilenet_v2_1.00_224" (the New Experiment wizard lists them).');
  const p = c.string(b, 'path', 'backbone', 'Set it to a Keras .keras or .h5 file or a TF.js model.json, relative to this file.');
  if (p !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
    c.error(
      'backbone.path',
      `is a URL ('${p}'), not a file path`,
      /^https?:/i.test(p) ? `Use { "url": "${p}" } instead.` : 'Use a local path to a model file.',
    );
  }
  const w = c.string(b, 'weights', 'backbone', 'Set it to a weights-only Keras file (.weights.h5 or .h5), relative to this file, or remove it.');
  if (w !== undefined && !/\.(h5|hdf5)$/i.test(w)) {
    c.error(
      'backbone.weights',
      `'${w}' is not a Keras weights file`,
      'Give the .weights.h5 file model.save_weights() wrote, or a Keras Applications .h5 weights file.',
    );
  }
  const u = c.string(b, 'url', 'backbone', 'Set it to an https:// address of a model.json file.');
  if (u !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(u);
    } catch {
      c.error('backbone.url', `is not a valid URL: '${u}'`, 'Write a full address such as "https://example.com/model/model.json".');
    }
    if (parsed && parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      c.error(
        'backbone.url',
        `must be an http(s) address, got '${parsed.protocol}'`,
        parsed.protocol === 'file:' ? 'For a local file use { "path": "..." } instead.' : 'Use an https:// address.',
      );
    }
  }
  c.string(
    b,
    'cutAt',
    'backbone',
    'Set it to the name of the layer where the new head attaches (see the layer tree or `transfer-lab inspect`), or remove it to use the usual cut.',
  );
  checkPreprocessing(c, b);
}

/** Which Keras `preprocess_input` mode each family uses (for hints and the schema's text). */
export const PREPROCESSING_FAMILIES: Readonly<Record<PreprocessingMode, string>> = {
  tf: 'MobileNet v1/v2, Inception v3, InceptionResNet v2, Xception, ResNet v2, NASNet: pixels to [-1, 1]',
  torch: 'DenseNet: [0, 1], then ImageNet mean/std per channel',
  caffe: 'ResNet v1 (ResNet50/101/152), VGG16/19: RGB to BGR, ImageNet means subtracted, no scaling',
  none: 'EfficientNet, EfficientNet v2, ConvNeXt, MobileNet v3, RegNet: 0..255 as is (the model rescales itself)',
  'zero-one': 'Teachable Machine style models and fmnist-mini: pixels to [0, 1]',
};

/** Family or architecture names users write instead of a mode -> the mode Keras uses for them. */
const FAMILY_MODES: readonly [RegExp, PreprocessingMode][] = [
  [/mobilenet_?v?3|efficientnet|convnext|regnet/i, 'none'],
  [/mobilenet|inception|xception|nasnet|resnet_?v2|resnet\d*v2/i, 'tf'],
  [/densenet/i, 'torch'],
  [/resnet|vgg/i, 'caffe'],
  [/^(raw|identity|0-255|0\.\.255)$/i, 'none'],
  [/^(0-1|0\.\.1|unit|\[0, ?1\])$/i, 'zero-one'],
  [/^(-1-1|-1\.\.1|\[-1, ?1\]|symmetric)$/i, 'tf'],
];

/** The mode a value users wrote means: a range [lo, hi], a family name, or a mode with a typo. */
function suggestedPreprocessing(value: unknown): PreprocessingMode | undefined {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return modeForValueRange(value as [number, number]);
  if (typeof value !== 'string') return undefined;
  const typo = closest(value, PREPROCESSING_MODES);
  if (typo && value.length > 2) return typo as PreprocessingMode;
  return FAMILY_MODES.find(([re]) => re.test(value))?.[1];
}

function preprocessingHintFor(value: unknown): string {
  const mode = suggestedPreprocessing(value);
  const shown = Array.isArray(value) ? `[${value.join(', ')}]` : typeof value === 'string' ? `"${value}"` : undefined;
  const modes =
    'Transfer Lab takes Keras\'s preprocess_input mode instead of a range: "tf" is [-1, 1], "zero-one" is [0, 1], "none" is 0..255, "torch" and "caffe" are ImageNet mean/std and BGR mean subtraction.';
  if (mode && shown) return `${shown} is "${mode}" (${PREPROCESSING_FAMILIES[mode]}). ${modes}`;
  return modes;
}

function checkPreprocessing(c: Checker, b: Json): void {
  const v = b.preprocessing;
  if (v === undefined) return;
  if (typeof v === 'string' && (PREPROCESSING_MODES as readonly string[]).includes(v)) return;
  const mode = suggestedPreprocessing(v);
  const list = PREPROCESSING_MODES.map((m) => `"${m}"`).join(', ');
  const hint = mode
    ? `Did you mean "${mode}"? ${Array.isArray(v) ? `[${v.join(', ')}] is "${mode}"` : `"${mode}" is Keras's mode for ${PREPROCESSING_FAMILIES[mode].split(':')[0]}`}.`
    : `Pick the mode Keras's preprocess_input uses for the backbone: ${PREPROCESSING_MODES.map((m) => `"${m}" (${PREPROCESSING_FAMILIES[m].split(':')[0]})`).join('; ')}; or remove it to use what the backbone says.`;
  c.error('backbone.preprocessing', `must be one of ${list}, got ${describe(v)}`, hint);
}

function checkResize(c: Checker, data: Json): void {
  const v = data.resize;
  if (v === undefined) return;
  if (typeof v === 'string' && (RESIZE_MODES as readonly string[]).includes(v)) return;
  const list = RESIZE_MODES.map((m) => `"${m}"`).join(', ');
  let near = typeof v === 'string' ? closest(v, RESIZE_MODES) : undefined;
  // Keras's words for the same things.
  if (!near && typeof v === 'string') {
    if (/^(stretch|fill|bilinear|resize|default|none)$/i.test(v)) near = 'squash';
    else if (/crop/i.test(v)) near = /cent(er|re)|cover/i.test(v) ? 'center-crop' : 'crop-to-aspect-ratio';
    else if (/pad|letterbox|contain|fit/i.test(v)) near = 'pad-to-aspect-ratio';
    else if (/^cover$/i.test(v)) near = 'center-crop';
  }
  const hint = near
    ? `Did you mean "${near}"?`
    : 'Pick one: "squash" (Keras\'s default: bilinear to the input size, aspect ratio not kept), "crop-to-aspect-ratio" (Keras crop_to_aspect_ratio=True), "pad-to-aspect-ratio" (Keras pad_to_aspect_ratio=True) or "center-crop" (libvips, fast for big JPEGs, not bit-equal to Keras).';
  c.error('data.resize', `must be one of ${list}, got ${describe(v)}`, hint);
}

function checkStrategy(c: Checker, value: unknown, train: { epochs?: number; learningRate?: number }): void {
  const s = c.object(value, 'strategy', 'how much of the backbone trains', '{ "kind": "feature-extraction" }');
  if (!s) return;
  if (!c.required(s, 'kind', 'strategy', `one of ${STRATEGY_KINDS.join(', ')}`, '"feature-extraction"')) return;
  const kind = c.oneOf(s, 'kind', 'strategy', STRATEGY_KINDS);
  if (!kind) return;
  for (const key of Object.keys(s)) {
    if (EXPERIMENT_FIELDS.strategy.includes(key) && !STRATEGY_FIELDS_BY_KIND[kind].includes(key)) {
      c.error(`strategy.${key}`, `is only used when kind is "fine-tune", but kind is "${kind}"`, `Remove ${key}, or set "kind": "fine-tune".`);
    }
  }
  if (kind !== 'fine-tune') return;
  c.string(s, 'unfreezeFrom', 'strategy', 'Set it to the name of the first layer that trains (see the layer tree or `transfer-lab inspect`).');
  const last = c.number(s, 'unfreezeLast', 'strategy', 'integer', 'the number of top backbone layers to train, e.g. 20');
  if (last !== undefined && last < 1) {
    c.error(
      'strategy.unfreezeLast',
      `must be at least 1, got ${last}`,
      last === 0 ? 'To train no backbone layer use "kind": "feature-extraction".' : 'Set it to the number of top backbone layers to train, e.g. 20.',
    );
  }
  if (s.unfreezeFrom !== undefined && s.unfreezeLast !== undefined) {
    c.error(
      'strategy',
      'has both "unfreezeFrom" and "unfreezeLast"; they say the same thing two ways',
      'Keep one: a layer name in unfreezeFrom, or a count in unfreezeLast.',
    );
  }
  const baseLr = c.number(s, 'baseLearningRate', 'strategy', 'number', 'a small learning rate for the backbone, e.g. 1e-5');
  if (baseLr !== undefined) {
    if (baseLr <= 0 || baseLr > 1) {
      c.error('strategy.baseLearningRate', `must be greater than 0 and at most 1, got ${baseLr}`, 'Set it well below train.learningRate, e.g. 1e-5.');
    } else if (train.learningRate !== undefined && baseLr > train.learningRate) {
      c.warn(
        'strategy.baseLearningRate',
        `${baseLr} is larger than train.learningRate (${train.learningRate}); pretrained layers usually need a smaller rate than the new head`,
        'Try train.learningRate / 100, e.g. 1e-5.',
      );
    }
  }
  const warmup = c.number(s, 'warmupEpochs', 'strategy', 'integer', 'the number of epochs that train the head alone, e.g. 2');
  if (warmup !== undefined) {
    if (warmup < 0)
      c.error('strategy.warmupEpochs', `must be 0 or more, got ${warmup}`, 'Set it to the number of epochs that train the head alone first, e.g. 2.');
    else if (train.epochs !== undefined && warmup >= train.epochs) {
      c.error(
        'strategy.warmupEpochs',
        `(${warmup}) must be less than train.epochs (${train.epochs}), or the backbone never trains`,
        `Lower it, or raise train.epochs above ${warmup}.`,
      );
    }
  }
}

function checkHead(c: Checker, head: Json): void {
  c.oneOf(head, 'pooling', 'head', POOLINGS);
  const dense = head.dense;
  if (dense !== undefined) {
    if (!Array.isArray(dense)) {
      c.error('head.dense', `must be a list of layer sizes, got ${describe(dense)}`, 'For example [128] for one hidden layer of 128 units, or [] for none.');
    } else {
      dense.forEach((units, i) => {
        if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) {
          c.error(`head.dense[${i}]`, `must be a positive whole number of units, got ${describe(units)}`, 'For example 128.');
        }
      });
    }
  }
  const dropout = c.number(head, 'dropout', 'head', 'number', 'a fraction such as 0.2');
  if (dropout !== undefined && (dropout < 0 || dropout >= 1)) {
    c.error(
      'head.dropout',
      `must be from 0 up to (not including) 1, got ${dropout}`,
      'Set it to the fraction of features dropped while training, e.g. 0.2; 0 turns it off.',
    );
  }
}

/** Checks `train`; returns the epochs and learning rate the strategy checks compare against. */
function checkTrain(c: Checker, t: Json): { epochs?: number; learningRate?: number } {
  let epochs = c.number(t, 'epochs', 'train', 'integer', 'the number of passes over the training images, e.g. 10');
  if (epochs !== undefined && epochs < 1) {
    c.error('train.epochs', `must be a positive integer, got ${epochs}`, 'Set it to the number of passes over the training images, e.g. 10.');
    epochs = undefined;
  }
  const batchSize = c.number(t, 'batchSize', 'train', 'integer', 'the number of images per update, e.g. 32');
  if (batchSize !== undefined && batchSize < 1) {
    c.error('train.batchSize', `must be at least 1, got ${batchSize}`, 'Set it to the number of images per update, e.g. 32.');
  }
  const optimizer = c.oneOf(t, 'optimizer', 'train', OPTIMIZERS) ?? (t.optimizer === undefined ? EXPERIMENT_DEFAULTS.train.optimizer : undefined);
  let learningRate = c.number(t, 'learningRate', 'train', 'number', 'a small positive number, e.g. 0.001');
  if (learningRate !== undefined) {
    if (learningRate <= 0 || learningRate > 1) {
      c.error(
        'train.learningRate',
        `must be greater than 0 and at most 1, got ${learningRate}`,
        'Set it to a small step size, e.g. 0.001 for adam or 0.01 for sgd.',
      );
      learningRate = undefined;
    } else if (learningRate > HIGH_LEARNING_RATE) {
      c.warn(
        'train.learningRate',
        `${learningRate} is very high; training usually diverges or wrecks the pretrained weights above ${HIGH_LEARNING_RATE}`,
        'Try 0.001 for adam or 0.01 for sgd.',
      );
    }
  } else if (t.learningRate === undefined && optimizer) {
    learningRate = EXPERIMENT_DEFAULTS.train.learningRate[optimizer];
  }
  const momentum = c.number(t, 'momentum', 'train', 'number', 'a fraction such as 0.9');
  if (momentum !== undefined) {
    if (momentum < 0 || momentum >= 1) c.error('train.momentum', `must be from 0 up to (not including) 1, got ${momentum}`, 'Set it to e.g. 0.9.');
    else if (optimizer && optimizer !== 'sgd')
      c.warn('train.momentum', `is only used by the "sgd" optimizer and is ignored with "${optimizer}"`, 'Remove it, or set "optimizer": "sgd".');
  }
  if (t.schedule !== undefined) checkSchedule(c, t.schedule, epochs ?? (t.epochs === undefined ? EXPERIMENT_DEFAULTS.train.epochs : undefined), learningRate);
  if (t.earlyStopping !== undefined && t.earlyStopping !== null) {
    const es = c.object(t.earlyStopping, 'train.earlyStopping', 'stop when the validation metric stops improving', '{ "patience": 3 }');
    if (es && c.required(es, 'patience', 'train.earlyStopping', 'how many epochs without improvement before stopping', '3')) {
      const patience = c.number(es, 'patience', 'train.earlyStopping', 'integer', 'a number of epochs, e.g. 3');
      const total = epochs ?? (t.epochs === undefined ? EXPERIMENT_DEFAULTS.train.epochs : undefined);
      if (patience !== undefined && patience < 1) {
        c.error('train.earlyStopping.patience', `must be at least 1, got ${patience}`, 'Set it to the number of epochs without improvement to wait, e.g. 3.');
      } else if (patience !== undefined && total !== undefined && patience >= total) {
        c.warn(
          'train.earlyStopping.patience',
          `(${patience}) is not less than train.epochs (${total}), so early stopping can never trigger`,
          'Lower the patience or raise the epochs.',
        );
      }
    }
    if (es) c.oneOf(es, 'monitor', 'train.earlyStopping', MONITORS);
  }
  c.oneOf(t, 'checkpointMetric', 'train', MONITORS);
  return { epochs: epochs ?? (t.epochs === undefined ? EXPERIMENT_DEFAULTS.train.epochs : undefined), learningRate };
}

function checkSchedule(c: Checker, value: unknown, epochs: number | undefined, learningRate: number | undefined): void {
  const s = c.object(value, 'train.schedule', 'how the learning rate changes over epochs', '{ "kind": "cosine" }');
  if (!s) return;
  if (!c.required(s, 'kind', 'train.schedule', `one of ${SCHEDULE_KINDS.join(', ')}`, '"constant"')) return;
  const kind = c.oneOf(s, 'kind', 'train.schedule', SCHEDULE_KINDS);
  if (!kind) return;
  for (const key of Object.keys(s)) {
    if (EXPERIMENT_FIELDS['train.schedule'].includes(key) && !SCHEDULE_FIELDS_BY_KIND[kind].includes(key)) {
      const owner = (Object.keys(SCHEDULE_FIELDS_BY_KIND) as (keyof typeof SCHEDULE_FIELDS_BY_KIND)[]).find((k) => SCHEDULE_FIELDS_BY_KIND[k].includes(key));
      c.error(`train.schedule.${key}`, `is only used when kind is "${owner}", but kind is "${kind}"`, `Remove ${key}, or set "kind": "${owner}".`);
    }
  }
  if (kind === 'step') {
    if (c.required(s, 'every', 'train.schedule', 'epochs between learning-rate drops', '5')) {
      const every = c.number(s, 'every', 'train.schedule', 'integer', 'the number of epochs between drops, e.g. 5');
      if (every !== undefined && every < 1)
        c.error('train.schedule.every', `must be at least 1, got ${every}`, 'Set it to the number of epochs between drops, e.g. 5.');
      else if (every !== undefined && epochs !== undefined && every >= epochs) {
        c.warn(
          'train.schedule.every',
          `(${every}) is not less than train.epochs (${epochs}), so the learning rate never drops`,
          'Lower it or use "kind": "constant".',
        );
      }
    }
    if (c.required(s, 'factor', 'train.schedule', 'what the learning rate is multiplied by at each drop', '0.1')) {
      const factor = c.number(s, 'factor', 'train.schedule', 'number', 'a fraction such as 0.1');
      if (factor !== undefined && (factor <= 0 || factor >= 1)) {
        c.error(
          'train.schedule.factor',
          `must be between 0 and 1 (both excluded), got ${factor}`,
          'Set it to what the rate is multiplied by at each drop, e.g. 0.1.',
        );
      }
    }
  } else if (kind === 'cosine') {
    const min = c.number(s, 'minLearningRate', 'train.schedule', 'number', 'the learning rate at the last epoch, e.g. 0');
    if (min !== undefined && (min < 0 || (learningRate !== undefined && min >= learningRate))) {
      c.error(
        'train.schedule.minLearningRate',
        `must be from 0 up to (not including) train.learningRate${learningRate !== undefined ? ` (${learningRate})` : ''}, got ${min}`,
        'Set it to the rate at the last epoch, e.g. 0.',
      );
    }
  }
}

function resolveAugment(spec: AugmentSpec | null | undefined): Required<AugmentSpec> | null {
  if (!spec) return null;
  const d = EXPERIMENT_DEFAULTS.augment;
  const a: Required<AugmentSpec> = {
    flip: spec.flip ?? d.flip,
    rotate: spec.rotate ?? d.rotate,
    zoom: spec.zoom ?? d.zoom,
    brightness: spec.brightness ?? d.brightness,
    contrast: spec.contrast ?? d.contrast,
  };
  return a.flip || a.rotate > 0 || a.zoom > 0 || a.brightness > 0 || a.contrast > 0 ? a : null;
}

// ---------------------------------------------------------------------------------------
// Helpers: messages and suggestions
// ---------------------------------------------------------------------------------------

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const join = (at: string, key: string) => (at ? `${at}.${key}` : key);
const round = (v: number) => Math.round(v * 1e9) / 1e9;

function parentPath(p: string): string | undefined {
  if (p === '') return undefined;
  const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
  return cut <= 0 ? '' : p.slice(0, cut);
}

/** How a value looks in a message: `-3`, `the string "10"`, `null`, `a list`, `an object`. */
function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'an object';
}

function unknownFieldHint(key: string, at: string, allowed: readonly string[], value?: unknown): string {
  // Older files and other tools give a value range; Keras names the mode instead.
  if (/^(value_?range|input_?range|range|normali[sz]e|normali[sz]ation|scale|rescale|preprocess(_?input)?)$/i.test(key) && at !== 'data.augment') {
    return `${preprocessingHintFor(value)} Write it as "backbone": { ..., "preprocessing": "${suggestedPreprocessing(value) ?? 'tf'}" }.`;
  }
  // Keras's image_dataset_from_directory arguments.
  if (/^(crop_?to_?aspect_?ratio|pad_?to_?aspect_?ratio|interpolation)$/i.test(key)) {
    const mode = /crop/i.test(key) ? 'crop-to-aspect-ratio' : /pad/i.test(key) ? 'pad-to-aspect-ratio' : 'squash';
    return `Transfer Lab names Keras's resize as one mode: write "data": { ..., "resize": "${mode}" } (${RESIZE_MODES.join(', ')}; every Keras mode is bilinear).`;
  }
  const near = closest(key, allowed);
  if (near) return `Did you mean "${near}"?`;
  // A known field in the wrong object, e.g. "epochs" at the top level instead of in "train".
  for (const [owner, fields] of Object.entries(EXPERIMENT_FIELDS)) {
    if (owner !== at && fields.includes(key) && owner !== '') return `"${key}" belongs in ${owner}; move it there.`;
  }
  const where = at === '' ? 'at the top level' : `in ${at}`;
  return `Allowed ${where}: ${allowed.join(', ')}.`;
}

/** The allowed name closest to `name` within edit distance 2 (case, '_' and '-' ignored first). */
export function closest(name: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  let best: { name: string; d: number } | undefined;
  for (const candidate of allowed) {
    const d = Math.min(editDistance(norm(name), norm(candidate)), editDistance(name, candidate));
    if (d <= 2 && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

// ---------------------------------------------------------------------------------------
// JSON scanning: where a syntax error is (JSON.parse's messages do not say, on Node 20),
// where each JSON path starts (so problems carry line:column) and duplicate keys.
// ---------------------------------------------------------------------------------------

interface ScanResult {
  error?: { offset: number; message: string; hint: string };
  /** JSON path -> offset of its key (properties) or its first character (array items, the root). */
  locations: Map<string, number>;
  duplicates: { path: string; offset: number }[];
}

class JsonSyntaxError extends Error {
  constructor(
    readonly offset: number,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function scanJson(text: string): ScanResult {
  const locations = new Map<string, number>();
  const duplicates: { path: string; offset: number }[] = [];
  let i = 0;
  const fail = (message: string, hint: string, at = i): never => {
    throw new JsonSyntaxError(at, message, hint);
  };
  const skipSpace = () => {
    for (;;) {
      const ch = text[i];
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
      else if (ch === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
        fail('comments are not allowed: experiment files are plain JSON', 'Remove the comment, or put the note in the "description" field.');
      } else return;
    }
  };
  const shown = (ch: string | undefined) => (ch === undefined ? 'the end of the file' : `'${ch}'`);
  const endHint = 'The file ends too early: check for a missing closing "}" or "]".';

  const value = (at: string): void => {
    skipSpace();
    const ch = text[i];
    if (ch === '{') return object(at);
    if (ch === '[') return array(at);
    if (ch === '"') return void string();
    if (ch === '-' || ch === '+' || ch === '.' || (ch >= '0' && ch <= '9')) return number();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    if (ch === undefined) fail('expected a value but the file ends here', endHint);
    if (ch === "'") fail('strings must use double quotes ("), not single quotes', 'Replace the single quotes with double quotes.');
    if (ch === '}' || ch === ']') fail(`expected a value before ${shown(ch)}`, 'Remove the trailing comma, or add the missing value.');
    const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(i))?.[0];
    if (word === 'NaN' || word === 'Infinity' || word === 'undefined') fail(`${word} is not allowed in JSON`, 'Use a number or null.');
    if (word === 'True' || word === 'False' || word === 'None') fail(`${word} is not JSON`, `Write ${word === 'None' ? 'null' : word.toLowerCase()}.`);
    if (word) fail(`unexpected word '${word}'; text values need double quotes`, `Write "${word}".`);
    fail(`unexpected character ${shown(ch)}`, 'Check the JSON syntax around here.');
  };

  const object = (at: string): void => {
    i++; // {
    const keys = new Set<string>();
    skipSpace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipSpace();
      const keyStart = i;
      if (text[i] !== '"') {
        if (text[i] === '}') fail("trailing comma before '}'", 'Remove the last comma.');
        if (text[i] === "'") fail('property names must use double quotes ("), not single quotes', 'Replace the single quotes with double quotes.');
        if (text[i] === undefined) fail('the file ends inside an object', endHint);
        fail(`expected a property name in double quotes, got ${shown(text[i])}`, 'Write property names like "epochs".');
      }
      const key = string();
      const keyPath = join(at, key);
      if (keys.has(key)) duplicates.push({ path: keyPath, offset: keyStart });
      keys.add(key);
      locations.set(keyPath, keyStart);
      skipSpace();
      if (text[i] !== ':') fail(`expected ':' after the property name "${key}", got ${shown(text[i])}`, `Write "${key}": value.`);
      i++;
      value(keyPath);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      if (text[i] === undefined) fail('the file ends inside an object', endHint);
      if (text[i] === '"') fail(`missing ',' after the value of "${key}"`, 'Add a comma between properties.');
      fail(`expected ',' or '}' after the value of "${key}", got ${shown(text[i])}`, 'Separate properties with commas and close the object with "}".');
    }
  };

  const array = (at: string): void => {
    i++; // [
    skipSpace();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (let n = 0; ; n++) {
      skipSpace();
      if (text[i] === ']') fail("trailing comma before ']'", 'Remove the last comma.');
      locations.set(`${at}[${n}]`, i);
      value(`${at}[${n}]`);
      skipSpace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      if (text[i] === undefined) fail('the file ends inside a list', endHint);
      fail(`expected ',' or ']' in the list, got ${shown(text[i])}`, 'Separate list items with commas and close the list with "]".');
    }
  };

  const string = (): string => {
    const start = i;
    i++; // "
    let out = '';
    for (;;) {
      const ch = text[i];
      if (ch === undefined) fail('a string is not closed', 'Add the closing double quote.', start);
      if (ch === '"') {
        i++;
        return out;
      }
      if (ch === '\n' || ch === '\r')
        fail('a string is not closed before the end of the line', 'Add the closing double quote; write a line break inside a string as \\n.', start);
      if (ch < ' ') fail('control characters are not allowed inside strings', 'Write tabs as \\t.');
      if (ch === '\\') {
        const esc = text[i + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape: it needs four hex digits', 'Write e.g. \\u00e9.');
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (esc === undefined || !(esc in map)) {
          fail(
            `invalid escape '\\${esc ?? ''}' in a string`,
            'In JSON a backslash must be doubled (\\\\), e.g. "C:\\\\data"; or use forward slashes in paths.',
          );
        }
        out += map[esc!];
        i += 2;
        continue;
      }
      out += ch;
      i++;
    }
  };

  const number = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    const rest = text.slice(i);
    if (!m) {
      fail(/^-?\./.test(rest) ? 'numbers need a digit before the point' : 'invalid number', 'Write numbers like 0.5, 10 or 1e-3.');
    }
    const next = text[i + m![0].length];
    if (next !== undefined && /[\d.eExX]/.test(next))
      fail('invalid number', /^-?0\d/.test(rest) ? 'Numbers cannot start with 0 (write 7, not 07).' : 'Write numbers like 0.5, 10 or 1e-3.');
    i += m![0].length;
  };

  try {
    skipSpace();
    locations.set('', i);
    value('');
    skipSpace();
    if (i < text.length) fail(`unexpected ${shown(text[i])} after the end of the JSON object`, 'Remove it; a file holds exactly one JSON object.');
    return { locations, duplicates };
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return { error: { offset: e.offset, message: e.message, hint: e.hint }, locations, duplicates };
  }
}

/** Problems in file order (stable; unlocated ones keep their place at the end). */
function byPosition(problems: InputProblem[]): InputProblem[] {
  const key = (p: InputProblem) => (p.line === undefined ? Number.MAX_SAFE_INTEGER : p.line * 1e6 + (p.column ?? 0));
  return problems
    .map((p, n) => ({ p, n }))
    .sort((a, b) => key(a.p) - key(b.p) || a.n - b.n)
    .map((x) => x.p);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionOf(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}
