// How a failed run (or job) reads to the user: errors of ours pass as they are, anything
// from inside TensorFlow.js or Node says what we were doing and what to try.
import { MemoryBudgetError } from '../featurize';
import { DivergedError } from '../trainLoop';
import { LayerError } from '../modelSurgery';
import { BackboneError } from '../backboneLoader';
import { ImageDecodeError } from '../imageDecode';
import { ModelDownloadError } from '../modelCache';
import { StageError, LayerFailure, innermost, type Stage } from '../stageError';
import { InputError } from './experimentInput';

/** Errors whose message already speaks to the user (what, where, what to do). */
export function speaksToUser(e: unknown): boolean {
  return (
    e instanceof DivergedError ||
    e instanceof MemoryBudgetError ||
    e instanceof LayerError ||
    e instanceof InputError ||
    e instanceof BackboneError ||
    e instanceof ImageDecodeError ||
    e instanceof StageError ||
    e instanceof ModelDownloadError
  );
}

/**
 * A failure as the user reads it. Errors of ours pass as they are; a full disk and an
 * out-of-memory say so; anything else (an error inside TensorFlow.js) says what we were
 * doing (`stage`), on which layer when known, and what to try: its internal message and
 * stack are for the log (`internalDetail`).
 */
export function explainFailure(e: unknown, stage?: Stage): { message: string; hint?: string; layer?: string } {
  if (e instanceof DivergedError) {
    return { message: e.message, hint: 'Lower train.learningRate (for example by 10x) or check the data for corrupt images.' };
  }
  if (e instanceof StageError) return { message: e.message, hint: e.hint, layer: e.layer };
  if (speaksToUser(e)) return { message: (e as Error).message };
  const cause = innermost(e);
  const inner = cause instanceof Error ? cause.message : String(cause);
  const layer = e instanceof LayerFailure ? e.layer : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left on device/i.test(inner)) {
    return {
      message: `the disk is full: ${inner.split('\n')[0]}`,
      hint: 'Free disk space (old runs in .transferlab/runs or the model cache can be deleted) and run again; what was written so far is kept.',
    };
  }
  if (/out of memory|OOM|Cannot allocate|std::bad_alloc/i.test(inner)) {
    return {
      message: `out of memory${layer ? ` at layer '${layer}'` : ''}: ${inner.split('\n')[0]}`,
      hint: 'Use a smaller train.batchSize, a later unfreeze layer or a smaller backbone.',
      layer,
    };
  }
  if (stage) {
    const wrapped = new StageError(stage, e);
    return { message: wrapped.message, hint: wrapped.hint, layer: wrapped.layer };
  }
  return { message: inner.split('\n')[0] };
}
