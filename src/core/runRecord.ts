// What run.json and metrics.jsonl hold: the types, without I/O, so webviews and message
// types can name them (core/runStore.ts reads and writes them).
import type { ResolvedExperiment } from './experiment';
import type { PixelTransform, PreprocessingSource, ResizeInterpolation, ResizeMode } from './preprocessing';
import type { RunStatus } from './runEvents';
import type { SkippedFile, SplitCounts } from './datasetTypes';

export const RUN_FORMAT_VERSION = 1;
export const RUN_FORMAT = 'transfer-lab-run';

export interface DatasetSummary {
  root: string;
  layout: 'folders' | 'presplit';
  classes: string[];
  counts: Record<string, SplitCounts>;
  imbalance?: { ratio: number; largest: string; smallest: string };
}

export interface RunTimings {
  /** ISO 8601. */
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /** Phase timings in milliseconds, e.g. loadBackboneMs, featurizeMs, trainMs, evaluateMs, exportMs. */
  [phase: string]: string | number | undefined;
}

export interface RunFailure {
  message: string;
  hint?: string;
  /** Training step (or phase) where it failed, when known. */
  step?: number | string;
  /** Layer where it failed, when known (a failure inside TensorFlow.js). */
  layer?: string;
}

export interface RunRecord {
  format: typeof RUN_FORMAT;
  version: number;
  /** The run folder's name. */
  id: string;
  experiment: { name: string; file: string };
  status: RunStatus;
  config: ResolvedExperiment;
  /** TF.js backend that trained ('tensorflow', 'wasm', 'cpu'). */
  backend: string;
  dataset?: DatasetSummary;
  skipped: SkippedFile[];
  timings: RunTimings;
  /** Final metrics; empty until the run ends. NaN/Infinity are stored as null and read back as NaN. */
  metrics: Record<string, number>;
  failure?: RunFailure;
  /** Process that writes this run (the trainer or the CLI), to detect orphans after a reload. */
  pid?: number;
  /** Machine that runs it: a pid means nothing on another host (shared or remote folders). */
  host?: string;
  /** Engine details, written by the engine as it goes. */
  freeze?: { cutAt: string; frozen: string[]; trainable: string[]; boundary: string[]; reinitialize: boolean };
  cache?: { dir: string; hits: number; misses: number };
  training?: { stoppedEarly: boolean; history: number };
  /** Which epoch's weights were kept, evaluated and exported (absent in runs written before it was recorded). */
  weights?: KeptWeights;
  /** What the backbone loader assumed or rewrote (guessed preprocessing, converted configs, the chosen cut). */
  notes?: string[];
  /** How pixels became the backbone's inputs: Keras's preprocess_input mode (as its affine map), where it came from, the resize. */
  preprocessing?: PixelTransform & {
    from: PreprocessingSource;
    resize: ResizeMode;
    interpolation: ResizeInterpolation;
    inputSize: [number, number];
    jpegDecoder?: 'tensorflow' | 'libvips';
  };
}

/** The engine restores the best checkpoint (by train.checkpointMetric) before it evaluates and exports. */
export interface KeptWeights {
  /** 1-based epoch whose weights the model has. */
  epoch: number;
  metric: 'val_accuracy' | 'val_loss';
  /** The split the final evaluation (metrics.accuracy, eval.json) ran on. */
  evaluatedOn: 'test' | 'val';
}

/** One line of metrics.jsonl. */
export interface MetricRecord {
  kind: 'batch' | 'epoch';
  /** 1-based epoch. */
  epoch: number;
  batch?: number;
  step: number;
  loss: number;
  accuracy?: number;
  val_loss?: number;
  val_accuracy?: number;
  lr?: number;
  /** The base's own learning rate when it trained (fine-tune); absent in older runs and while the base is frozen. */
  baseLr?: number;
  imagesPerSec?: number;
  /** Milliseconds since the epoch (Date.now()). */
  time: number;
}
