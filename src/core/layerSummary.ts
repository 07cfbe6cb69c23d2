// A backbone's layers as the trainer reports them (for the layer tree, `inspect` and run
// records): defined once here so the engine, the extension and the webviews agree.
import type { PreprocessingMode, PreprocessingSource } from './preprocessing';

export interface LayerRow {
  /** Position in the model's topological order (0 = input). */
  index: number;
  name: string;
  className: string;
  /** Output shape with null for the batch (and any free) dimension; a list of shapes for multi-output layers. */
  outputShape: (number | null)[] | (number | null)[][];
  params: number;
  /** Trainable under the options given: from `trainableFrom` on (when given), else the layer's own flag. */
  trainable: boolean;
  inbound: string[];
  /** The layer the head attaches to. */
  isCut: boolean;
  /** Dropped by the cut (after the cut layer and not needed by it). */
  afterCut: boolean;
}

/**
 * Why the head attaches where it does: the experiment file says (spec), the catalog entry's
 * usual cut, the model's card.json, the layer before a user model's own classifier head
 * (left out), or simply the model's output.
 */
export type CutOrigin = 'spec' | 'catalog' | 'model card' | 'classifier head removed' | 'model output';

export interface LayerSummary {
  kind: 'layers' | 'graph';
  /** Where the head attaches. */
  cutAt: string;
  /** Where that cut came from (the loader's `cutFrom`); absent from trainers that predate it. */
  cutFrom?: CutOrigin;
  inputShape: [number, number, number];
  /** Empty for a graph model (a frozen function without layers). */
  rows: LayerRow[];
  /** Human-readable origin of the model (catalog id + URL, a path or a URL). */
  source: string;
  fineTunable: boolean;
  /** The Keras preprocess_input mode the backbone is fed with, and where that came from. */
  preprocessing?: { mode: PreprocessingMode; from: PreprocessingSource };
  /** What the loader had to tell (guesses, rewrites, inlined nested models). */
  notes?: string[];
}

export interface Prediction {
  file: string;
  top: { label: string; probability: number }[];
  error?: string;
}
