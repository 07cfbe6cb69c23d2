// Host <-> Dashboard panel messages, defined once for both sides (the rule: messageProtocol.ts).
import * as v from 'valibot';
import { EvaluationReportSchema, RunStatusSchema } from './runEvents';
import { count, measured, message, parseMessage, type Parsed } from './messageProtocol';
import { ChartsReportEntries } from './chartReport';
import { RunSummaryLabelsSchema } from './runSummary';

export const DASHBOARD_PROTOCOL = 1;

/** One point of a curve: x is on the epoch axis, a batch at its fraction of the epoch (epoch 3, batch 5 of 10: 2.5). */
export const CurvePointSchema = v.object({ x: v.number(), y: measured });
export type CurvePoint = v.InferOutput<typeof CurvePointSchema>;

const curve = v.array(CurvePointSchema);
const DashboardCurvesSchema = v.object({
  /** Per batch (train). */
  batchLoss: curve,
  batchAccuracy: curve,
  /** Per epoch, x = the epoch number. */
  epochLoss: curve,
  epochAccuracy: curve,
  valLoss: curve,
  valAccuracy: curve,
  /** The head's learning rate per batch, and the base's (fine-tuned backbone layers) where it trained at its own rate. */
  learningRate: curve,
  baseLearningRate: curve,
});
export type DashboardCurves = v.InferOutput<typeof DashboardCurvesSchema>;

/** What both dashboards (this panel and the sidebar view) say about a run. */
export const runFacts = {
  experiment: v.string(),
  status: RunStatusSchema,
  backend: v.string(),
  epoch: v.optional(v.number()),
  epochs: v.optional(v.number()),
  valAccuracy: v.optional(measured),
  message: v.optional(v.string()),
  /** Every accuracy labelled (last, best, evaluation, kept weights): core/runSummary.ts, the same words in every view. */
  accuracy: v.optional(RunSummaryLabelsSchema),
};

const DashboardHeaderSchema = v.object({
  runId: v.string(),
  ...runFacts,
  etaSeconds: v.optional(measured),
  imagesPerSec: v.optional(measured),
  learningRate: v.optional(measured),
});
export type DashboardHeader = v.InferOutput<typeof DashboardHeaderSchema>;

const WrongImageSchema = v.object({ uri: v.string(), path: v.string(), trueLabel: v.string(), predictedLabel: v.string(), confidence: measured });
export type WrongImage = v.InferOutput<typeof WrongImageSchema>;

const D = DASHBOARD_PROTOCOL;

// host -> panel
const DashboardMessageSchema = v.variant('type', [
  message(D, 'init', {
    header: DashboardHeaderSchema,
    curves: DashboardCurvesSchema,
    evaluation: v.optional(EvaluationReportSchema),
    wrong: v.optional(v.array(WrongImageSchema)),
    runDir: v.string(),
    /** What picks the best epoch (the weights kept): the chart marks it. Runs from before it was recorded: val_accuracy. */
    checkpointMetric: v.optional(v.picklist(['val_accuracy', 'val_loss'])),
  }),
  message(D, 'append', { curves: v.partial(DashboardCurvesSchema) }),
  message(D, 'header', { header: DashboardHeaderSchema }),
  message(D, 'evaluation', { evaluation: EvaluationReportSchema, wrong: v.array(WrongImageSchema) }),
  // Asks for a 'charts' report (what the charts hold and drew; the integration tests read it).
  message(D, 'describe-charts', {}),
]);
export type DashboardMessage = v.InferOutput<typeof DashboardMessageSchema>;
export const parseDashboardMessage = (raw: unknown): Parsed<DashboardMessage> => parseMessage(DashboardMessageSchema, D, raw);

// panel -> host
const DashboardRequestSchema = v.variant('type', [
  message(D, 'ready', {}),
  message(D, 'rendered', { points: count, outOfOrder: count }),
  message(D, 'reveal', { path: v.string() }),
  message(D, 'charts', ChartsReportEntries),
]);
export type DashboardRequest = v.InferOutput<typeof DashboardRequestSchema>;
export const parseDashboardRequest = (raw: unknown): Parsed<DashboardRequest> => parseMessage(DashboardRequestSchema, D, raw);

export const emptyCurves = (): DashboardCurves => ({
  batchLoss: [],
  batchAccuracy: [],
  epochLoss: [],
  epochAccuracy: [],
  valLoss: [],
  valAccuracy: [],
  learningRate: [],
  baseLearningRate: [],
});

/**
 * Merges a run's history (metrics.jsonl, read when the webview is ready) with its live events
 * into one stream where each curve only moves forward. The two overlap: events that arrive
 * while the webview loads are also on disk by the time it asks for the history, and a point
 * sent twice draws a line back to the start of the curve.
 */
export class CurveFeed {
  private pending: Partial<DashboardCurves> = {};
  private upTo: Partial<Record<keyof DashboardCurves, number>> = {};
  private ready = false;

  /** A live point; held until the history has been taken. */
  push(key: keyof DashboardCurves, point: CurvePoint): void {
    (this.pending[key] ??= []).push(point);
  }

  /** The history, when the webview is ready: everything live after it follows on. */
  history(curves: DashboardCurves): void {
    this.ready = true;
    this.upTo = {};
    for (const key of Object.keys(curves) as (keyof DashboardCurves)[]) {
      const c = curves[key];
      if (c.length > 0) this.upTo[key] = c[c.length - 1].x;
    }
  }

  /** Live points newer than what was sent, or nothing before the history. */
  take(): Partial<DashboardCurves> {
    if (!this.ready) return {};
    const fresh: Partial<DashboardCurves> = {};
    for (const [key, points] of Object.entries(this.pending) as [keyof DashboardCurves, CurvePoint[]][]) {
      let last = this.upTo[key] ?? -Infinity;
      const out = points.filter((p) => (p.x > last ? ((last = p.x), true) : false));
      if (out.length === 0) continue;
      fresh[key] = out;
      this.upTo[key] = last;
    }
    this.pending = {};
    return fresh;
  }
}

/** At most `max` points: keeps the min and max of each bucket, so spikes survive. */
export function decimate(points: CurvePoint[], max: number): CurvePoint[] {
  if (points.length <= max) return points;
  const buckets = Math.max(1, Math.floor(max / 2));
  const size = points.length / buckets;
  const out: CurvePoint[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (slice.length === 0) continue;
    let lo = slice[0];
    let hi = slice[0];
    for (const p of slice) {
      if (p.y < lo.y) lo = p;
      if (p.y > hi.y) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.x < hi.x ? [lo, hi] : [hi, lo]));
  }
  return out;
}
