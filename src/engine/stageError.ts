// A failure inside TensorFlow.js ("Cannot read properties of undefined (reading 'dataId')",
// a shape assertion, a kernel error) means nothing to a user. At each stage boundary (run:
// loading, building, featurizing, training, evaluating, exporting; inspect; predict) such an
// error becomes a StageError: what we were doing, on which layer when known, and what to try.
// The internal message and stack stay on the error (`cause`) for the run's log.txt (or the
// CLI's error log), never in the message a user reads. Errors that already speak to the user
// (bad input, a backbone problem, a layer name that does not exist, out of memory) pass as
// they are: the caller says which those are.

export type Stage = 'loading' | 'building' | 'featurizing' | 'training' | 'evaluating' | 'exporting' | 'inspecting' | 'predicting' | 'running';

const DOING: Record<Stage, string> = {
  loading: 'loading the backbone',
  building: 'preparing the model (cut, frozen and trainable parts, head)',
  featurizing: 'running the frozen base on the images',
  training: 'training',
  evaluating: 'evaluating the trained model',
  exporting: 'exporting the trained model',
  inspecting: "reading the model's layers",
  predicting: 'classifying the images',
  running: 'running the command',
};

const TRY: Record<Stage, string> = {
  loading: 'The model may use a layer or setting TensorFlow.js does not support: try another backbone or cut earlier (backbone.cutAt).',
  building: 'Try cutting at another layer (backbone.cutAt) or unfreezing from another layer (strategy.unfreezeFrom); `transfer-lab inspect` lists the layers.',
  featurizing: "Check that the backbone's input size and preprocessing fit the model, or cut at an earlier layer (backbone.cutAt).",
  training:
    'Try training fewer base layers (a later strategy.unfreezeFrom or a smaller strategy.unfreezeLast), feature extraction, or a smaller train.batchSize.',
  evaluating: 'Try a smaller train.batchSize, or feature extraction to check the rest of the pipeline.',
  exporting: 'Check the disk (space, permissions of the run folder); the metrics of this run are kept.',
  inspecting: 'The model may use a layer or setting TensorFlow.js does not support: try converting it again, or inspect it with --cut-at an earlier layer.',
  predicting: 'Check that the model folder is a complete Transfer Lab export (model.json, weights, labels.json, preprocessing.json).',
  running: 'Run it again; if it fails the same way, report it with the log.',
};

/** A failure inside TensorFlow.js while one layer ran: thrown by the planners so the stage boundary can name the layer. */
export class LayerFailure extends Error {
  constructor(
    readonly layer: string,
    readonly layerClass: string,
    override readonly cause: unknown,
  ) {
    super(`layer '${layer}' (${layerClass}): ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LayerFailure';
  }
}

/** `e` as thrown inside the planned layer `layer`: an error of ours passes, anything else gets the layer. */
export function inLayer(e: unknown, layer: string, layerClass: string): unknown {
  if (e instanceof LayerFailure || e instanceof StageError) return e;
  return new LayerFailure(layer, layerClass, e);
}

export class StageError extends Error {
  readonly hint: string;
  readonly layer?: string;
  constructor(
    readonly stage: Stage,
    override readonly cause: unknown,
  ) {
    const failure = cause instanceof LayerFailure ? cause : undefined;
    const where = failure ? ` at layer '${failure.layer}' (${failure.layerClass})` : '';
    // A system error (a file that cannot be written) says what it is; anything else (an
    // assertion or a TypeError deep inside TensorFlow.js) says nothing a user can act on.
    const inner = innermost(cause) as NodeJS.ErrnoException;
    const why = inner instanceof Error && typeof inner.syscall === 'string' ? `: ${inner.message.split('\n')[0]}` : ' with an internal error';
    super(`${DOING[stage][0].toUpperCase()}${DOING[stage].slice(1)} failed${where}${why}.`);
    this.name = 'StageError';
    this.layer = failure?.layer;
    this.hint = `${TRY[stage]} The internal error is in the log.`;
  }
}

/**
 * An error that reached the `stage` boundary, for the user: `speaksToUser` errors as they are,
 * a StageError from an earlier boundary as it is, anything else as a StageError of `stage`.
 */
export function atStage(stage: Stage, e: unknown, speaksToUser: (e: unknown) => boolean): unknown {
  if (e instanceof StageError || speaksToUser(e)) return e;
  return new StageError(stage, e);
}

/** The innermost cause's message and stack (the part for the log, not for the user). */
export function internalDetail(e: unknown): string {
  let inner: unknown = e;
  const chain: string[] = [];
  while (inner instanceof StageError || inner instanceof LayerFailure) {
    chain.push(inner.message);
    inner = inner.cause;
  }
  const detail = inner instanceof Error ? (inner.stack ?? `${inner.name}: ${inner.message}`) : String(inner);
  return [...chain, detail].join('\n');
}

/** The innermost cause (the error TensorFlow.js or Node threw), to classify out-of-memory or disk-full failures. */
export function innermost(e: unknown): unknown {
  let inner: unknown = e;
  while (inner instanceof StageError || inner instanceof LayerFailure) inner = inner.cause;
  return inner;
}
