// The numbers a run is judged by, computed once for every display (dashboard header, sidebar,
// CodeLens, status bar, tree): the last epoch's validation accuracy, the best one and its
// epoch, the final evaluation, and which epoch's weights were kept. Each label says which
// number it is, so two views of one run never show two unexplained percentages.
import * as v from 'valibot';
import type { RunRecord, KeptWeights } from './runRecord';
import type { RunStatus } from './runEvents';

/** A validation accuracy and the epoch it is from. */
export interface EpochAccuracy {
  value: number;
  epoch: number;
}

export interface RunSummary {
  status: RunStatus;
  /** The last epoch done, and how many the run trains. */
  epoch?: number;
  epochs?: number;
  /** The last epoch's validation accuracy. */
  last?: EpochAccuracy;
  /** The highest validation accuracy, at the first epoch that reached it. */
  best?: EpochAccuracy;
  /** The final evaluation of the kept weights, on the test split (or validation when there is none). */
  evaluation?: { value: number; split: 'test' | 'val' };
  /** The epoch whose weights were kept, evaluated and exported (only once the run succeeded). */
  weights?: KeptWeights & { lastEpoch?: number };
}

export interface RunSummaryInput {
  record?: Pick<RunRecord, 'status' | 'metrics' | 'config' | 'weights' | 'dataset'>;
  /** Validation accuracy per epoch, x = the epoch: metrics.jsonl, or the live run's epochs so far. */
  valAccuracy: readonly { x: number; y: number }[];
  /** The live run while its trainer is alive: its status event and last epoch win over run.json. */
  live?: { status: RunStatus; epochs?: number; lastEpoch?: { epoch: number; epochs: number } };
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** The last and the best (first epoch to reach the maximum) point of a validation-accuracy curve. */
export function lastAndBest(curve: readonly { x: number; y: number }[]): { last?: EpochAccuracy; best?: EpochAccuracy } {
  const points = curve.filter((p) => finite(p.y));
  const lastPoint = points.at(-1);
  const bestPoint = points.reduce<{ x: number; y: number } | undefined>((b, p) => (!b || p.y > b.y ? p : b), undefined);
  return {
    last: lastPoint && { value: lastPoint.y, epoch: lastPoint.x },
    best: bestPoint && { value: bestPoint.y, epoch: bestPoint.x },
  };
}

/** Runs from before run.json said which weights it kept: the engine always restored the best checkpoint. */
function keptWeights(r: RunSummaryInput['record']): KeptWeights | undefined {
  if (!r || r.status !== 'succeeded') return undefined;
  if (r.weights) return r.weights;
  const epoch = r.metrics.bestEpoch;
  if (!finite(epoch) || epoch < 1) return undefined;
  return { epoch, metric: r.config.train.checkpointMetric ?? 'val_accuracy', evaluatedOn: evaluationSplitOf(r) };
}

/** Where the final evaluation ran: the test split when the dataset has one. */
function evaluationSplitOf(r: NonNullable<RunSummaryInput['record']>): 'test' | 'val' {
  if (r.weights) return r.weights.evaluatedOn;
  const counts = Object.values(r.dataset?.counts ?? {});
  return counts.length === 0 || counts.some((c) => (c.test ?? 0) > 0) ? 'test' : 'val';
}

/** Last and best from run.json alone (the tree, the CodeLens): what the engine wrote from the same history. */
function fromRecord(r: RunSummaryInput['record']): { last?: EpochAccuracy; best?: EpochAccuracy } {
  const m = r?.metrics ?? {};
  const out: { last?: EpochAccuracy; best?: EpochAccuracy } = {};
  if (finite(m.lastValAccuracy) && finite(m.epochs)) out.last = { value: m.lastValAccuracy, epoch: m.epochs };
  if (finite(m.peakValAccuracy) && finite(m.peakValAccuracyEpoch)) out.best = { value: m.peakValAccuracy, epoch: m.peakValAccuracyEpoch };
  // Older runs: the kept checkpoint is the best by validation accuracy unless the file chose val_loss.
  else if (finite(m.bestValAccuracy) && finite(m.bestEpoch) && m.bestEpoch >= 1 && (r?.config.train.checkpointMetric ?? 'val_accuracy') === 'val_accuracy')
    out.best = { value: m.bestValAccuracy, epoch: m.bestEpoch };
  return out;
}

export function summarizeRun({ record: r, valAccuracy, live }: RunSummaryInput): RunSummary {
  const status = live?.status ?? r?.status ?? 'running';
  const { last, best } = valAccuracy.length > 0 ? lastAndBest(valAccuracy) : fromRecord(r);
  const summary: RunSummary = {
    status,
    epoch: live?.lastEpoch?.epoch ?? valAccuracy.at(-1)?.x ?? (finite(r?.metrics.epochs) ? r.metrics.epochs : undefined),
    epochs: live?.lastEpoch?.epochs ?? live?.epochs ?? r?.config.train.epochs,
    last,
    best,
  };
  // The evaluation exists only once the run has been evaluated (never while it trains).
  if (status !== 'running' && r && finite(r.metrics.accuracy)) summary.evaluation = { value: r.metrics.accuracy, split: evaluationSplitOf(r) };
  const weights = status === 'succeeded' ? keptWeights(r) : undefined;
  if (weights) summary.weights = { ...weights, lastEpoch: last?.epoch ?? (finite(r?.metrics.epochs) ? r.metrics.epochs : undefined) };
  return summary;
}

/** The labels every view shows; sent to the webviews as they are so they say the same words. */
export const RunSummaryLabelsSchema = v.object({
  progress: v.optional(v.string()),
  last: v.optional(v.string()),
  best: v.optional(v.string()),
  evaluation: v.optional(v.string()),
  weights: v.optional(v.string()),
});
export type RunSummaryLabels = v.InferOutput<typeof RunSummaryLabelsSchema>;

export const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

export function summaryLabels(s: RunSummary): RunSummaryLabels {
  const labels: RunSummaryLabels = {};
  if (s.epoch !== undefined || s.epochs !== undefined) labels.progress = `epoch ${s.epoch ?? 0}/${s.epochs ?? '?'}`;
  if (s.last) labels.last = `val ${percent(s.last.value)} · last (epoch ${s.last.epoch})`;
  if (s.best) labels.best = `${percent(s.best.value)} best (epoch ${s.best.epoch})`;
  if (s.evaluation) labels.evaluation = `${s.evaluation.split} ${percent(s.evaluation.value)}${s.evaluation.split === 'val' ? ' (no test split)' : ''}`;
  if (s.weights) {
    const w = s.weights;
    labels.weights =
      w.lastEpoch === w.epoch
        ? `weights: last epoch ${w.epoch} (also the best by ${w.metric})`
        : `weights: best epoch ${w.epoch} by ${w.metric} (restored after epoch ${w.lastEpoch ?? '?'})`;
  }
  return labels;
}

/** One line for the status bar and the CodeLens: progress while it trains, then best and evaluation. */
export function summaryLine(s: RunSummary): string {
  const l = summaryLabels(s);
  const parts = s.status === 'running' ? [l.progress, l.last, l.best] : [l.best, l.evaluation];
  return parts.filter(Boolean).join(' · ');
}
