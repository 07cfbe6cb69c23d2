// job.json and splits.json: what "Export Experiment as Keras Script" writes next to train.py.
// job.json is the resolved experiment plus what the Keras side needs spelled out (the backbone
// as Keras names it, the cut, the preprocessing as an affine map); splits.json is the exact
// file list per split that our own dataset index gives, so the Keras job trains, validates and
// tests on the same images. Defined once here; train.py reads both, tests parse them.
import * as v from 'valibot';
import type { ResolvedExperiment } from '../experiment';
import type { DatasetIndex } from '../datasetIndex';
import { isRecord } from '../json';
import { count } from '../messageProtocol';
import { interpolationOf, pixelTransform, PREPROCESSING_MODES, RESIZE_MODES, type PreprocessingMode, type PreprocessingSource } from '../preprocessing';
import { preprocessingFile } from '../preprocessingFile';
import type { DatasetSummary } from '../runRecord';

export const KERAS_JOB_FORMAT = 'transfer-lab-keras-job';
export const KERAS_SPLITS_FORMAT = 'transfer-lab-splits';

const triple = v.tuple([v.number(), v.number(), v.number()]);
const PixelsSchema = v.object({ mode: v.picklist(PREPROCESSING_MODES), channelOrder: v.picklist(['rgb', 'bgr']), scale: triple, offset: triple });

/** The backbone as Keras gets it: a keras.applications class, a Keras file, or a TF.js layers model copied beside train.py. */
const JobBackboneSchema = v.variant('kind', [
  v.object({ kind: v.literal('keras-application'), constructor: v.string() }),
  v.object({ kind: v.literal('keras-file'), path: v.string() }),
  /** `dir` is relative to train.py's folder. */
  v.object({ kind: v.literal('tfjs-layers'), dir: v.string() }),
]);
export type JobBackbone = v.InferOutput<typeof JobBackboneSchema>;

export const KerasJobSchema = v.object({
  format: v.literal(KERAS_JOB_FORMAT),
  version: v.literal(1),
  experiment: v.object({ name: v.string(), file: v.string() }),
  /** The run folder's name part (core/runStore.ts slugify). */
  slug: v.string(),
  config: v.custom<ResolvedExperiment>((c) => isRecord(c) && typeof c.name === 'string', 'the resolved experiment'),
  dataDir: v.string(),
  runsDir: v.string(),
  /** [height, width, channels]; null: train.py takes it from the loaded Keras file. */
  inputSize: v.nullable(v.tuple([count, count, count])),
  resize: v.picklist(RESIZE_MODES),
  pixels: PixelsSchema,
  /** run.json's `preprocessing` (core/runRecord.ts) without the input size, which train.py adds once it is known. */
  preprocessing: v.record(v.string(), v.unknown()),
  /** model/preprocessing.json (core/preprocessingFile.ts). */
  preprocessingFile: v.record(v.string(), v.unknown()),
  backbone: JobBackboneSchema,
  /** null: the last layer before the backbone's classifier (train.py finds it). */
  cutAt: v.nullable(v.string()),
  notes: v.array(v.string()),
});
export type KerasJob = v.InferOutput<typeof KerasJobSchema>;

const SplitItemSchema = v.object({ path: v.string(), label: count });
export const KerasSplitsSchema = v.object({
  format: v.literal(KERAS_SPLITS_FORMAT),
  version: v.literal(1),
  classes: v.array(v.string()),
  /** run.json's `dataset`, as our own run records it. */
  dataset: v.custom<DatasetSummary>((d) => isRecord(d) && Array.isArray(d.classes), 'the dataset summary'),
  /** Paths relative to the dataset folder, with `/` separators. */
  splits: v.object({ train: v.array(SplitItemSchema), val: v.array(SplitItemSchema), test: v.array(SplitItemSchema) }),
});
export type KerasSplits = v.InferOutput<typeof KerasSplitsSchema>;

/** What the backbone resolution (jobBackbone.ts) decided. */
export interface ResolvedJobBackbone {
  backbone: JobBackbone;
  inputSize: [number, number, number] | null;
  mode: PreprocessingMode;
  modeFrom: PreprocessingSource;
  cutAt: string | null;
  notes: string[];
}

/** The split as our engine makes it, relative to the dataset root (so the job runs wherever the data is mounted). */
export function kerasSplits(index: DatasetIndex): KerasSplits {
  const splits: KerasSplits['splits'] = { train: [], val: [], test: [] };
  const root = index.root.replace(/\\/g, '/').replace(/\/+$/, '');
  for (const item of index.items) {
    const p = item.path.replace(/\\/g, '/');
    const rel = p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p;
    splits[item.split].push({ path: rel, label: item.label });
  }
  const dataset: DatasetSummary = { root: index.root, layout: index.layout, classes: index.classes, counts: index.counts };
  if (index.imbalance) dataset.imbalance = index.imbalance;
  return { format: KERAS_SPLITS_FORMAT, version: 1, classes: index.classes, dataset, splits };
}

export function kerasJob(experiment: ResolvedExperiment, resolved: ResolvedJobBackbone, where: { runsDir: string; slug: string }): KerasJob {
  const t = pixelTransform(resolved.mode);
  const resize = experiment.data.resize;
  const size: [number, number] = resolved.inputSize ? [resolved.inputSize[0], resolved.inputSize[1]] : [0, 0];
  return {
    format: KERAS_JOB_FORMAT,
    version: 1,
    experiment: { name: experiment.name, file: experiment.file },
    slug: where.slug,
    config: experiment,
    dataDir: experiment.data.dir,
    runsDir: where.runsDir,
    inputSize: resolved.inputSize,
    resize,
    pixels: { mode: t.mode, channelOrder: t.channelOrder, scale: t.scale, offset: t.offset },
    preprocessing: { ...t, from: resolved.modeFrom, resize, interpolation: interpolationOf(resize), jpegDecoder: 'tensorflow' },
    preprocessingFile: { ...preprocessingFile(t, resize, size, { preprocessingFrom: resolved.modeFrom, jpegDecoder: 'tensorflow' }) },
    backbone: resolved.backbone,
    cutAt: resolved.cutAt,
    notes: resolved.notes,
  };
}
