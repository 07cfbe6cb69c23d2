// What the Experiments tree calls a run: its strategy and score ("fine-tune · 84.4% best
// (epoch 7) · test 82.0%"), its date as the description, instead of a truncated run id (which
// goes to the tooltip). The numbers and their words come from runSummary.ts, so the tree says
// what the dashboard, sidebar, CodeLens and status bar say.
import { percent, summaryLabels, summaryLine, type RunSummary } from './runSummary';

const STRATEGY_WORDS: Record<string, string> = { 'feature-extraction': 'feature extraction', 'fine-tune': 'fine-tune', scratch: 'scratch' };

const two = (n: number) => String(n).padStart(2, '0');

/** "2026-12-03 14:05", local time; the ISO text itself when it is not a date. */
export function shortDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** The label of a run's tree item: strategy, then where it stands, in the words of the status bar and CodeLens (summaryLine). */
export function runLabel(strategyKind: string | undefined, s: RunSummary): string {
  const strategy = strategyKind ? (STRATEGY_WORDS[strategyKind] ?? strategyKind) : 'run';
  const labels = summaryLabels(s);
  if (s.status === 'running') {
    // No epoch done yet (the total alone would read "epoch 0/10").
    if (s.epoch === undefined) return `${strategy} · starting…`;
    // The status bar's first words ("epoch 3/10 · val 62.5%"); its "last (epoch 3)" repeats the progress in a tree row.
    return [strategy, labels.progress, s.last && `val ${percent(s.last.value)}`].filter(Boolean).join(' · ');
  }
  const score = summaryLine(s);
  if (s.status === 'succeeded') return `${strategy} · ${score || 'no validation score'}`;
  return [strategy, s.status, score].filter(Boolean).join(' · ');
}
