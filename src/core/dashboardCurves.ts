// The Dashboard's curves from a run's metrics.jsonl, on the epoch axis the charts draw: a
// batch at its fraction of its epoch (epoch 3, batch 5 of 10 at 2.5), an epoch at its number.
// The live events (dashboardPanel.ts) place their points with the same batchX.
import type { MetricRecord } from './runRecord';
import { emptyCurves, type DashboardCurves } from './dashboardMessages';
import { sidebarCurvesFrom } from './sidebarRun';

/** Where batch `batch` (1-based) of `batches` in epoch `epoch` (1-based) sits on the epoch axis. */
export function batchX(epoch: number, batch: number, batches: number): number {
  return epoch - 1 + batch / Math.max(1, batches, batch);
}

/** The base's rate as its own curve only where it differs from the head's (fine-tune with a baseLearningRate); one line otherwise. */
export function ownBaseRate(head: number | undefined, base: number | undefined): number | undefined {
  return base !== undefined && base !== head ? base : undefined;
}

/**
 * Every curve of a run's records. metrics.jsonl does not say how many batches an epoch has:
 * every batch is written, so the most seen in any one epoch is the count (an epoch cut short by
 * Stop has fewer, a first epoch still running too: the run's largest is the best estimate).
 */
export function historyCurves(records: readonly MetricRecord[]): DashboardCurves {
  // The per-epoch curves are the sidebar's (x = the epoch number); the batches are added here.
  const curves: DashboardCurves = { ...emptyCurves(), ...sidebarCurvesFrom(records) };
  let batches = 1;
  for (const m of records) if (m.kind === 'batch') batches = Math.max(batches, m.batch ?? 1);
  for (const m of records) {
    if (m.kind !== 'batch') continue;
    const x = batchX(m.epoch, m.batch ?? batches, batches);
    curves.batchLoss.push({ x, y: m.loss });
    if (m.accuracy !== undefined) curves.batchAccuracy.push({ x, y: m.accuracy });
    if (m.lr !== undefined) curves.learningRate.push({ x, y: m.lr });
    const base = ownBaseRate(m.lr, m.baseLr);
    if (base !== undefined) curves.baseLearningRate.push({ x, y: base });
  }
  return curves;
}
