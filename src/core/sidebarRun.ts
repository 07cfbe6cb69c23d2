// Which run the sidebar Dashboard follows, and what it says about it: pure functions, so the
// choice and the labels are unit-tested without VS Code (the host wiring: extension/sidebarRunFollower.ts).
import { decimate, type CurvePoint } from './dashboardMessages';
import type { MetricRecord, RunRecord } from './runRecord';
import type { DashboardViewRun, EpochValue, SidebarCurves } from './dashboardViewMessages';
import type { RunStatus } from './runEvents';
import { lastAndBest, summarizeRun, summaryLabels } from './runSummary';

/** Points per mini curve in one message: the sidebar is narrow, more would not show. */
export const MINI_POINTS = 200;

export interface FollowCandidates {
  /** Live runs that have named their folder. */
  running: { runDir: string; startedAt: number; status: RunStatus }[];
  /** The run followed while it ran: it stays shown after it ends, until a run starts or the selection changes. */
  kept?: string;
  /** The run selected in the Experiments tree. */
  selected?: string;
  /** The newest run in the index. */
  latest?: string;
}

/** The running run (the most recently started), else the one kept after it ended, else the selected, else the latest. */
export function chooseFollowedRun(c: FollowCandidates): string | undefined {
  const running = c.running.filter((r) => r.status === 'running').sort((a, b) => b.startedAt - a.startedAt);
  return running[0]?.runDir ?? c.kept ?? c.selected ?? c.latest;
}

/** The newest run by start time (the index lists each runs folder newest first, not all of them together). */
export function latestRun<T extends { dir: string; record: Pick<RunRecord, 'timings'> }>(entries: readonly T[]): T | undefined {
  const time = (e: T) => Date.parse(e.record.timings.startedAt) || 0;
  return entries.reduce<T | undefined>((best, e) => (!best || time(e) > time(best) ? e : best), undefined);
}

export const emptySidebarCurves = (): SidebarCurves => ({ epochLoss: [], epochAccuracy: [], valLoss: [], valAccuracy: [] });

/** The mini curves from metrics.jsonl: per epoch, x = the epoch number. */
export function sidebarCurvesFrom(records: readonly MetricRecord[]): SidebarCurves {
  const curves = emptySidebarCurves();
  for (const m of records) {
    if (m.kind !== 'epoch') continue;
    const x = m.epoch;
    curves.epochLoss.push({ x, y: m.loss });
    if (m.accuracy !== undefined) curves.epochAccuracy.push({ x, y: m.accuracy });
    if (m.val_loss !== undefined) curves.valLoss.push({ x, y: m.val_loss });
    if (m.val_accuracy !== undefined) curves.valAccuracy.push({ x, y: m.val_accuracy });
  }
  return curves;
}

/** The last and the best (first epoch to reach the maximum) validation accuracy of a curve. */
export function valAccuracySummary(curve: readonly CurvePoint[]): { last?: EpochValue; best?: EpochValue } {
  return lastAndBest(curve);
}

/** What the views know about a live run (structurally extension/runManager.ts's LiveRun). */
export interface LiveFacts {
  experimentFile: string;
  runId?: string;
  status: RunStatus;
  phase?: string;
  backend?: string;
  epochs?: number;
  lastEpoch?: { epoch: number; epochs: number };
  message?: string;
}

export interface SidebarRunInput {
  runDir: string;
  record?: RunRecord;
  live?: LiveFacts;
  curves: SidebarCurves;
}

const baseName = (p: string) => p.split(/[\\/]/).filter(Boolean).at(-1) ?? p;

/** The run section of the sidebar state: live facts first, run.json for what they cannot say. */
export function buildSidebarRun({ runDir, record: r, live, curves }: SidebarRunInput): DashboardViewRun {
  const summary = summarizeRun({ record: r, valAccuracy: curves.valAccuracy, live });
  const { status, last, best } = summary;
  const lastCurveEpoch = curves.epochLoss.at(-1)?.x;
  const failure = r?.failure ? `${r.failure.message}${r.failure.hint ? ` ${r.failure.hint}` : ''}` : undefined;
  const mini = (c: CurvePoint[]) => decimate(c, MINI_POINTS);
  return {
    runDir,
    id: r?.id ?? live?.runId ?? baseName(runDir),
    experiment: r?.experiment.name ?? (live ? baseName(live.experimentFile).replace(/\.tlexp\.json$/, '') : ''),
    status,
    backend: live?.backend ?? r?.backend ?? '',
    epoch: live?.lastEpoch?.epoch ?? lastCurveEpoch,
    epochs: live?.lastEpoch?.epochs ?? live?.epochs ?? r?.config.train.epochs,
    valAccuracy: last?.value,
    lastValAccuracy: last,
    bestValAccuracy: best,
    // Test accuracy exists only once the run has been evaluated.
    testAccuracy: summary.evaluation?.value,
    accuracy: summaryLabels(summary),
    message: live?.message ?? (live?.status === 'running' ? live.phase : undefined) ?? failure,
    curves: {
      epochLoss: mini(curves.epochLoss),
      epochAccuracy: mini(curves.epochAccuracy),
      valLoss: mini(curves.valLoss),
      valAccuracy: mini(curves.valAccuracy),
    },
  };
}
