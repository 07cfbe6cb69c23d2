// Host <-> Compare webview messages, and how the host builds what it sends from run folders'
// records: per-run epoch curves, the config fields that differ between the runs, and the
// final metrics. The webview renders this; it never reads files.
import type { MetricRecord, RunRecord } from './runRecord';

export const COMPARE_PROTOCOL_VERSION = 1;

export interface CompareCurvePoint {
  epoch: number;
  loss?: number;
  valLoss?: number;
  valAccuracy?: number;
}

export interface CompareRun {
  id: string;
  /** Short label for the legend: experiment name + strategy. */
  label: string;
  status: string;
  points: CompareCurvePoint[];
}

export interface CompareRow {
  field: string;
  /** One display value per run, in run order. */
  values: string[];
  /** Index of the best run for metric rows (highest accuracy, shortest time…). */
  best?: number;
}

export interface CompareState {
  type: 'state';
  version: typeof COMPARE_PROTOCOL_VERSION;
  runs: CompareRun[];
  /** Only the config fields whose values differ between the runs. */
  differences: CompareRow[];
  /** How many config fields are equal in every run (not shown). */
  sameCount: number;
  metrics: CompareRow[];
  /** The run folders shown, kept by the view's state so the panel can restore after a reload. */
  runDirs?: string[];
}

export type CompareHostMessage = CompareState;

export type CompareViewMessage =
  | { type: 'ready' }
  /** After rendering: what the view shows (tests read it; it also tells the host the view works). */
  | { type: 'rendered'; runs: number; charts: number; differenceRows: number; metricRows: number }
  | { type: 'openDashboard'; run: number };

/** Validates a message from the compare webview (untrusted input). */
export function parseCompareViewMessage(raw: unknown, runCount: number): CompareViewMessage | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const count = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 10_000;
  switch (m.type) {
    case 'ready':
      return { type: 'ready' };
    case 'rendered':
      return count(m.runs) && count(m.charts) && count(m.differenceRows) && count(m.metricRows)
        ? {
            type: 'rendered',
            runs: m.runs as number,
            charts: m.charts as number,
            differenceRows: m.differenceRows as number,
            metricRows: m.metricRows as number,
          }
        : undefined;
    case 'openDashboard':
      return count(m.run) && (m.run as number) < runCount ? { type: 'openDashboard', run: m.run as number } : undefined;
    default:
      return undefined;
  }
}

const pct = (v: number | undefined) => (typeof v === 'number' && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '—');
const seconds = (ms: number | undefined) =>
  typeof ms === 'number' && Number.isFinite(ms)
    ? ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`
    : '—';

function backboneName(r: RunRecord): string {
  const b = r.config.backbone;
  return 'catalog' in b ? b.catalog : 'path' in b ? b.path.split(/[\\/]/).slice(-2).join('/') : b.url;
}

/** The config fields a comparison cares about, as display strings. */
function configFields(r: RunRecord): [string, string][] {
  const c = r.config;
  const s = c.strategy;
  const aug = c.data.augment;
  return [
    ['backbone', backboneName(r)],
    ['cut at', c.backbone.cutAt ?? r.freeze?.cutAt ?? 'default'],
    ['strategy', s.kind],
    ['unfreeze from', s.kind === 'fine-tune' ? (s.unfreezeFrom ?? `last ${s.unfreezeLast} layers`) : '—'],
    ['base learning rate', s.kind === 'fine-tune' ? String(s.baseLearningRate) : '—'],
    ['warm-up epochs', s.kind === 'fine-tune' ? String(s.warmupEpochs) : '—'],
    ['learning rate', String(c.train.learningRate)],
    ['optimizer', c.train.optimizer],
    ['schedule', c.train.schedule.kind],
    ['epochs (planned)', String(c.train.epochs)],
    ['batch size', String(c.train.batchSize)],
    [
      'augment',
      aug
        ? Object.entries(aug)
            .filter(([, v]) => v)
            .map(([k, v]) => (v === true ? k : `${k} ${v}`))
            .join(', ') || 'none'
        : 'none',
    ],
    ['head', `${c.head.pooling}${c.head.dense.length ? `, dense ${c.head.dense.join('/')}` : ''}, dropout ${c.head.dropout}`],
    ['dataset', c.data.dir.split(/[\\/]/).slice(-2).join('/')],
    ['split (val/test)', `${c.data.split.val}/${c.data.split.test}`],
    ['seed', String(c.data.seed)],
    ['early stopping', c.train.earlyStopping ? `${c.train.earlyStopping.monitor}, patience ${c.train.earlyStopping.patience}` : 'off'],
  ];
}

function bestIndex(values: (number | undefined)[], higherIsBetter: boolean): number | undefined {
  let best: number | undefined;
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return;
    if (best === undefined || (higherIsBetter ? v > values[best]! : v < values[best]!)) best = i;
  });
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).length > 1 ? best : undefined;
}

/** Builds the state the compare view renders, from each run's record and metrics.jsonl. */
export function buildCompareState(runs: { record: RunRecord; metrics: MetricRecord[] }[]): CompareState {
  const compared = runs.map(({ record, metrics }) => {
    const epochs = metrics.filter((m) => m.kind === 'epoch');
    const points: CompareCurvePoint[] = epochs.map((m) => ({
      epoch: m.epoch,
      loss: finite(m.loss),
      valLoss: finite(m.val_loss),
      valAccuracy: finite(m.val_accuracy),
    }));
    return { record, points };
  });
  const fields = compared.map((c) => configFields(c.record));
  const differences: CompareRow[] = [];
  let sameCount = 0;
  fields[0]?.forEach(([field], i) => {
    const values = fields.map((f) => f[i][1]);
    if (values.every((v) => v === values[0])) sameCount++;
    else differences.push({ field, values });
  });

  const num = (get: (c: (typeof compared)[number]) => number | undefined) => compared.map(get);
  const bestVal = num((c) => finite(c.record.metrics.bestValAccuracy) ?? maxOf(c.points.map((p) => p.valAccuracy)));
  const testAcc = num((c) => finite(c.record.metrics.accuracy));
  const finalValLoss = num((c) => c.points.at(-1)?.valLoss);
  const epochsRun = num((c) => c.points.length || undefined);
  const trainMs = num((c) => finite(c.record.timings.trainMs as number | undefined) ?? finite(c.record.timings.durationMs));
  const metrics: CompareRow[] = [
    { field: 'test accuracy', values: testAcc.map(pct), best: bestIndex(testAcc, true) },
    { field: 'best val accuracy', values: bestVal.map(pct), best: bestIndex(bestVal, true) },
    { field: 'final val loss', values: finalValLoss.map((v) => (v === undefined ? '—' : v.toFixed(4))), best: bestIndex(finalValLoss, false) },
    { field: 'epochs run', values: epochsRun.map((v) => (v === undefined ? '—' : String(v))) },
    { field: 'training time', values: trainMs.map(seconds), best: bestIndex(trainMs, false) },
    { field: 'backend', values: compared.map((c) => c.record.backend) },
    { field: 'status', values: compared.map((c) => c.record.status) },
  ];
  return {
    type: 'state',
    version: COMPARE_PROTOCOL_VERSION,
    runs: compared.map((c) => ({
      id: c.record.id,
      label: `${c.record.experiment.name} · ${c.record.config.strategy.kind}`,
      status: c.record.status,
      points: c.points,
    })),
    differences,
    sameCount,
    metrics,
  };
}

function finite(v: number | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function maxOf(values: (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => typeof v === 'number');
  return xs.length ? Math.max(...xs) : undefined;
}
