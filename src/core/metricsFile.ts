// metrics.jsonl: one MetricRecord per line, appended by the trainer as it goes and read by
// the dashboard, the compare view and the CLI. A crash can tear the last line: appending
// starts a fresh line, and reading skips (and reports) a torn or corrupt line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InputProblem } from './experiment';
import type { MetricRecord } from './runRecord';
import { isRecord } from './json';
import { errorCode, readText, readTextSync, RUN_FILES, type Outcome } from './runFiles';

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

/** Metric records in file order; a torn or corrupt line is skipped and reported. */
export type MetricsRead = { records: MetricRecord[]; problems: InputProblem[] };

export function readMetrics(dir: string): MetricsRead {
  const file = path.join(dir, RUN_FILES.metrics);
  return checkMetricsFile(file, readTextSync(file));
}

/** readMetrics without blocking: for the extension host. */
export async function readMetricsAsync(dir: string): Promise<MetricsRead> {
  const file = path.join(dir, RUN_FILES.metrics);
  return checkMetricsFile(file, await readText(file));
}

function checkMetricsFile(file: string, read: Outcome<string>): MetricsRead {
  if ('value' in read) return parseMetrics(file, read.value);
  const code = errorCode(read.error);
  return { records: [], problems: code === 'ENOENT' ? [] : [{ file, path: '', message: `cannot be read (${code})` }] };
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
  for (const k of ['batch', 'accuracy', 'val_loss', 'val_accuracy', 'lr', 'baseLr', 'imagesPerSec']) if (raw[k] !== undefined && !num(raw[k])) return undefined;
  const out = { ...raw } as Record<string, unknown>;
  for (const k of Object.keys(out)) if (out[k] === null) out[k] = NaN;
  return out as unknown as MetricRecord;
}
