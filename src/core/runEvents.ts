// Events a run streams while it goes (trainer -> extension over IPC; CLI --json prints one
// per line). The same records, minus the transient ones, end up in the run folder. Defined
// as schemas (messageProtocol.ts): the host checks every event the trainer sends, deeply.
import * as v from 'valibot';
import type { EvaluationReport } from './metrics';
import { count, measured, type Assert, type SameShape } from './messageProtocol';

export const RunPhaseSchema = v.picklist(['indexing', 'loading-backbone', 'featurizing', 'training', 'evaluating', 'exporting']);
export type RunPhase = v.InferOutput<typeof RunPhaseSchema>;

export const EvaluationReportSchema = v.object({
  split: v.picklist(['test', 'val']),
  count,
  accuracy: measured,
  topK: v.record(v.string(), measured),
  loss: measured,
  labels: v.array(v.string()),
  confusion: v.array(v.array(count)),
  perClass: v.array(v.object({ label: v.string(), precision: measured, recall: measured, f1: measured, support: count })),
  macroF1: measured,
  mostConfidentlyWrong: v.array(v.object({ path: v.string(), trueLabel: v.string(), predictedLabel: v.string(), confidence: measured })),
});
export type _EvaluationReportSchemaIsEvaluationReport = Assert<SameShape<v.InferOutput<typeof EvaluationReportSchema>, EvaluationReport>>;

const event = <const T extends string, const E extends v.ObjectEntries>(type: T, entries: E) => v.object({ type: v.literal(type), ...entries });
const finished = <const S extends string, const E extends v.ObjectEntries>(status: S, entries: E) =>
  event('finished', { status: v.literal(status), durationMs: measured, ...entries });

export const RunEventSchema = v.variant('type', [
  event('run-started', {
    runDir: v.string(),
    runId: v.string(),
    experiment: v.string(),
    backend: v.string(),
    classes: v.array(v.string()),
    counts: v.object({ train: count, val: count, test: count }),
    epochs: count,
  }),
  event('phase', { phase: RunPhaseSchema, message: v.string(), done: v.optional(measured), total: v.optional(measured) }),
  event('warning', { message: v.string() }),
  event('batch', {
    epoch: count,
    batch: count,
    batches: count,
    step: count,
    loss: measured,
    accuracy: measured,
    learningRate: measured,
    /** The base's (unfrozen backbone layers') own rate, when it trained in this batch; absent while it is frozen. */
    baseLearningRate: v.optional(measured),
    imagesPerSec: measured,
  }),
  event('epoch', {
    epoch: count,
    epochs: count,
    loss: measured,
    accuracy: measured,
    valLoss: measured,
    valAccuracy: measured,
    learningRate: measured,
    baseLearningRate: v.optional(measured),
    seconds: measured,
    imagesPerSec: measured,
    baseTrainable: v.boolean(),
    /** Estimated seconds left at this pace. */
    etaSeconds: measured,
  }),
  // Not a count: the training loop's best starts at epoch -1 (no epoch has improved yet).
  event('checkpoint', { epoch: v.number(), metric: v.string(), value: measured }),
  event('evaluation', { report: EvaluationReportSchema }),
  v.variant('status', [
    finished('succeeded', { metrics: v.record(v.string(), measured) }),
    finished('failed', { message: v.string(), hint: v.optional(v.string()) }),
    finished('cancelled', {}),
  ]),
]);
export type RunEvent = v.InferOutput<typeof RunEventSchema>;

export const RunStatusSchema = v.picklist(['running', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = v.InferOutput<typeof RunStatusSchema>;

/** Throttle for batch events: at most a few per second reach the UI. */
export const BATCH_EVENT_INTERVAL_MS = 250;
