// Reading run.json and listing a runs folder. Never throws: a missing or corrupt file is an
// error naming it. Each read has a blocking variant (trainer, CLI, tests) and one for the
// extension host, which must never wait on the disk; both parse and check in one place.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputProblem, Validated } from './experiment';
import { RUN_FORMAT, RUN_FORMAT_VERSION, type RunRecord } from './runRecord';
import { isRecord } from './json';
import { errorCode, outcomeOf, outcomeOfAsync, readText, readTextSync, RUN_FILES, type Outcome } from './runFiles';
import { STUDIES_FOLDER } from './studyFile';

export interface RunEntry {
  dir: string;
  record: RunRecord;
}

/** Reads and checks run.json. Never throws: a missing or corrupt file is an error naming it. */
export function readRun(dir: string): Validated<RunRecord> {
  const file = path.join(dir, RUN_FILES.record);
  return checkRunFile(file, readTextSync(file));
}

/** readRun without blocking: for the extension host, which must never wait on the disk. */
export async function readRunAsync(dir: string): Promise<Validated<RunRecord>> {
  const file = path.join(dir, RUN_FILES.record);
  return checkRunFile(file, await readText(file));
}

function checkRunFile(file: string, read: Outcome<string>): Validated<RunRecord> {
  return 'error' in read ? unreadableRun(file, read.error) : parseRunRecord(file, read.value);
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
  const code = errorCode(e);
  return code === 'ENOENT'
    ? runProblem(file, '', 'missing: this folder is not a run folder, or its run was interrupted while being created', 'Delete the folder if it is not needed.')
    : runProblem(file, '', `cannot be read (${code})`, 'Check the file permissions.');
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
  for (const [key, ok, expected] of fieldChecks(raw)) if (!ok) return problem(key, `must be ${expected}, got ${JSON.stringify(raw[key]) ?? 'nothing'}`);
  const metrics = raw.metrics as Record<string, number | null>;
  for (const k of Object.keys(metrics)) if (metrics[k] === null) metrics[k] = NaN;
  return { ok: true, value: raw as unknown as RunRecord, warnings: [] };
}

/** Each field of run.json: whether it has its type, and the type in words. */
function fieldChecks(raw: Record<string, unknown>): [string, boolean, string][] {
  return [
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
    [
      'weights',
      raw.weights === undefined ||
        (isRecord(raw.weights) &&
          Number.isInteger(raw.weights.epoch) &&
          ['val_accuracy', 'val_loss'].includes(raw.weights.metric as string) &&
          ['test', 'val'].includes(raw.weights.evaluatedOn as string)),
      'an object with epoch, metric (val_accuracy or val_loss) and evaluatedOn (test or val)',
    ],
  ];
}

/**
 * Every run under `runsDir`, newest first (by startedAt, then folder name). Folders
 * without a readable run.json are listed in `problems`. A missing runsDir is empty.
 */
export type RunListing = { runs: RunEntry[]; problems: { dir: string; errors: InputProblem[] }[] };

export function listRuns(runsDir: string): RunListing {
  const listed = outcomeOf(() => fs.readdirSync(runsDir, { withFileTypes: true }));
  if ('error' in listed) return unlistable(runsDir, listed.error);
  return sortedListing(runDirs(runsDir, listed.value).map((dir) => [dir, readRun(dir)] as const));
}

/** listRuns without blocking (the extension host): reads run.json files a few at a time. */
export async function listRunsAsync(runsDir: string): Promise<RunListing> {
  const listed = await outcomeOfAsync(() => fs.promises.readdir(runsDir, { withFileTypes: true }));
  if ('error' in listed) return unlistable(runsDir, listed.error);
  const dirs = runDirs(runsDir, listed.value);
  const reads: (readonly [string, Validated<RunRecord>])[] = [];
  // 8 at a time: parallel reads, and no more than 8 records parsed between two turns of the event loop.
  for (let i = 0; i < dirs.length; i += 8) {
    reads.push(...(await Promise.all(dirs.slice(i, i + 8).map(async (dir) => [dir, await readRunAsync(dir)] as const))));
  }
  return sortedListing(reads);
}

function unlistable(runsDir: string, e: unknown): RunListing {
  const code = errorCode(e);
  if (code === 'ENOENT') return { runs: [], problems: [] };
  return { runs: [], problems: [{ dir: runsDir, errors: [{ file: runsDir, path: '', message: `cannot list the runs folder (${code})` }] }] };
}

function runDirs(runsDir: string, entries: fs.Dirent[]): string[] {
  // studies/ holds study folders (core/studyFile.ts), each listing its own runs: not a run.
  return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== STUDIES_FOLDER).map((e) => path.join(runsDir, e.name));
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
