// A data-efficiency study: one experiment trained over a grid of (strategy x images per class x
// seed), each cell an ordinary run folder, grouped under `<runsDir>/studies/<studyId>/` with
// study.json (this schema) beside the cells' run folders. Also the events a study streams
// (engine -> trainer -> extension, or the CLI), so every reader parses the same shapes.
import * as v from 'valibot';
import { count, measured } from './messageProtocol';

export const STUDY_FORMAT_VERSION = 1;
/** Under the runs folder; run listings skip it (a study lists its own runs). */
export const STUDIES_FOLDER = 'studies';
export const STUDY_FILE = 'study.json';

/**
 * The experiment's strategies plus 'earlier-cut': feature extraction with the head attached at
 * an earlier block (the seeds' "early layers are generic"), so a study can show what depth buys.
 */
export const StudyStrategySchema = v.picklist(['scratch', 'feature-extraction', 'fine-tune', 'earlier-cut']);
export type StudyStrategy = v.InferOutput<typeof StudyStrategySchema>;
export const STUDY_STRATEGIES: readonly StudyStrategy[] = StudyStrategySchema.options;

/** Images per class of the training subset: a positive count, or 'all' of the training split. */
export const PerClassSchema = v.union([v.pipe(v.number(), v.integer(), v.minValue(1)), v.literal('all')]);
export type PerClass = v.InferOutput<typeof PerClassSchema>;

export const StudyGridSchema = v.object({
  perClass: v.pipe(v.array(PerClassSchema), v.minLength(1)),
  seeds: v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(0))), v.minLength(1)),
  strategies: v.pipe(v.array(StudyStrategySchema), v.minLength(1)),
});
export type StudyGrid = v.InferOutput<typeof StudyGridSchema>;

export const StudyCellStatusSchema = v.picklist(['pending', 'running', 'completed', 'failed', 'cancelled']);
export type StudyCellStatus = v.InferOutput<typeof StudyCellStatusSchema>;

const nullableMeasured = v.nullable(v.number());
const nullableCount = v.nullable(count);

export const StudyCellSchema = v.object({
  strategy: StudyStrategySchema,
  perClass: PerClassSchema,
  seed: v.number(),
  status: StudyCellStatusSchema,
  /** The cell's run folder name (inside the study folder); null until it starts. */
  runId: v.nullable(v.string()),
  /** Images in the cell's training subset (known before it runs). */
  trainImages: count,
  testAccuracy: nullableMeasured,
  bestValAccuracy: nullableMeasured,
  bestEpoch: v.nullable(v.number()),
  epochs: nullableCount,
  /** First epoch whose validation accuracy reached the study's target; null: never (or not run). */
  epochsToTarget: nullableCount,
  trainSeconds: nullableMeasured,
  error: v.nullable(v.string()),
});
export type StudyCell = v.InferOutput<typeof StudyCellSchema>;

export const StudySummaryRowSchema = v.object({
  strategy: StudyStrategySchema,
  perClass: PerClassSchema,
  /** Completed cells (seeds) this row aggregates. */
  n: count,
  meanTestAccuracy: v.number(),
  /** Sample standard deviation over seeds (0 for one seed). */
  stdTestAccuracy: v.number(),
  minTestAccuracy: v.number(),
  maxTestAccuracy: v.number(),
  meanTrainSeconds: v.number(),
  /** Mean over the seeds that reached the target; null when none did. */
  meanEpochsToTarget: v.nullable(v.number()),
  /** Seeds that reached the target. */
  reachedTarget: count,
});
export type StudySummaryRow = v.InferOutput<typeof StudySummaryRowSchema>;

export const StudySummarySchema = v.object({
  rows: v.array(StudySummaryRowSchema),
  /** Smallest data size from which scratch is within the spread of the best transfer strategy; null: never on this grid. */
  transferStopsPayingAt: v.nullable(PerClassSchema),
  sentence: v.string(),
});
export type StudySummary = v.InferOutput<typeof StudySummarySchema>;

export const StudyFileSchema = v.object({
  format: v.literal(STUDY_FORMAT_VERSION),
  id: v.string(),
  /** The experiment file, relative to the study folder (so a moved workspace still finds it). */
  experiment: v.string(),
  experimentName: v.string(),
  backend: v.string(),
  /** ISO 8601. */
  createdAt: v.string(),
  finishedAt: v.nullable(v.string()),
  grid: StudyGridSchema,
  /** Validation accuracy that counts as "reached" for epochsToTarget. */
  target: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
  /** How subsets are drawn, and what each strategy means here (settings the experiment did not give), in words. */
  notes: v.record(v.string(), v.string()),
  cells: v.array(StudyCellSchema),
  summary: v.nullable(StudySummarySchema),
});
export type StudyFile = v.InferOutput<typeof StudyFileSchema>;

/** What a study streams. The cells' own RunEvents travel beside these (see runStudy's onEvent). */
export const StudyEventSchema = v.variant('type', [
  v.object({ type: v.literal('study-started'), studyDir: v.string(), study: StudyFileSchema }),
  v.object({ type: v.literal('study-cell-started'), studyDir: v.string(), index: count, cell: StudyCellSchema }),
  v.object({ type: v.literal('study-cell-finished'), studyDir: v.string(), index: count, cell: StudyCellSchema }),
  v.object({
    type: v.literal('study-finished'),
    studyDir: v.string(),
    status: v.picklist(['completed', 'cancelled', 'failed']),
    summary: v.nullable(StudySummarySchema),
    cache: v.object({ hits: count, misses: count }),
    durationMs: measured,
  }),
]);
export type StudyEvent = v.InferOutput<typeof StudyEventSchema>;

/** Parses study.json's text; errors name the field. */
export function parseStudyFile(text: string, file: string): { ok: true; value: StudyFile } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${file}: not JSON (${(e as Error).message}). Delete the study folder or restore the file.` };
  }
  const parsed = v.safeParse(StudyFileSchema, raw);
  if (parsed.success) return { ok: true, value: parsed.output };
  const issue = parsed.issues[0];
  const where = v.getDotPath(issue) ?? '(top level)';
  return { ok: false, error: `${file}: ${where} ${issue.message}. It was not written by this Transfer Lab, or it was edited by hand.` };
}

/** The cell order of a grid: strategy-major, then data size, then seed (the order they run in). */
export function gridCells(grid: StudyGrid): { strategy: StudyStrategy; perClass: PerClass; seed: number }[] {
  return grid.strategies.flatMap((strategy) => grid.perClass.flatMap((perClass) => grid.seeds.map((seed) => ({ strategy, perClass, seed }))));
}
