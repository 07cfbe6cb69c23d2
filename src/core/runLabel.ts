// What the Experiments tree calls a run: its strategy and score ("fine-tune · 84.4% best val
// (epoch 7)"), its date as the description, instead of a truncated run id (which goes to the
// tooltip). One small function until the run summary every view shares lands (h-honest's
// runSummary.ts): then this should read from it, so the tree says what the dashboard says.
import type { RunRecord } from './runRecord';

const STRATEGY_WORDS: Record<string, string> = { 'feature-extraction': 'feature extraction', 'fine-tune': 'fine-tune', scratch: 'scratch' };

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
const two = (n: number) => String(n).padStart(2, '0');

/** "2026-12-03 14:05", local time; the ISO text itself when it is not a date. */
export function shortDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

export interface RunLabelInput {
  strategy?: string;
  status: string;
  metrics?: RunRecord['metrics'];
  /** A running run's latest epoch. */
  live?: { epoch: number; epochs: number; valAccuracy: number };
}

/** The label of a run's tree item: strategy, then the best validation accuracy (with its epoch), or where it stands. */
export function runLabel(r: RunLabelInput): string {
  const strategy = r.strategy ? (STRATEGY_WORDS[r.strategy] ?? r.strategy) : 'run';
  if (r.status === 'running') {
    if (!r.live) return `${strategy} · starting…`;
    const val = finite(r.live.valAccuracy) ? `, ${pct(r.live.valAccuracy)} val` : '';
    return `${strategy} · epoch ${r.live.epoch}/${r.live.epochs}${val}`;
  }
  const best = r.metrics?.bestValAccuracy;
  const epoch = r.metrics?.bestEpoch;
  const score = finite(best) ? `${pct(best)} best val${finite(epoch) ? ` (epoch ${epoch})` : ''}` : undefined;
  if (r.status === 'succeeded') return `${strategy} · ${score ?? 'no validation score'}`;
  return `${strategy} · ${r.status}${score ? ` · ${score}` : ''}`;
}
