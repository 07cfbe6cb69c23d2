// A checked ExperimentFile -> a ResolvedExperiment: every default filled in and paths made
// absolute, so the trainer and the run record never guess. Plus the checks that need the
// indexed dataset.
import * as os from 'node:os';
import * as path from 'node:path';
import type { AugmentSpec, BackboneSpec, ExperimentFile, InputProblem, ResolvedExperiment, StrategySpec, TrainSpec, Validated } from './experiment';
import { validateExperiment } from './experimentChecks';
import { EXPERIMENT_DEFAULTS } from './experimentFields';

const D = EXPERIMENT_DEFAULTS;

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
  const resolvePath = (p: string) => resolveFromFile(p, file);

  const augment = resolveAugment(exp.data.augment);
  if (exp.data.augment && !augment) {
    warnings.push({
      path: 'data.augment',
      message: 'every transform is off, so no augmentation is applied',
      hint: 'Set e.g. "flip": true or "rotate": 10, or remove data.augment.',
    });
  }
  const train = resolveTrain(exp.train ?? {}, exp.data.seed ?? D.data.seed);
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
    backbone: resolveBackbone(exp.backbone, resolvePath),
    strategy: resolveStrategy(exp.strategy, train.learningRate),
    head: {
      pooling: exp.head?.pooling ?? D.head.pooling,
      dense: [...(exp.head?.dense ?? D.head.dense)],
      dropout: exp.head?.dropout ?? D.head.dropout,
    },
    train,
  };
  return { ok: true, value: resolved, warnings };
}

/** A path as the experiment file writes it, made absolute: relative to the file's folder; a leading `~/` is the home folder. */
export function resolveFromFile(p: string, file: string): string {
  const baseDir = file === '<inline>' ? process.cwd() : path.dirname(path.resolve(file));
  return path.resolve(baseDir, p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
}

/**
 * The dataset a file names while other sections have errors, so the editor shows the
 * dataset's problems with the rest at once; undefined when "data" itself has an error.
 */
export function datasetOfInvalid(
  value: unknown,
  errors: readonly InputProblem[],
  file: string,
): { written: string; dir: string; split: { val: number; test: number }; seed: number } | undefined {
  if (errors.some((e) => e.path === 'data' || e.path.startsWith('data.') || e.path === '')) return undefined;
  const data = (value as { data?: { dir?: unknown; split?: { val?: number; test?: number }; seed?: number } } | undefined)?.data;
  if (typeof data?.dir !== 'string') return undefined;
  return {
    written: data.dir,
    dir: resolveFromFile(data.dir, file),
    split: { val: data.split?.val ?? D.data.split.val, test: data.split?.test ?? D.data.split.test },
    seed: data.seed ?? D.data.seed,
  };
}

function resolveBackbone(b: BackboneSpec, resolvePath: (p: string) => string): ResolvedExperiment['backbone'] {
  const backbone: ResolvedExperiment['backbone'] = 'catalog' in b ? { catalog: b.catalog } : 'path' in b ? { path: resolvePath(b.path) } : { url: b.url };
  if (b.cutAt !== undefined) backbone.cutAt = b.cutAt;
  if (b.preprocessing !== undefined) backbone.preprocessing = b.preprocessing;
  if (b.weights !== undefined) backbone.weights = resolvePath(b.weights);
  return backbone;
}

function resolveTrain(t: TrainSpec, dataSeed: number): ResolvedExperiment['train'] {
  const optimizer = t.optimizer ?? D.train.optimizer;
  const schedule: ResolvedExperiment['train']['schedule'] =
    t.schedule === undefined || t.schedule.kind === 'constant'
      ? { kind: 'constant' }
      : t.schedule.kind === 'step'
        ? { kind: 'step', every: t.schedule.every, factor: t.schedule.factor }
        : { kind: 'cosine', minLearningRate: t.schedule.minLearningRate ?? D.train.cosineMinLearningRate };
  return {
    epochs: t.epochs ?? D.train.epochs,
    batchSize: t.batchSize ?? D.train.batchSize,
    optimizer,
    learningRate: t.learningRate ?? D.train.learningRate[optimizer],
    momentum: t.momentum ?? D.train.momentum[optimizer],
    schedule,
    earlyStopping: t.earlyStopping ? { patience: t.earlyStopping.patience, monitor: t.earlyStopping.monitor ?? D.train.earlyStoppingMonitor } : null,
    checkpointMetric: t.checkpointMetric ?? D.train.checkpointMetric,
    seed: t.seed ?? dataSeed,
  };
}

/** The strategy with its defaults; fine-tuning's backbone rate follows the head's (`learningRate`). */
function resolveStrategy(s: StrategySpec, learningRate: number): ResolvedExperiment['strategy'] {
  if (s.kind !== 'fine-tune') return { kind: s.kind };
  const ft: Extract<ResolvedExperiment['strategy'], { kind: 'fine-tune' }> = {
    kind: 'fine-tune',
    baseLearningRate: s.baseLearningRate ?? learningRate * D.strategy.baseLearningRateFactor,
    warmupEpochs: s.warmupEpochs ?? D.strategy.warmupEpochs,
  };
  if (s.unfreezeFrom !== undefined) ft.unfreezeFrom = s.unfreezeFrom;
  else ft.unfreezeLast = s.unfreezeLast ?? D.strategy.unfreezeLast;
  return ft;
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
