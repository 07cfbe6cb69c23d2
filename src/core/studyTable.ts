// A study's summary as the text table the CLI and the demo print: per strategy and data size,
// test accuracy mean ± spread over seeds (and the range), epochs to the target, training time.
import type { StudyFile, StudySummaryRow } from './studyFile';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function cells(row: StudySummaryRow, seeds: number): string[] {
  return [
    row.strategy,
    row.perClass === 'all' ? 'all' : String(row.perClass),
    row.n === seeds ? String(row.n) : `${row.n} of ${seeds}`,
    `${pct(row.meanTestAccuracy)} ± ${(row.stdTestAccuracy * 100).toFixed(1)}`,
    `${pct(row.minTestAccuracy)}-${pct(row.maxTestAccuracy)}`,
    row.meanEpochsToTarget === null ? 'never' : `${row.meanEpochsToTarget.toFixed(1)}${row.reachedTarget < row.n ? ` (${row.reachedTarget} of ${row.n})` : ''}`,
    `${row.meanTrainSeconds.toFixed(2)} s`,
  ];
}

/** The table's lines (header, rule, one line per row, a blank line between strategies), then the sentence. */
export function formatStudyTable(study: Pick<StudyFile, 'summary' | 'target' | 'grid'>): string[] {
  const summary = study.summary;
  if (!summary) return ['No cell has completed yet.'];
  const header = ['strategy', 'per class', 'seeds', 'test acc (mean ± sd)', 'range', `epochs to ${Math.round(study.target * 100)}% val`, 'train time'];
  const body = summary.rows.map((r) => cells(r, study.grid.seeds.length));
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((l) => l[c].length)));
  const line = (l: string[]) =>
    l
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  summary.rows.forEach((r, i) => {
    if (i > 0 && summary.rows[i - 1].strategy !== r.strategy) out.push('');
    out.push(line(body[i]));
  });
  out.push('', summary.sentence);
  return out;
}
