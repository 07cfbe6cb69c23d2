// Host <-> Dashboard panel messages, defined once for both sides.
import type { EvaluationReport } from './metrics';
import type { RunStatus } from './runEvents';

/** One point of a curve: x is the global step (batches) or the epoch number. */
export interface CurvePoint {
  x: number;
  y: number;
}

export interface DashboardCurves {
  /** Per batch (train). */
  batchLoss: CurvePoint[];
  batchAccuracy: CurvePoint[];
  /** Per epoch, x = epoch * batchesPerEpoch so they share the batch axis. */
  epochLoss: CurvePoint[];
  epochAccuracy: CurvePoint[];
  valLoss: CurvePoint[];
  valAccuracy: CurvePoint[];
  learningRate: CurvePoint[];
}

export interface DashboardHeader {
  runId: string;
  experiment: string;
  status: RunStatus;
  backend: string;
  epoch?: number;
  epochs?: number;
  etaSeconds?: number;
  imagesPerSec?: number;
  learningRate?: number;
  valAccuracy?: number;
  message?: string;
}

export interface WrongImage {
  uri: string;
  path: string;
  trueLabel: string;
  predictedLabel: string;
  confidence: number;
}

export const emptyCurves = (): DashboardCurves => ({
  batchLoss: [],
  batchAccuracy: [],
  epochLoss: [],
  epochAccuracy: [],
  valLoss: [],
  valAccuracy: [],
  learningRate: [],
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

// host -> panel
export type DashboardMessage =
  | { type: 'init'; header: DashboardHeader; curves: DashboardCurves; evaluation?: EvaluationReport; wrong?: WrongImage[]; runDir: string }
  | { type: 'append'; curves: Partial<DashboardCurves> }
  | { type: 'header'; header: DashboardHeader }
  | { type: 'evaluation'; evaluation: EvaluationReport; wrong: WrongImage[] };

// panel -> host
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export type DashboardRequest = { type: 'ready' } | { type: 'rendered'; points: number; outOfOrder: number } | { type: 'reveal'; path: string };

export function parseDashboardRequest(raw: unknown): DashboardRequest | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'rendered' && isCount(m.points) && isCount(m.outOfOrder)) return { type: 'rendered', points: m.points, outOfOrder: m.outOfOrder };
  if (m.type === 'reveal' && typeof m.path === 'string') return { type: 'reveal', path: m.path };
  return undefined;
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
