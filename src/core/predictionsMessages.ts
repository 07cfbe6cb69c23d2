// Host <-> Predictions panel messages (the rule: messageProtocol.ts), and the prediction set
// the panel shows, which is also what the history keeps in workspaceState (predictionHistory.ts).
// The webview only renders: images, top-k bars, the model used, a folder's accuracy.
import * as v from 'valibot';
import type { FolderAccuracy, PredictionRow } from './folderAccuracy';
import { count, measured, message, parseMessage, type Assert, type Parsed, type SameShape } from './messageProtocol';

export const PREDICTIONS_PROTOCOL = 1;

/** The model that predicted: a run's model/ folder or an exported model folder, and what trained it. */
const ModelInfoSchema = v.object({
  /** The run folder or the exported model folder (what the trainer was given). */
  target: v.string(),
  source: v.picklist(['run', 'export']),
  runId: v.optional(v.string()),
  experiment: v.optional(v.string()),
  strategy: v.optional(v.string()),
  backbone: v.optional(v.string()),
  /** The model's classes, in output order. */
  labels: v.array(v.string()),
});
export type ModelInfo = v.InferOutput<typeof ModelInfoSchema>;

const RowSchema = v.object({
  file: v.string(),
  top: v.array(v.object({ label: v.string(), probability: measured })),
  error: v.optional(v.string()),
  root: v.optional(v.string()),
  truth: v.optional(v.string()),
});
export type _RowSchemaIsPredictionRow = Assert<SameShape<v.InferOutput<typeof RowSchema>, PredictionRow>>;

const AccuracySchema = v.object({ folder: v.string(), labelled: count, correct: count, unlabelled: count, accuracy: v.optional(v.number()) });
export type _AccuracySchemaIsFolderAccuracy = Assert<SameShape<v.InferOutput<typeof AccuracySchema>, FolderAccuracy>>;

export const PREDICTION_STATUSES = ['loading', 'running', 'done', 'cancelled', 'failed'] as const;

/** One Predict: what was given, by which model, the rows so far (misclassified first), and each folder's accuracy. */
export const PredictionSetSchema = v.object({
  id: v.string(),
  /** ISO 8601, when it started. */
  at: v.string(),
  /** The files and folders given. */
  inputs: v.array(v.string()),
  model: ModelInfoSchema,
  rows: v.array(RowSchema),
  /** Images to predict in all (rows.length once done). */
  total: count,
  status: v.picklist(PREDICTION_STATUSES),
  /** Why it failed as a whole, with what to do. */
  error: v.optional(v.string()),
  /** What was given but not predicted (not an image, not found, a folder cut short), each naming the file and what to do. */
  problems: v.array(v.string()),
  accuracy: v.array(AccuracySchema),
  /** Rows not kept in the history (a big folder keeps its first ones, misclassified first). */
  droppedRows: v.optional(count),
});
export type PredictionSet = v.InferOutput<typeof PredictionSetSchema>;

/** What the history list shows of a past prediction. */
const HistoryItemSchema = v.object({ id: v.string(), at: v.string(), title: v.string(), model: v.string(), images: count, accuracy: v.optional(v.number()) });
export type HistoryItem = v.InferOutput<typeof HistoryItemSchema>;

const P = PREDICTIONS_PROTOCOL;

// host -> predictions view
const PredictionsStateSchema = message(P, 'state', {
  current: v.optional(PredictionSetSchema),
  /** The webview URI of each current row's image, by row (empty string: not shown). */
  images: v.array(v.string()),
  history: v.array(HistoryItemSchema),
});
export type PredictionsState = v.InferOutput<typeof PredictionsStateSchema>;
export const parsePredictionsState = (raw: unknown): Parsed<PredictionsState> => parseMessage(PredictionsStateSchema, P, raw);

// predictions view -> host
const shown = v.pipe(count, v.maxValue(1_000_000));
const PredictionsRequestSchema = v.variant('type', [
  message(P, 'ready', {}),
  /** Pick images (or folders) with the open dialog. */
  message(P, 'pick', { folders: v.boolean() }),
  /** Files or folders dropped on the panel, as URIs (text/uri-list). */
  message(P, 'drop', { uris: v.pipe(v.array(v.pipe(v.string(), v.maxLength(4096))), v.minLength(1), v.maxLength(1000)) }),
  message(P, 'cancel', {}),
  /** Predict the same inputs with another run's model. */
  message(P, 'change-model', {}),
  message(P, 'clear-history', {}),
  message(P, 'show-history', { id: v.pipe(v.string(), v.maxLength(100)) }),
  message(P, 'open-image', { row: shown }),
  /** After rendering: what the view shows (tests read it; it also says the view works). */
  message(P, 'rendered', { rows: shown, images: shown, accuracy: v.array(v.number()) }),
]);
export type PredictionsRequest = v.InferOutput<typeof PredictionsRequestSchema>;

/** Validates a request from the webview (untrusted): a row must be one of the `rowCount` shown. */
export function parsePredictionsRequest(raw: unknown, rowCount: number): Parsed<PredictionsRequest> {
  const parsed = parseMessage(PredictionsRequestSchema, P, raw);
  if (parsed.ok && parsed.value.type === 'open-image' && parsed.value.row >= rowCount) {
    return { ok: false, error: `'open-image' message: row: ${parsed.value.row} is not one of the ${rowCount} rows shown` };
  }
  return parsed;
}

/** "fine-tune · mobilenet_v2 · run 2026-…" : the model in one line, for the history and titles. */
export function describeModel(m: ModelInfo): string {
  return [m.strategy, m.backbone, m.runId ? `run ${m.runId}` : `exported model ${m.target.split(/[\\/]/).pop()}`].filter(Boolean).join(' · ');
}
