// Host <-> Study panel messages (the rule: messageProtocol.ts). The host reads study.json and
// sends the view a StudyState: per strategy, test accuracy and training time at each data size
// (mean and min..max over seeds), the summary sentence and one row per cell. The view renders
// it and may only ask the host to open a cell's run.
import * as v from 'valibot';
import { count, message, parseMessage, type Parsed } from './messageProtocol';

export const STUDY_PROTOCOL = 1;

const perClass = v.union([v.pipe(count, v.minValue(1)), v.literal('all')]);
const maybe = v.nullable(v.number());

/** One data size of one strategy, aggregated over the seeds whose cells completed. */
const StudyPointSchema = v.object({
  perClass,
  /** Where the size sits on the (log) axis: images per class; for 'all', the training split's mean per class. */
  x: v.pipe(v.number(), v.minValue(0)),
  /** Completed seeds behind the numbers. */
  n: count,
  mean: v.number(),
  min: v.number(),
  max: v.number(),
  std: v.number(),
  meanTrainSeconds: maybe,
  meanEpochsToTarget: maybe,
});
export type StudyPoint = v.InferOutput<typeof StudyPointSchema>;

const StudyLineSchema = v.object({ strategy: v.string(), points: v.array(StudyPointSchema) });
export type StudyLine = v.InferOutput<typeof StudyLineSchema>;

export const CELL_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;

const StudyCellRowSchema = v.object({
  strategy: v.string(),
  perClass,
  seed: v.number(),
  status: v.picklist(CELL_STATUSES),
  trainImages: v.nullable(count),
  testAccuracy: maybe,
  bestValAccuracy: maybe,
  epochs: v.nullable(count),
  epochsToTarget: v.nullable(count),
  trainSeconds: maybe,
  error: v.nullable(v.string()),
  /** The cell has a run folder the dashboard can open. */
  hasRun: v.boolean(),
});
export type StudyCellRow = v.InferOutput<typeof StudyCellRowSchema>;

const S = STUDY_PROTOCOL;

// host -> study view
const StudyStateSchema = message(S, 'state', {
  /** The study folder, kept by the view's state so the panel restores after a reload. */
  studyDir: v.string(),
  experimentName: v.string(),
  /** "5, 10, 20, all per class × 3 seeds × 2 strategies". */
  grid: v.string(),
  done: count,
  total: count,
  failed: count,
  /** The cell training now ("fine-tune, 10 per class, seed 2"), when the study runs. */
  running: v.nullable(v.string()),
  finished: v.boolean(),
  /** The validation accuracy "epochs to target" counts to. */
  target: v.number(),
  lines: v.array(StudyLineSchema),
  /** Where transfer stops paying off, computed from the numbers; null until there are enough. */
  sentence: v.nullable(v.string()),
  cells: v.array(StudyCellRowSchema),
});
export type StudyState = v.InferOutput<typeof StudyStateSchema>;
export const parseStudyState = (raw: unknown): Parsed<StudyState> => parseMessage(StudyStateSchema, S, raw);

// study view -> host
const shown = v.pipe(count, v.maxValue(99_999));
const StudyViewMessageSchema = v.variant('type', [
  message(S, 'ready', {}),
  /** After rendering: what the view shows (tests read it; it also tells the host the view works). */
  message(S, 'rendered', { lines: shown, bands: shown, points: shown, rows: shown, sentence: v.boolean() }),
  message(S, 'open-run', { cell: shown }),
]);
export type StudyViewMessage = v.InferOutput<typeof StudyViewMessageSchema>;

/** Validates a message from the study webview (untrusted); `cell` must be one of the `cellCount` shown. */
export function parseStudyViewMessage(raw: unknown, cellCount: number): Parsed<StudyViewMessage> {
  const parsed = parseMessage(StudyViewMessageSchema, S, raw);
  if (parsed.ok && parsed.value.type === 'open-run' && parsed.value.cell >= cellCount) {
    return { ok: false, error: `'open-run' message: cell: ${parsed.value.cell} is not one of the ${cellCount} cells shown` };
  }
  return parsed;
}
