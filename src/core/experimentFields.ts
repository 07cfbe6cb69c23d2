// The vocabulary of an experiment file: the fields each object allows, the enums and the
// defaults. Shared by the checks, the resolution and the schema test (which keeps
// media/schema/experiment.schema.json from drifting away from these tables).
import { PREPROCESSING_MODES, RESIZE_MODES } from './preprocessing';

/** Property names allowed in each object of the file, keyed by JSON path ('' is the top). */
export const EXPERIMENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '': ['$schema', 'name', 'description', 'data', 'backbone', 'strategy', 'head', 'train'],
  data: ['dir', 'split', 'seed', 'augment', 'resize'],
  'data.split': ['val', 'test'],
  'data.augment': ['flip', 'rotate', 'zoom', 'brightness', 'contrast'],
  backbone: ['catalog', 'path', 'url', 'cutAt', 'preprocessing', 'weights'],
  strategy: ['kind', 'unfreezeFrom', 'unfreezeLast', 'baseLearningRate', 'warmupEpochs'],
  head: ['pooling', 'dense', 'dropout'],
  train: ['epochs', 'batchSize', 'optimizer', 'learningRate', 'momentum', 'schedule', 'earlyStopping', 'checkpointMetric', 'seed'],
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
