// What every CLI command gets: where things are, which backend, and how to print.
import * as os from 'node:os';
import * as path from 'node:path';
import type { BackendPreference } from '../core/protocol';
import { describeBackend } from '../core/protocol';
import { describeEnvironment, loadBackend, type BackendOptions, type LoadedBackend } from '../engine/backend';
import type { NativeDeviceOption } from './nativeDeviceOption';

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export interface CliContext {
  installRoot: string;
  cacheDir: string;
  backend: BackendPreference;
  /** CPU or GPU build of native TensorFlow, and what set it (nativeDeviceOption.ts). */
  nativeDevice: NativeDeviceOption;
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

export function defaultCacheDir(): string {
  return process.env.TRANSFER_LAB_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'transfer-lab');
}

/** What the CLI loads TensorFlow.js with: --backend and --device. */
export function cliBackendOptions(ctx: CliContext): BackendOptions {
  return { preference: ctx.backend, installRoot: ctx.installRoot, nativeDevice: ctx.nativeDevice.device, nativeDeviceSetBy: ctx.nativeDevice.setBy };
}

/** Loads TensorFlow.js; the backend and any fallback go to stderr (stdout stays parseable). */
export async function loadCliBackend(ctx: CliContext): Promise<LoadedBackend> {
  const loaded = await loadBackend(cliBackendOptions(ctx));
  const report = describeEnvironment(loaded, ctx.backend);
  ctx.err(`transfer-lab: ${describeBackend(report)}`);
  return loaded;
}

/** Ctrl-C once: stop after the running batch (the run or study ends consistent); twice: abort. Returns the flag's reader. */
export function stopOnCtrlC(ctx: CliContext): () => boolean {
  let stop = false;
  process.once('SIGINT', () => {
    stop = true;
    ctx.err('\nstopping after this batch (Ctrl+C again to abort)...');
    process.once('SIGINT', () => process.exit(130));
  });
  return () => stop;
}
