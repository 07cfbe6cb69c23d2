// What the sections of `npm run bench` (bench/suite.ts) share: where things are, the
// environment every measurement runs in, running one job in its own process, and the rows
// they add to the table.
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OneDnnChoice } from '../src/core/protocol';
import type { JobResult } from './zoo';

export const root = path.resolve(__dirname, '../..');
export const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab', 'bench');
export const worker = path.join(root, 'out', 'bench', 'worker.js');
export const zooWorker = path.join(root, 'out', 'bench', 'zooWorker.js');
export const kerasScript = path.join(root, 'bench', 'keras_bench.py');
// Both sides use the same kernels: decided here, not by each process's own default.
export const env = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS || '1' };

export const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** The median, or undefined when nothing was measured. */
export const medianOrNone = (xs: number[]) => (xs.length ? median(xs) : undefined);

function lastJson(stdout: string): Record<string, unknown> {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) throw new Error('no JSON result');
  return JSON.parse(line);
}

/** Runs one job in its own process; wall time measured here, result parsed from its last JSON line. */
export function runJob(cmd: string, args: string[], timeoutMs = 1_800_000, extraEnv: Record<string, string> = {}): JobResult {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  const wallMs = performance.now() - t0;
  if (r.status !== 0)
    return {
      ok: false,
      error: `${path.basename(cmd)} ${r.signal ?? `exit ${r.status}`}: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`,
    };
  try {
    return { ok: true, value: lastJson(r.stdout), wallMs };
  } catch (e) {
    return { ok: false, error: `${(e as Error).message}: ${r.stdout.slice(-300)}` };
  }
}

export interface Row {
  workload: string;
  config: string;
  ours?: number;
  keras?: number;
  unit: string;
  /** For the ratio: higher is better (img/s) or lower is better (seconds, bytes). */
  higherIsBetter: boolean;
  target?: { ratio: number; text: string };
  note?: string;
}
export const ratioOf = (r: Row) => (r.ours === undefined || r.keras === undefined ? undefined : r.higherIsBetter ? r.ours / r.keras : r.keras / r.ours);

/** One bench run: its settings, how to run each side's jobs, and what the sections have measured so far. */
export interface Bench {
  quick: boolean;
  reps: number;
  /** A job of bench/worker.ts in its own process. */
  tfjs(job: object, extraEnv?: Record<string, string>): JobResult;
  /** A job of bench/keras_bench.py in its own process (a failed result without Keras). */
  py(job: object, extraEnv?: Record<string, string>): JobResult;
  /** The trainer's oneDNN decision for MobileNetV2 on a CPU that hides its cache sizes. */
  policyOneDnn: OneDnnChoice;
  /** The table's rows, in order. */
  rows: Row[];
  /** The raw samples, for the JSON file. */
  results: Record<string, unknown>[];
}
