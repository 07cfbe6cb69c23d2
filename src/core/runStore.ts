// Writing a run folder (core/runFiles.ts has its layout): creating it, atomic rewrites of
// run.json, recovery of runs whose writer is gone, and deletion. Reading and listing runs
// (core/runReader.ts) and metrics.jsonl (core/metricsFile.ts) are re-exported from here,
// where the rest of the code has always found them. The writes the extension host makes
// (after a trainer stops, orphan recovery, deletion) have non-blocking twins (…Async) that
// share their checks and patches with the blocking ones the trainer and CLI use.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InputProblem, ResolvedExperiment, Validated } from './experiment';
import type { SkippedFile } from './datasetTypes';
import { RUN_FORMAT, RUN_FORMAT_VERSION, type DatasetSummary, type RunRecord } from './runRecord';
import { RUN_FILES } from './runFiles';
import { listRuns, readRun, readRunAsync, type RunEntry } from './runReader';
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
  const next = patched(readRun(dir), patch);
  writeJsonAtomic(path.join(dir, RUN_FILES.record), next);
  return next;
}

/** updateRun without blocking (the extension host): the same merge, atomic write and errors. */
export async function updateRunAsync(dir: string, patch: Partial<RunRecord>): Promise<RunRecord> {
  const next = patched(await readRunAsync(dir), patch);
  await writeJsonAtomicAsync(path.join(dir, RUN_FILES.record), next);
  return next;
}

function patched(current: Validated<RunRecord>, patch: Partial<RunRecord>): RunRecord {
  if (!current.ok) throw new Error(current.errors.map((e) => formatRunProblem(e)).join('\n'));
  return { ...current.value, ...patch, timings: { ...current.value.timings, ...patch.timings } };
}

/**
 * Writes JSON so a reader sees the old or the new file, never half of one: a temp file in
 * the same folder, fsync, rename over the target, then fsync the folder (where supported).
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  const dir = path.dirname(file);
  const tmp = tempFileFor(file);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeSync(fd, jsonText(value));
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

/** writeJsonAtomic without blocking (the extension host): the same steps, in the same order, with the same cleanup. */
export async function writeJsonAtomicAsync(file: string, value: unknown): Promise<void> {
  const tmp = tempFileFor(file);
  const handle = await fs.promises.open(tmp, 'wx');
  try {
    await handle.write(jsonText(value));
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  await fs.promises.rename(tmp, file).catch(async (e: unknown) => {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  });
  const folder = await fs.promises.open(path.dirname(file), 'r').catch(() => undefined);
  // As above: where a folder cannot be opened or fsynced, the rename stands.
  await folder
    ?.sync()
    .catch(() => undefined)
    .finally(() => folder.close().catch(() => undefined));
}

const tempFileFor = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`); // TEMP_FILE
const jsonText = (value: unknown) => JSON.stringify(value, null, 2) + '\n';

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
  for (const { dir, record } of entries.filter((e) => isOrphan(e.record, isAlive))) {
    const lastWrite = Math.max(
      ...WRITTEN_FILES.map((f) => {
        try {
          return fs.statSync(path.join(dir, f)).mtimeMs;
        } catch {
          return 0;
        }
      }),
    );
    updateRun(dir, orphanPatch(record, lastWrite));
    removeTempFiles(dir);
    marked.push(dir);
  }
  return marked;
}

/** markOrphanedEntries without blocking (the extension host): the same runs marked, the same writes. */
export async function markOrphanedEntriesAsync(entries: RunEntry[], isAlive: (pid: number) => boolean = isPidAlive): Promise<string[]> {
  const marked: string[] = [];
  for (const { dir, record } of entries.filter((e) => isOrphan(e.record, isAlive))) {
    const times = await Promise.all(
      WRITTEN_FILES.map((f) =>
        fs.promises.stat(path.join(dir, f)).then(
          (st) => st.mtimeMs,
          () => 0,
        ),
      ),
    );
    await updateRunAsync(dir, orphanPatch(record, Math.max(...times)));
    await removeTempFilesAsync(dir);
    marked.push(dir);
  }
  return marked;
}

/** The files whose last write is when an orphaned run ended. */
const WRITTEN_FILES = [RUN_FILES.record, RUN_FILES.metrics, RUN_FILES.log];

/** 'running' on this host (a pid from elsewhere means nothing here) with its writer gone. */
function isOrphan(record: RunRecord, isAlive: (pid: number) => boolean): boolean {
  if (record.status !== 'running') return false;
  if (record.host !== undefined && record.host !== os.hostname()) return false;
  return record.pid === undefined || !isAlive(record.pid);
}

/** An orphaned run ended at its last write (never before it started). */
const orphanPatch = (record: RunRecord, lastWrite: number): Partial<RunRecord> =>
  failedPatch(
    record,
    { message: ORPHANED_MESSAGE, hint: 'Metrics up to that point are kept in metrics.jsonl; run the experiment again to get a model.' },
    Math.max(lastWrite, Date.parse(record.timings.startedAt) || 0),
  );

/** A run marked failed with `failure`, ended at `ended` (ms). */
function failedPatch(record: RunRecord, failure: { message: string; hint?: string }, ended: number): Partial<RunRecord> {
  const started = Date.parse(record.timings.startedAt);
  return {
    status: 'failed',
    failure,
    timings: { startedAt: record.timings.startedAt, endedAt: new Date(ended).toISOString(), durationMs: started ? ended - started : undefined },
  };
}

/**
 * Deletes a run folder. Refuses (throws) for a folder that is not a run folder, so a wrong
 * path can never remove user files.
 */
export function deleteRun(dir: string): void {
  refuseUnlessRunFolder(dir, fs.existsSync(path.join(dir, RUN_FILES.record)));
  fs.rmSync(dir, { recursive: true, force: true });
}

/** deleteRun without blocking (the extension host): the same refusal, the same removal. */
export async function deleteRunAsync(dir: string): Promise<void> {
  const hasRecord = await fs.promises.access(path.join(dir, RUN_FILES.record)).then(
    () => true,
    () => false,
  );
  refuseUnlessRunFolder(dir, hasRecord);
  await fs.promises.rm(dir, { recursive: true, force: true });
}

function refuseUnlessRunFolder(dir: string, hasRecord: boolean): void {
  if (!hasRecord && !RUN_ID_PATTERN.test(path.basename(dir))) {
    throw new Error(`${dir} is not a run folder (no run.json, and not named like one); not deleting it`);
  }
}

/** Temp files of writeJsonAtomic (left behind only when a writer was killed mid-write). */
const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;

/** Exports in progress (exportModel.ts writes `.model.partial-<hex>/`, then renames it to model/). */
const PARTIAL_EXPORT = /^\.model\.partial-[0-9a-f]+$/;

/** Leftovers of atomic writes a killed writer never finished: never part of a valid run. */
function removeTempFiles(dir: string): void {
  for (const f of fs.readdirSync(dir)) {
    const leftover = leftoverKind(f);
    if (leftover) fs.rmSync(path.join(dir, f), { recursive: leftover === 'folder', force: true });
  }
}

async function removeTempFilesAsync(dir: string): Promise<void> {
  for (const f of await fs.promises.readdir(dir)) {
    const leftover = leftoverKind(f);
    if (leftover) await fs.promises.rm(path.join(dir, f), { recursive: leftover === 'folder', force: true });
  }
}

const leftoverKind = (name: string): 'file' | 'folder' | undefined => (TEMP_FILE.test(name) ? 'file' : PARTIAL_EXPORT.test(name) ? 'folder' : undefined);

/**
 * After the trainer writing `dir` has gone without finishing (crash, kill, out of memory):
 * a run still marked 'running' becomes 'failed' with the reason, the trainer's last stderr
 * lines go to its log, and half-written files are removed. Metrics, log and a complete
 * model/ are kept. A run that reached an end state is left as it is. Returns whether the run
 * was marked.
 */
export async function finalizeStoppedRunAsync(dir: string, failure: { message: string; hint?: string }, stderrTail?: string): Promise<boolean> {
  const record = await readRunAsync(dir);
  if (!record.ok || record.value.status !== 'running') return false;
  await updateRunAsync(dir, failedPatch(record.value, failure, Date.now()));
  if (stderrTail) await fs.promises.appendFile(path.join(dir, RUN_FILES.log), stderrSection(stderrTail));
  await removeTempFilesAsync(dir);
  return true;
}

const stderrSection = (tail: string) => `\n--- trainer stderr (last lines) ---\n${tail}\n`;

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
