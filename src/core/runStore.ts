// Writing a run folder (core/runFiles.ts has its layout): creating it, atomic rewrites of
// run.json, recovery of runs whose writer is gone, and deletion. Reading and listing runs
// (core/runReader.ts) and metrics.jsonl (core/metricsFile.ts) are re-exported from here,
// where the rest of the code has always found them.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InputProblem, ResolvedExperiment } from './experiment';
import type { SkippedFile } from './datasetTypes';
import { RUN_FORMAT, RUN_FORMAT_VERSION, type DatasetSummary, type RunRecord } from './runRecord';
import { RUN_FILES } from './runFiles';
import { listRuns, readRun, type RunEntry } from './runReader';
export { RUN_FORMAT, RUN_FORMAT_VERSION } from './runRecord';
export type { DatasetSummary, MetricRecord, RunFailure, RunRecord, RunTimings } from './runRecord';
export { DEFAULT_RUNS_FOLDER, RUN_FILES } from './runFiles';
export { listRuns, listRunsAsync, readRun, readRunAsync, type RunEntry, type RunListing } from './runReader';
export { appendMetrics, readMetrics, readMetricsAsync, type MetricsRead } from './metricsFile';

export type { RunStatus } from './runEvents';

export const ORPHANED_MESSAGE = 'the trainer stopped without finishing (editor reloaded or process killed)';

export interface CreateRunExtra {
  backend: string;
  /** Default: this process. */
  pid?: number;
  dataset?: DatasetSummary;
  skipped?: SkippedFile[];
  /** Default: now. */
  startedAt?: Date;
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/** Creates `<runsDir>/<yyyyMMdd-HHmmss>-<slug>-<hex>/` with run.json (status 'running'). */
export function createRun(runsDir: string, experiment: ResolvedExperiment, extra: CreateRunExtra): { id: string; dir: string; record: RunRecord } {
  const started = extra.startedAt ?? new Date();
  fs.mkdirSync(runsDir, { recursive: true });
  removeStaleDrafts(runsDir);
  // The folder appears complete or not at all: it is filled under a hidden name (listRuns
  // skips dot-folders) and renamed, so a trainer killed here leaves no half-made run.
  const draft = fs.mkdtempSync(path.join(runsDir, DRAFT_PREFIX));
  const record: RunRecord = {
    format: RUN_FORMAT,
    version: RUN_FORMAT_VERSION,
    id: '',
    experiment: { name: experiment.name, file: experiment.file },
    status: 'running',
    config: experiment,
    backend: extra.backend,
    skipped: extra.skipped ?? [],
    timings: { startedAt: started.toISOString() },
    metrics: {},
    pid: extra.pid ?? process.pid,
    host: os.hostname(),
  };
  if (extra.dataset) record.dataset = extra.dataset;
  fs.writeFileSync(path.join(draft, RUN_FILES.metrics), '');
  for (let attempt = 0; attempt <= 50; attempt++) {
    const id = `${timestamp(started)}-${slugify(experiment.name)}-${crypto.randomBytes(2).toString('hex')}`;
    const dir = path.join(runsDir, id);
    // rename would replace an existing empty folder: take the name only if nothing has it.
    if (fs.existsSync(dir)) continue;
    record.id = id;
    writeJsonAtomic(path.join(draft, RUN_FILES.record), record);
    try {
      fs.renameSync(draft, dir);
      return { id, dir, record };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e; // another run took it meanwhile
    }
  }
  throw new Error(`cannot find a free run folder name in ${runsDir}`);
}

const DRAFT_PREFIX = '.creating-';

/** Drafts left by a trainer killed while creating its run folder (an hour old: not in use). */
function removeStaleDrafts(runsDir: string): void {
  try {
    for (const name of fs.readdirSync(runsDir)) {
      if (!name.startsWith(DRAFT_PREFIX)) continue;
      const draft = path.join(runsDir, name);
      if (Date.now() - fs.statSync(draft).mtimeMs > 3_600_000) fs.rmSync(draft, { recursive: true, force: true });
    }
  } catch {
    // best effort: a draft that cannot be removed is hidden anyway
  }
}

/**
 * Read-modify-write of run.json: top-level fields of `patch` replace the record's, except
 * `timings`, which is merged (so phase timings accumulate). Atomic; returns the new record.
 * Throws when run.json cannot be read (the writer's own folder is broken: a bug or a disk fault).
 */
export function updateRun(dir: string, patch: Partial<RunRecord>): RunRecord {
  const current = readRun(dir);
  if (!current.ok) throw new Error(current.errors.map((e) => formatRunProblem(e)).join('\n'));
  const next: RunRecord = { ...current.value, ...patch, timings: { ...current.value.timings, ...patch.timings } };
  writeJsonAtomic(path.join(dir, RUN_FILES.record), next);
  return next;
}

/**
 * Writes JSON so a reader sees the old or the new file, never half of one: a temp file in
 * the same folder, fsync, rename over the target, then fsync the folder (where supported).
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`); // TEMP_FILE
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 2) + '\n');
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Folders cannot be opened or fsynced on some platforms (Windows); the rename stands.
  }
}

// ---------------------------------------------------------------------------------------
// Recovery and removal
// ---------------------------------------------------------------------------------------

/** Whether a process with this pid exists on this machine (EPERM: it exists, not ours). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Marks 'running' runs whose writer is gone as 'failed' (after a window reload or a killed
 * trainer), so no run shows as running forever. Runs recorded on another host are left
 * alone (their pid means nothing here). The end time is the last write in the folder.
 * Returns the folders it marked.
 */
export function markOrphanedRuns(runsDir: string, isAlive: (pid: number) => boolean = isPidAlive): string[] {
  return markOrphanedEntries(listRuns(runsDir).runs, isAlive);
}

/** markOrphanedRuns on runs already read (the extension reads them without blocking); only orphans are touched. */
export function markOrphanedEntries(entries: RunEntry[], isAlive: (pid: number) => boolean = isPidAlive): string[] {
  const marked: string[] = [];
  const host = os.hostname();
  for (const { dir, record } of entries) {
    if (record.status !== 'running') continue;
    if (record.host !== undefined && record.host !== host) continue;
    if (record.pid !== undefined && isAlive(record.pid)) continue;
    const lastWrite = Math.max(
      ...[RUN_FILES.record, RUN_FILES.metrics, RUN_FILES.log].map((f) => {
        try {
          return fs.statSync(path.join(dir, f)).mtimeMs;
        } catch {
          return 0;
        }
      }),
    );
    const started = Date.parse(record.timings.startedAt);
    const ended = Math.max(lastWrite, started || 0);
    updateRun(dir, {
      status: 'failed',
      failure: { message: ORPHANED_MESSAGE, hint: 'Metrics up to that point are kept in metrics.jsonl; run the experiment again to get a model.' },
      timings: { startedAt: record.timings.startedAt, endedAt: new Date(ended).toISOString(), durationMs: started ? ended - started : undefined },
    });
    removeTempFiles(dir);
    marked.push(dir);
  }
  return marked;
}

/**
 * Deletes a run folder. Refuses (throws) for a folder that is not a run folder, so a wrong
 * path can never remove user files.
 */
export function deleteRun(dir: string): void {
  const hasRecord = fs.existsSync(path.join(dir, RUN_FILES.record));
  if (!hasRecord && !RUN_ID_PATTERN.test(path.basename(dir))) {
    throw new Error(`${dir} is not a run folder (no run.json, and not named like one); not deleting it`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Temp files of writeJsonAtomic (left behind only when a writer was killed mid-write). */
const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/** Exports in progress (exportModel.ts writes `.model.partial-<hex>/`, then renames it to model/). */
const PARTIAL_EXPORT = /^\.model\.partial-[0-9a-f]+$/;

/** Leftovers of atomic writes a killed writer never finished: never part of a valid run. */
function removeTempFiles(dir: string): void {
  for (const f of fs.readdirSync(dir)) {
    if (TEMP_FILE.test(f)) fs.rmSync(path.join(dir, f), { force: true });
    else if (PARTIAL_EXPORT.test(f)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
  }
}

/**
 * After the trainer writing `dir` has gone without finishing (crash, kill, out of memory):
 * a run still marked 'running' becomes 'failed' with the reason, the trainer's last stderr
 * lines go to its log, and half-written files are removed. Metrics, log and a complete
 * model/ are kept. A run that reached an end state is left as it is. Returns whether the run
 * was marked.
 */
export function finalizeStoppedRun(dir: string, failure: { message: string; hint?: string }, stderrTail?: string): boolean {
  const record = readRun(dir);
  if (!record.ok || record.value.status !== 'running') return false;
  const started = Date.parse(record.value.timings.startedAt);
  const ended = Date.now();
  updateRun(dir, {
    status: 'failed',
    failure,
    timings: { startedAt: record.value.timings.startedAt, endedAt: new Date(ended).toISOString(), durationMs: started ? ended - started : undefined },
  });
  if (stderrTail) fs.appendFileSync(path.join(dir, RUN_FILES.log), `\n--- trainer stderr (last lines) ---\n${stderrTail}\n`);
  removeTempFiles(dir);
  return true;
}

/** `<yyyyMMdd-HHmmss>-<slug>-<4 hex>` */
export const RUN_ID_PATTERN = /^\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{4}$/;

/** Lowercase ASCII letters, digits and single dashes, at most 40 characters; 'experiment' if nothing is left. */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug || 'experiment';
}

/** Local time as yyyyMMdd-HHmmss. */
function timestamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function formatRunProblem(p: InputProblem): string {
  return `${p.file ?? ''}: ${p.path ? `${p.path}: ` : ''}${p.message}${p.hint ? ` ${p.hint}` : ''}`;
}
