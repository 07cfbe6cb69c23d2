// The recent predictions the panel lists (kept in workspaceState by the host): newest first,
// a bounded number, a big folder's rows trimmed so the state stays small. What is read back
// is validated like any message: a history from another version or a corrupted one is dropped
// entry by entry, never trusted.
import * as v from 'valibot';
import { PredictionSetSchema, describeModel, type HistoryItem, type PredictionSet } from './predictionsMessages';

export const HISTORY_LIMIT = 20;
/** Rows kept per entry (misclassified first, so the mistakes survive the trim). */
export const ROWS_KEPT = 200;

/** The entry as the history keeps it: at most ROWS_KEPT rows, the rest counted. */
export function trimmed(set: PredictionSet, rowsKept = ROWS_KEPT): PredictionSet {
  if (set.rows.length <= rowsKept) return set;
  return { ...set, rows: set.rows.slice(0, rowsKept), droppedRows: (set.droppedRows ?? 0) + set.rows.length - rowsKept };
}

/** The history with `set` first (replacing an older copy of it), at most `limit` entries. */
export function addToHistory(history: readonly PredictionSet[], set: PredictionSet, limit = HISTORY_LIMIT): PredictionSet[] {
  return [trimmed(set), ...history.filter((h) => h.id !== set.id)].slice(0, limit);
}

/** The valid entries of what workspaceState held (anything else is skipped). */
export function readHistory(raw: unknown): PredictionSet[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((entry) => {
    const parsed = v.safeParse(PredictionSetSchema, entry);
    return parsed.success ? [parsed.output] : [];
  });
}

const baseName = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

/** "3 files", "test/ and 2 more": what was given, briefly. */
export function titleOf(set: PredictionSet): string {
  const [first, ...rest] = set.inputs;
  if (first === undefined) return 'nothing';
  return rest.length === 0 ? baseName(first) : `${baseName(first)} and ${rest.length} more`;
}

/** One line per entry for the panel's list. */
export function historyItems(history: readonly PredictionSet[]): HistoryItem[] {
  return history.map((h) => {
    const labelled = h.accuracy.reduce((n, a) => n + a.labelled, 0);
    const correct = h.accuracy.reduce((n, a) => n + a.correct, 0);
    return {
      id: h.id,
      at: h.at,
      title: titleOf(h),
      model: describeModel(h.model),
      images: h.total,
      ...(labelled > 0 ? { accuracy: correct / labelled } : {}),
    };
  });
}
