// One run of an experiment, end to end: validate -> index the dataset -> load and cut the
// backbone -> precompute (and cache) the frozen part's outputs -> train -> evaluate ->
// export. Writes the run folder as it goes and streams RunEvents. Used by the trainer
// process (for the extension) and by the CLI, so both produce the same run folders.
// The stages live in run/; this module runs them in order and owns the run's end.
import { openRun, type RunOptions, type RunOutcome, type RunResources } from './run/runContext';
import { prepareModel } from './run/prepareModel';
import { featurizeSplits } from './run/featurizeStage';
import { trainStage } from './run/trainStage';
import { evaluateStage, exportStage, finishCancelled, finishFailed, finishSucceeded } from './run/finishRun';

export type { RunOptions, RunOutcome } from './run/runContext';
export { InputError, loadExperiment } from './run/experimentInput';
export { AUGMENTED_VIEWS } from './run/featurizeStage';
export { downloadMessage } from './run/prepareModel';
export { explainFailure, speaksToUser } from './run/failure';

export async function runExperiment(opts: RunOptions): Promise<RunOutcome> {
  const ctx = openRun(opts);
  const res: RunResources = { frozenPlan: null };
  try {
    const model = await prepareModel(ctx, res);
    const tables = await featurizeSplits(ctx, res, model);
    if (!tables) return await finishCancelled(ctx);
    const trainResult = await trainStage(ctx, model.split, tables);
    if (trainResult.cancelled) return await finishCancelled(ctx);
    const evaluated = evaluateStage(ctx, model, tables);
    await exportStage(ctx, model);
    return finishSucceeded(ctx, trainResult, evaluated);
  } catch (e) {
    return finishFailed(ctx, e);
  } finally {
    disposeResources(res);
  }
}

function disposeResources({ frozenPlan, split, backbone }: RunResources): void {
  frozenPlan?.dispose();
  // TF.js counts a layer's uses: each model built by applying it (not one cut from existing
  // tensors, as the cut and the prefix are) holds one, and its weights go when the last one
  // is disposed. The suffix applies the trainable base layers anew, so it is disposed as
  // well as the model that created them (the backbone, or for scratch the fresh copy).
  split?.head.dispose();
  if (split?.suffix && split.suffix !== split.cut) split.suffix.dispose();
  if (split?.plan.reinitialize) split.cut?.dispose();
  backbone?.model.dispose();
}
