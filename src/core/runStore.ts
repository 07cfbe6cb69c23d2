// The run folder: the one definition of what a run leaves on disk. Written by the trainer
// (and the CLI), read by the extension's tree, dashboard and RunManager.
//
//   <runsDir>/<yyyyMMdd-HHmmss>-<experiment-slug>-<4 hex>/
//     run.json      RunRecord, rewritten atomically (temp file + fsync + rename)
//     metrics.jsonl one MetricRecord per line, appended; a torn last line is tolerated
//     eval.json     the evaluation report (core/metrics.ts), written atomically
//     model/        the exported model; only usable when run.json says 'succeeded'
//     log.txt       human-readable log
//
// A run.json that cannot be read is reported (naming the file), never thrown.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InputProblem, ResolvedExperiment, Validated } from './experiment';
import type { SkippedFile } from './datasetTypes';
import { RUN_FORMAT, RUN_FORMAT_VERSION, type DatasetSummary, type MetricRecord, type RunRecord } from './runRecord';
export { RUN_FORMAT, RUN_FORMAT_VERSION } from './runRecord';
export type { DatasetSummary, MetricRecord, RunFailure, RunRecord, RunTimings } from './runRecord';

export type { RunStatus } from './runEvents';

/** Bumped when a reader of the old format would misread the new one. */
/** Default runs folder, relative to the workspace folder (setting transferLab.runsFolder). */
export const DEFAULT_RUNS_FOLDER = '.transferlab/runs';

export const RUN_FILES = {
  record: 'run.json',
  metrics: 'metrics.jsonl',
  eval: 'eval.json',
  model: 'model',
  log: 'log.txt',
} as const;

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

export interface RunEntry {
  dir: string;
  record: RunRecord;
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
 * Appends metric records, one JSON object per line, and fsyncs. When the file ends in a
 * torn line (a crash mid-write), a newline is written first so the new lines stay whole.
 */
export function appendMetrics(dir: string, records: MetricRecord[]): void {
  if (records.length === 0) return;
  const file = path.join(dir, RUN_FILES.metrics);
  const fd = fs.openSync(file, 'a+');
  try {
    const size = fs.fstatSync(fd).size;
    let prefix = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = '\n';
    }
    fs.writeSync(fd, prefix + records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
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
// Reading
// ---------------------------------------------------------------------------------------

/** Reads and checks run.json. Never throws: a missing or corrupt file is an error naming it. */
export function readRun(dir: string): Validated<RunRecord> {
  const file = path.join(dir, RUN_FILES.record);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return unreadableRun(file, e);
  }
  return parseRunRecord(file, text);
}

/** readRun without blocking: for the extension host, which must never wait on the disk. */
export async function readRunAsync(dir: string): Promise<Validated<RunRecord>> {
  const file = path.join(dir, RUN_FILES.record);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    return unreadableRun(file, e);
  }
  return parseRunRecord(file, text);
}

const runProblem = (
  file: string,
  at: string,
  message: string,
  hint = 'The run folder is damaged; delete it, or fix run.json by hand.',
): Validated<RunRecord> => ({
  ok: false,
  errors: [{ file, path: at, message, hint }],
});

function unreadableRun(file: string, e: unknown): Validated<RunRecord> {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? runProblem(file, '', 'missing: this folder is not a run folder, or its run was interrupted while being created', 'Delete the folder if it is not needed.')
    : runProblem(file, '', `cannot be read (${code ?? e})`, 'Check the file permissions.');
}

/** Checks the text of a run.json (the format, its version, each field's type). */
function parseRunRecord(file: string, text: string): Validated<RunRecord> {
  const problem = (at: string, message: string, hint?: string) => runProblem(file, at, message, hint);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return problem('', `is not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(raw)) return problem('', 'must hold a JSON object');
  if (raw.format !== RUN_FORMAT) return problem('format', `is ${JSON.stringify(raw.format)}, expected "${RUN_FORMAT}": not a Transfer Lab run record`);
  if (typeof raw.version !== 'number') return problem('version', 'is missing');
  if (raw.version > RUN_FORMAT_VERSION) {
    return problem(
      'version',
      `is ${raw.version}, written by a newer Transfer Lab (this one reads up to ${RUN_FORMAT_VERSION})`,
      'Update Transfer Lab to open this run.',
    );
  }
  const checks: [string, boolean, string][] = [
    ['id', typeof raw.id === 'string', 'a string'],
    [
      'experiment',
      isRecord(raw.experiment) && typeof raw.experiment.name === 'string' && typeof raw.experiment.file === 'string',
      'an object with name and file',
    ],
    ['status', ['running', 'succeeded', 'failed', 'cancelled'].includes(raw.status as string), 'one of running, succeeded, failed, cancelled'],
    ['config', isRecord(raw.config) && typeof raw.config.name === 'string', 'the resolved experiment (an object)'],
    ['backend', typeof raw.backend === 'string', 'a string'],
    [
      'skipped',
      Array.isArray(raw.skipped) && raw.skipped.every((s) => isRecord(s) && typeof s.path === 'string' && typeof s.reason === 'string'),
      'a list of { path, reason }',
    ],
    ['timings', isRecord(raw.timings) && typeof raw.timings.startedAt === 'string', 'an object with startedAt'],
    ['metrics', isRecord(raw.metrics) && Object.values(raw.metrics).every((v) => typeof v === 'number' || v === null), 'an object of numbers'],
    ['failure', raw.failure === undefined || (isRecord(raw.failure) && typeof raw.failure.message === 'string'), 'an object with a message'],
    ['pid', raw.pid === undefined || (typeof raw.pid === 'number' && Number.isInteger(raw.pid)), 'a whole number'],
    [
      'dataset',
      raw.dataset === undefined || (isRecord(raw.dataset) && Array.isArray(raw.dataset.classes) && isRecord(raw.dataset.counts)),
      'an object with classes and counts',
    ],
  ];
  for (const [key, ok, expected] of checks) if (!ok) return problem(key, `must be ${expected}, got ${JSON.stringify(raw[key]) ?? 'nothing'}`);
  const metrics = raw.metrics as Record<string, number | null>;
  for (const k of Object.keys(metrics)) if (metrics[k] === null) metrics[k] = NaN;
  return { ok: true, value: raw as unknown as RunRecord, warnings: [] };
}

/** Metric records in file order; a torn or corrupt line is skipped and reported. */
export type MetricsRead = { records: MetricRecord[]; problems: InputProblem[] };

export function readMetrics(dir: string): MetricsRead {
  const file = path.join(dir, RUN_FILES.metrics);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return unreadableMetrics(file, e);
  }
  return parseMetrics(file, text);
}

/** readMetrics without blocking: for the extension host. */
export async function readMetricsAsync(dir: string): Promise<MetricsRead> {
  const file = path.join(dir, RUN_FILES.metrics);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    return unreadableMetrics(file, e);
  }
  return parseMetrics(file, text);
}

function unreadableMetrics(file: string, e: unknown): MetricsRead {
  const code = (e as NodeJS.ErrnoException).code;
  return { records: [], problems: code === 'ENOENT' ? [] : [{ file, path: '', message: `cannot be read (${code ?? e})` }] };
}

function parseMetrics(file: string, text: string): MetricsRead {
  const records: MetricRecord[] = [];
  const problems: InputProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((line, n) => {
    if (line.trim() === '') return;
    const isLast = n === lines.length - 1; // no newline after it: possibly torn by a crash
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      problems.push({
        file,
        path: '',
        line: n + 1,
        message: isLast ? 'the last line is incomplete (the run stopped while writing it); it is ignored' : 'a line is not valid JSON; it is ignored',
      });
      return;
    }
    const record = toMetricRecord(raw);
    if (record) records.push(record);
    else problems.push({ file, path: '', line: n + 1, message: 'a line is not a metric record ({ kind, epoch, step, loss, time }); it is ignored' });
  });
  return { records, problems };
}

function toMetricRecord(raw: unknown): MetricRecord | undefined {
  if (!isRecord(raw) || (raw.kind !== 'batch' && raw.kind !== 'epoch')) return undefined;
  const num = (v: unknown) => typeof v === 'number' || v === null; // null: NaN/Infinity written by JSON.stringify
  if (typeof raw.epoch !== 'number' || typeof raw.step !== 'number' || typeof raw.time !== 'number' || !num(raw.loss)) return undefined;
  for (const k of ['batch', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'imagesPerSec']) if (raw[k] !== undefined && !num(raw[k])) return undefined;
  const out = { ...raw } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === null) out[k] = NaN;
  return out as unknown as MetricRecord;
}

/**
 * Every run under `runsDir`, newest first (by startedAt, then folder name). Folders
 * without a readable run.json are listed in `problems`. A missing runsDir is empty.
 */
export type RunListing = { runs: RunEntry[]; problems: { dir: string; errors: InputProblem[] }[] };

export function listRuns(runsDir: string): RunListing {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch (e) {
    return unlistable(runsDir, e);
  }
  return sortedListing(runDirs(runsDir, entries).map((dir) => [dir, readRun(dir)] as const));
}

/** listRuns without blocking (the extension host): reads run.json files a few at a time. */
export async function listRunsAsync(runsDir: string): Promise<RunListing> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(runsDir, { withFileTypes: true });
  } catch (e) {
    return unlistable(runsDir, e);
  }
  const dirs = runDirs(runsDir, entries);
  const reads: (readonly [string, Validated<RunRecord>])[] = [];
  // 8 at a time: parallel reads, and no more than 8 records parsed between two turns of the event loop.
  for (let i = 0; i < dirs.length; i += 8) {
    reads.push(...(await Promise.all(dirs.slice(i, i + 8).map(async (dir) => [dir, await readRunAsync(dir)] as const))));
  }
  return sortedListing(reads);
}

function unlistable(runsDir: string, e: unknown): RunListing {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { runs: [], problems: [] };
  return { runs: [], problems: [{ dir: runsDir, errors: [{ file: runsDir, path: '', message: `cannot list the runs folder (${code ?? e})` }] }] };
}

function runDirs(runsDir: string, entries: fs.Dirent[]): string[] {
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => path.join(runsDir, e.name));
}

/** Newest first (by start time, then folder name). */
function sortedListing(reads: readonly (readonly [string, Validated<RunRecord>])[]): RunListing {
  const runs: RunEntry[] = [];
  const problems: RunListing['problems'] = [];
  for (const [dir, read] of reads) {
    if (read.ok) runs.push({ dir, record: read.value });
    else problems.push({ dir, errors: read.errors });
  }
  const time = (r: RunEntry) => Date.parse(r.record.timings.startedAt) || 0;
  runs.sort((a, b) => time(b) - time(a) || (path.basename(b.dir) < path.basename(a.dir) ? -1 : path.basename(b.dir) > path.basename(a.dir) ? 1 : 0));
  return { runs, problems };
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

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
