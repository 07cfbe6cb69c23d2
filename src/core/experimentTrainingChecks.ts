// Checks of "strategy", "head" and "train" (with its schedule and early stopping), including
// the ones across sections: warm-up against epochs, the backbone's rate against the head's.
import { Checker, type Json } from './experimentChecker';
import {
  EXPERIMENT_DEFAULTS,
  EXPERIMENT_FIELDS,
  HIGH_LEARNING_RATE,
  MONITORS,
  OPTIMIZERS,
  POOLINGS,
  SCHEDULE_FIELDS_BY_KIND,
  SCHEDULE_KINDS,
  STRATEGY_FIELDS_BY_KIND,
  STRATEGY_KINDS,
} from './experimentFields';
import { describe } from './experimentHints';

/** A section's required `kind`; a field only another kind uses is an error. Undefined when missing or unknown. */
function checkKind<K extends string>(
  c: Checker,
  s: Json,
  at: string,
  kinds: readonly K[],
  fieldsByKind: Readonly<Record<K, readonly string[]>>,
  example: string,
): K | undefined {
  if (!c.required(s, 'kind', at, `one of ${kinds.join(', ')}`, example)) return undefined;
  const kind = c.oneOf(s, 'kind', at, kinds);
  if (!kind) return undefined;
  for (const key of Object.keys(s)) {
    if (EXPERIMENT_FIELDS[at].includes(key) && !fieldsByKind[kind].includes(key)) {
      const owner = kinds.find((k) => fieldsByKind[k].includes(key));
      c.error(`${at}.${key}`, `is only used when kind is "${owner}", but kind is "${kind}"`, `Remove ${key}, or set "kind": "${owner}".`);
    }
  }
  return kind;
}

export function checkStrategy(c: Checker, value: unknown, train: { epochs?: number; learningRate?: number }): void {
  const s = c.object(value, 'strategy', 'how much of the backbone trains', '{ "kind": "feature-extraction" }');
  if (!s) return;
  const kind = checkKind(c, s, 'strategy', STRATEGY_KINDS, STRATEGY_FIELDS_BY_KIND, '"feature-extraction"');
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

export function checkHead(c: Checker, head: Json): void {
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
export function checkTrain(c: Checker, t: Json): { epochs?: number; learningRate?: number } {
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
  checkTrainSeed(c, t);
  return { epochs: epochs ?? (t.epochs === undefined ? EXPERIMENT_DEFAULTS.train.epochs : undefined), learningRate };
}

function checkTrainSeed(c: Checker, t: Json): void {
  const seed = c.number(t, 'seed', 'train', 'integer', 'a whole number such as 1');
  if (seed === undefined || (seed >= 0 && seed <= 0xffffffff)) return;
  c.error('train.seed', `must be a whole number from 0 to 4294967295, got ${seed}`, 'Leave it out to use data.seed, or set any value, e.g. 1.');
}

function checkSchedule(c: Checker, value: unknown, epochs: number | undefined, learningRate: number | undefined): void {
  const s = c.object(value, 'train.schedule', 'how the learning rate changes over epochs', '{ "kind": "cosine" }');
  if (!s) return;
  const kind = checkKind(c, s, 'train.schedule', SCHEDULE_KINDS, SCHEDULE_FIELDS_BY_KIND, '"constant"');
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
