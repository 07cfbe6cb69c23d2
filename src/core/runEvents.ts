// Events a run streams while it goes (trainer -> extension over IPC; CLI --json prints one
// per line). The same records, minus the transient ones, end up in the run folder.
import type { EvaluationReport } from './metrics';

export type RunPhase = 'indexing' | 'loading-backbone' | 'featurizing' | 'training' | 'evaluating' | 'exporting';

export type RunEvent =
  | {
      type: 'run-started';
      runDir: string;
      runId: string;
      experiment: string;
      backend: string;
      classes: string[];
      counts: { train: number; val: number; test: number };
      epochs: number;
    }
  | { type: 'phase'; phase: RunPhase; message: string; done?: number; total?: number }
  | { type: 'warning'; message: string }
  | {
      type: 'batch';
      epoch: number;
      batch: number;
      batches: number;
      step: number;
      loss: number;
      accuracy: number;
      learningRate: number;
      imagesPerSec: number;
    }
  | {
      type: 'epoch';
      epoch: number;
      epochs: number;
      loss: number;
      accuracy: number;
      valLoss: number;
      valAccuracy: number;
      learningRate: number;
      seconds: number;
      imagesPerSec: number;
      baseTrainable: boolean;
      /** Estimated seconds left at this pace. */
      etaSeconds: number;
    }
  | { type: 'checkpoint'; epoch: number; metric: string; value: number }
  | { type: 'evaluation'; report: EvaluationReport }
  | { type: 'finished'; status: 'succeeded'; metrics: Record<string, number>; durationMs: number }
  | { type: 'finished'; status: 'failed'; message: string; hint?: string; durationMs: number }
  | { type: 'finished'; status: 'cancelled'; durationMs: number };

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** Throttle for batch events: at most a few per second reach the UI. */
export const BATCH_EVENT_INTERVAL_MS = 250;
