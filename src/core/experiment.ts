// The experiment file (*.tlexp.json): the contract shared by the UI, the CLI and users'
// files. Its JSON Schema (media/schema/experiment.schema.json) describes the same shape for
// editor completion; `validateExperiment` (experimentValidation.ts) is the authority.
import type { PreprocessingMode, ResizeMode } from './preprocessing';

export type BackboneSpec = ({ catalog: string } | { path: string } | { url: string }) & {
  /** Layer where the head attaches; default: catalog's usual cut or the last layer before the classifier. */
  cutAt?: string;
  /**
   * Keras's `preprocess_input` mode for this backbone; default: what the backbone says
   * (catalog, model card, preprocessing.json, its architecture).
   */
  preprocessing?: PreprocessingMode;
  /**
   * A weights-only Keras file (`model.save_weights(...)`, or a Keras Applications ImageNet
   * `.h5`) whose values replace the backbone's own; relative to the experiment file.
   */
  weights?: string;
};

export type StrategySpec =
  | { kind: 'feature-extraction' }
  | {
      kind: 'fine-tune';
      /** First layer (in topological order) that trains; everything before it stays frozen. */
      unfreezeFrom?: string;
      /** Alternatively: train the last N layers of the (cut) base. */
      unfreezeLast?: number;
      /** Learning rate for the unfrozen base layers (the head uses train.learningRate). */
      baseLearningRate?: number;
      /** Epochs that train the head alone before the base unfreezes (Keras's two stages). */
      warmupEpochs?: number;
    }
  | { kind: 'scratch' };

export interface AugmentSpec {
  flip?: boolean;
  /** Max rotation in degrees. */
  rotate?: number;
  /** Max zoom/crop fraction, e.g. 0.1. */
  zoom?: number;
  brightness?: number;
  contrast?: number;
}

export interface DataSpec {
  dir: string;
  split?: { val?: number; test?: number };
  seed?: number;
  augment?: AugmentSpec;
  /** How images are fitted to the backbone's input size (Keras's `image_dataset_from_directory` modes, or libvips center-crop). */
  resize?: ResizeMode;
}

export interface HeadSpec {
  pooling?: 'avg' | 'max' | 'flatten';
  dense?: number[];
  dropout?: number;
}

export interface TrainSpec {
  epochs?: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd' | 'rmsprop';
  learningRate?: number;
  momentum?: number;
  schedule?: { kind: 'constant' } | { kind: 'step'; every: number; factor: number } | { kind: 'cosine'; minLearningRate?: number };
  earlyStopping?: { patience: number; monitor?: 'val_loss' | 'val_accuracy' };
  /** Metric that picks the checkpoint kept as the run's model. */
  checkpointMetric?: 'val_accuracy' | 'val_loss';
  /**
   * Seed of everything random in training: the head's (and, from scratch, the base's) initial
   * weights, the batch order and dropout. Default: data.seed, so one seed fixes a whole run;
   * set it to vary training over the same split (a study's seeds do).
   */
  seed?: number;
}

export interface ExperimentFile {
  $schema?: string;
  name: string;
  description?: string;
  data: DataSpec;
  backbone: BackboneSpec;
  strategy: StrategySpec;
  head?: HeadSpec;
  train?: TrainSpec;
}

/** An experiment with every default filled in and paths made absolute: what a run records. */
export interface ResolvedExperiment {
  name: string;
  /** Absolute path of the experiment file (or '<inline>' for programmatic runs). */
  file: string;
  data: { dir: string; split: { val: number; test: number }; seed: number; augment: Required<AugmentSpec> | null; resize: ResizeMode };
  /** `preprocessing` only when the file sets it; otherwise the loaded backbone decides (run.json records what was used). */
  backbone: ({ catalog: string } | { path: string } | { url: string }) & { cutAt?: string; preprocessing?: PreprocessingMode; weights?: string };
  strategy:
    | { kind: 'feature-extraction' }
    | { kind: 'fine-tune'; unfreezeFrom?: string; unfreezeLast?: number; baseLearningRate: number; warmupEpochs: number }
    | { kind: 'scratch' };
  head: Required<HeadSpec>;
  train: {
    epochs: number;
    batchSize: number;
    optimizer: 'adam' | 'sgd' | 'rmsprop';
    learningRate: number;
    momentum: number;
    schedule: NonNullable<TrainSpec['schedule']>;
    earlyStopping: { patience: number; monitor: 'val_loss' | 'val_accuracy' } | null;
    checkpointMetric: 'val_accuracy' | 'val_loss';
    seed: number;
  };
}

/** A problem found in user input: where (file + JSON path), what, and what to do. */
export interface InputProblem {
  /** JSON path such as `train.epochs` or `backbone.cutAt`; '' for the whole file. */
  path: string;
  message: string;
  hint?: string;
  /** File the problem is in when it is not the experiment file (a dataset folder, a run.json). */
  file?: string;
  /** 1-based position in the file (UTF-16 columns, like VS Code), when known. */
  line?: number;
  column?: number;
  /** The obvious fix, when there is one (the editor offers it as a quick fix): rename the key, or replace the value. */
  fix?: ProblemFix;
}

/** `title` names the quick fix when "Rename to" / "Change to" would not say enough. */
export type ProblemFix = { kind: 'rename-key'; to: string; title?: string } | { kind: 'replace-value'; to: string; title?: string };

/** A failure still carries the warnings found beside its errors, so an editor can show them all at once. */
export type Validated<T> = { ok: true; value: T; warnings: InputProblem[] } | { ok: false; errors: InputProblem[]; warnings?: InputProblem[] };
