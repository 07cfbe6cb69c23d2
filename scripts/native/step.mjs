// What every step shares: progress lines, the error that names the failed step, and running
// a command with its output kept in a log file.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CHILD_ENV, LOG_DIR, ROOT } from './config.mjs';

export const log = (msg) => console.log(`[setup:native] ${msg}`);
export const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export class StepError extends Error {
  constructor(step, message, hint) {
    super(message);
    this.step = step;
    this.hint = hint;
  }
}

export function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Runs a command, captures its output into LOG_DIR/<logName>.log; throws StepError on failure. */
export function run(step, logName, cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? CHILD_ENV,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeout ?? 30 * 60 * 1000,
  });
  const out = `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
  let logFile = '';
  try {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    logFile = path.join(LOG_DIR, `${logName}.log`);
    fs.writeFileSync(logFile, out);
  } catch {
    /* logging is best effort */
  }
  if (r.error || r.status !== 0) {
    if (opts.allowFail) return null;
    const why = r.error ? r.error.message : `exit code ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    const tail = out.trim().split('\n').slice(-15).join('\n');
    throw new StepError(step, `\`${cmd} ${args.join(' ')}\` failed: ${why}\n${tail}` + (logFile ? `\n(full log: ${logFile})` : ''), opts.hint);
  }
  return r;
}

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}
