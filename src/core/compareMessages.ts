// Host <-> Compare webview messages, and how the host builds what it sends from run folders'
// records: per-run epoch curves, the config fields that differ between the runs, and the
// final metrics. The webview renders this; it never reads files.
import * as v from 'valibot';
import type { MetricRecord, RunRecord } from './runRecord';
import { count, message, parseMessage, type Parsed } from './messageProtocol';
import { shortDate } from './runLabel';

export const COMPARE_PROTOCOL = 1;

const CompareCurvePointSchema = v.object({
  epoch: v.number(),
  loss: v.optional(v.number()),
  valLoss: v.optional(v.number()),
  valAccuracy: v.optional(v.number()),
});
export type CompareCurvePoint = v.InferOutput<typeof CompareCurvePointSchema>;

const CompareRunSchema = v.object({
  id: v.string(),
  /** Short label for the legend and the table's columns: experiment name + strategy, told apart when two runs share it. */
  label: v.string(),
  status: v.string(),
  points: v.array(CompareCurvePointSchema),
});
export type CompareRun = v.InferOutput<typeof CompareRunSchema>;

const CompareRowSchema = v.object({
  field: v.string(),
  /** One display value per run, in run order. */
  values: v.array(v.string()),
  /** Index of the best run for metric rows (highest accuracy, shortest time…). */
  best: v.optional(count),
});
export type CompareRow = v.InferOutput<typeof CompareRowSchema>;

const C = COMPARE_PROTOCOL;

// host -> compare view
const CompareStateSchema = message(C, 'state', {
  runs: v.array(CompareRunSchema),
  /** Only the config fields whose values differ between the runs. */
  differences: v.array(CompareRowSchema),
  /** How many config fields are equal in every run (not shown). */
  sameCount: count,
  metrics: v.array(CompareRowSchema),
  /** The run folders shown, kept by the view's state so the panel can restore after a reload. */
  runDirs: v.optional(v.array(v.string())),
});
export type CompareState = v.InferOutput<typeof CompareStateSchema>;
export const parseCompareState = (raw: unknown): Parsed<CompareState> => parseMessage(CompareStateSchema, C, raw);

// compare view -> host
const shown = v.pipe(count, v.maxValue(9_999));
const CompareViewMessageSchema = v.variant('type', [
  message(C, 'ready', {}),
  /** After rendering: what the view shows (tests read it; it also tells the host the view works). */
  message(C, 'rendered', { runs: shown, charts: shown, differenceRows: shown, metricRows: shown }),
  message(C, 'open-dashboard', { run: shown }),
]);
export type CompareViewMessage = v.InferOutput<typeof CompareViewMessageSchema>;

/** Validates a message from the compare webview (untrusted input); `run` must be one of the `runCount` shown. */
export function parseCompareViewMessage(raw: unknown, runCount: number): Parsed<CompareViewMessage> {
  const parsed = parseMessage(CompareViewMessageSchema, C, raw);
  if (parsed.ok && parsed.value.type === 'open-dashboard' && parsed.value.run >= runCount) {
    return { ok: false, error: `'open-dashboard' message: run: ${parsed.value.run} is not one of the ${runCount} runs shown` };
  }
  return parsed;
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
  const labels = runLabels(compared.map((c) => c.record));
  return {
    type: 'state',
    protocol: COMPARE_PROTOCOL,
    runs: compared.map((c, i) => ({
      id: c.record.id,
      label: labels[i],
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

/**
 * "experiment · strategy" per run; where two runs share it (two runs of one experiment) the
 * start time is added, as the Experiments view shows it, then the run id's random tail, so
 * every column and legend entry names one run.
 */
export function runLabels(records: Pick<RunRecord, 'id' | 'experiment' | 'config' | 'timings'>[]): string[] {
  const base = records.map((r) => `${r.experiment.name} · ${r.config.strategy.kind}`);
  const clash = (labels: string[], i: number) => labels.filter((l) => l === labels[i]).length > 1;
  const dated = base.map((l, i) => (clash(base, i) && records[i].timings?.startedAt ? `${l} · ${shortDate(records[i].timings.startedAt)}` : l));
  return dated.map((l, i) => (clash(dated, i) ? `${l} · ${records[i].id.split('-').at(-1)}` : l));
}
