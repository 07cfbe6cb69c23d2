// The run folder's layout: the one definition of what a run leaves on disk. Written by the
// trainer (and the CLI), read by the extension's tree, dashboard and RunManager.
//
//   <runsDir>/<yyyyMMdd-HHmmss>-<experiment-slug>-<4 hex>/
//     run.json      RunRecord, rewritten atomically (temp file + fsync + rename)
//     metrics.jsonl one MetricRecord per line, appended; a torn last line is tolerated
//     eval.json     the evaluation report (core/metrics.ts), written atomically
//     model/        the exported model; only usable when run.json says 'succeeded'
//     log.txt       human-readable log
//
// Readers report what they cannot read, never throw: the helpers below turn a thrown error
// into a value, so the sync and async variants of a reader share one parser.
import * as fs from 'node:fs';

/** Default runs folder, relative to the workspace folder (setting transferLab.runsFolder). */
export const DEFAULT_RUNS_FOLDER = '.transferlab/runs';

export const RUN_FILES = {
  record: 'run.json',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  model: 'model',
  log: 'log.txt',
} as const;

/** What a read gave, or what it threw. */
export type Outcome<T> = { value: T } | { error: unknown };

export function outcomeOf<T>(read: () => T): Outcome<T> {
  try {
    return { value: read() };
  } catch (error) {
    return { error };
  }
}

export async function outcomeOfAsync<T>(read: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { value: await read() };
  } catch (error) {
    return { error };
  }
}

export const readTextSync = (file: string): Outcome<string> => outcomeOf(() => fs.readFileSync(file, 'utf8'));
export const readText = (file: string): Promise<Outcome<string>> => outcomeOfAsync(() => fs.promises.readFile(file, 'utf8'));

/** The error code of a failed read ('ENOENT', ...), else the error itself. */
export const errorCode = (e: unknown): unknown => (e as NodeJS.ErrnoException).code ?? e;
