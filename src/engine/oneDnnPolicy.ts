// Whether a trainer runs TensorFlow's oneDNN kernels, per model and machine (issue 12).
//
// oneDNN sizes its convolution blocks from the CPU's cache sizes as cpuid reports them; some
// virtual machines report none, and then some convolution shapes divide by zero (SIGFPE:
// the process dies; e.g. a 1x1 convolution to 1,024 channels, tensorflow/tensorflow#57749,
// oneDNN#215). Most models never hit such a shape, and Eigen's kernels (oneDNN off) are
// about 10x slower, so oneDNN stays on; a trainer that dies of SIGFPE with it on is retried
// once with it off (extension/oneDnnRetry.ts), and that verdict is remembered here, per
// machine and model, in <nativeInstallDir>/onednn-verdicts.json (delete it to forget).
// No vscode import: the trainer decides, the extension host records.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Job, OneDnnChoice } from '../core/protocol';
import type { BackboneSpec } from '../core/experiment';

export const VERDICT_FILE = 'onednn-verdicts.json';
const DEFAULT_CACHE_DIR = '/sys/devices/system/cpu/cpu0/cache';

/** The verdict file of an install folder (TrainerOptions.nativeInstallDir). */
export function verdictFileOf(nativeInstallDir: string): string {
  return path.join(nativeInstallDir, VERDICT_FILE);
}

/**
 * Linux fills /sys/devices/system/cpu/cpu0/cache from the cpuid leaves oneDNN reads, so its
 * absence on an x86 Linux machine is the sign of a CPU that hides its cache sizes.
 */
export function cpuHidesCaches(cacheDir = DEFAULT_CACHE_DIR): boolean {
  return process.platform === 'linux' && process.arch === 'x64' && fs.existsSync('/sys/devices/system/cpu/cpu0') && !fs.existsSync(cacheDir);
}

/** What makes a machine for a verdict: the CPU, its core count, the platform, whether it reports its caches. */
export function machineKey(cacheDir = DEFAULT_CACHE_DIR): string {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? 'unknown CPU').trim().replace(/\s+/g, ' ');
  return `${model} | ${cpus.length} cores | ${process.platform}-${process.arch} | caches ${cpuHidesCaches(cacheDir) ? 'hidden' : 'reported'}`;
}

/** A backbone's identity: its catalog id, absolute path or URL. */
export function backboneKey(spec: BackboneSpec, baseDir: string): string {
  if ('catalog' in spec) return `catalog:${spec.catalog}`;
  if ('path' in spec) return `path:${path.resolve(baseDir, spec.path)}`;
  return `url:${spec.url}`;
}

/**
 * The model a job runs, for its verdict: a run's backbone (read from the experiment file; the
 * file's path when it cannot be read, so the run still gets a key of its own), an inspect
 * job's backbone (a study's, like a run's, from its experiment file), a prediction's target, or the environment job's self-check.
 */
export async function modelKeyOf(job: Job): Promise<string> {
  switch (job.kind) {
    case 'environment':
      return 'self-check';
    case 'inspect':
      return backboneKey(job.backbone, job.baseDir);
    case 'predict':
      return `model:${path.resolve(job.target)}`;
    case 'probe':
    case 'study':
    case 'run': {
      // A probe of another backbone (--backbones, the wizard) is that backbone's.
      if (job.kind === 'probe' && job.backbone) return backboneKey(job.backbone, path.dirname(job.experimentFile));
      try {
        const experiment = JSON.parse(await fs.promises.readFile(job.experimentFile, 'utf8')) as { backbone?: unknown };
        const b = experiment.backbone as Record<string, unknown> | undefined;
        const spec = b && (typeof b.catalog === 'string' || typeof b.path === 'string' || typeof b.url === 'string') ? (b as BackboneSpec) : undefined;
        if (spec) return backboneKey(spec, path.dirname(job.experimentFile));
      } catch {
        // unreadable or not JSON: the run itself says so; the file path is the key
      }
      return `experiment:${path.resolve(job.experimentFile)}`;
    }
  }
}

export interface OneDnnVerdict {
  machine: string;
  model: string;
  oneDnn: 'off';
  /** The signal the trainer died of with oneDNN on. */
  signal: string;
  /** When (ISO 8601). */
  at: string;
}

export interface VerdictStore {
  version: 1;
  verdicts: OneDnnVerdict[];
}

const emptyStore = (): VerdictStore => ({ version: 1, verdicts: [] });

function isVerdict(v: unknown): v is OneDnnVerdict {
  const r = v as Record<string, unknown>;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof r.machine === 'string' &&
    typeof r.model === 'string' &&
    r.oneDnn === 'off' &&
    typeof r.signal === 'string' &&
    typeof r.at === 'string'
  );
}

/** The verdicts in `file`; none when it is missing or unreadable (a damaged file forgets, it never stops a job). */
export async function readVerdicts(file: string | undefined): Promise<VerdictStore> {
  if (!file) return emptyStore();
  try {
    const raw = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { verdicts?: unknown };
    return { version: 1, verdicts: Array.isArray(raw.verdicts) ? raw.verdicts.filter(isVerdict) : [] };
  } catch {
    return emptyStore();
  }
}

export function findVerdict(store: VerdictStore, machine: string, model: string): OneDnnVerdict | undefined {
  return store.verdicts.find((v) => v.machine === machine && v.model === model);
}

/** How many models run with oneDNN off on this machine. */
export function countOffOnMachine(store: VerdictStore, machine: string): number {
  return store.verdicts.filter((v) => v.machine === machine).length;
}

/** Writes to one file queue here one after another, so two crashes at once both stick. */
const writes = new Map<string, Promise<unknown>>();

/**
 * Remembers that oneDNN crashed `model` on `machine`. Asynchronous (the extension host calls
 * it and never blocks on disk) and atomic: a temporary file renamed over the old one.
 */
export function recordOffVerdict(file: string, entry: { machine: string; model: string; signal: string; at?: Date }): Promise<OneDnnVerdict> {
  const verdict: OneDnnVerdict = {
    machine: entry.machine,
    model: entry.model,
    oneDnn: 'off',
    signal: entry.signal,
    at: (entry.at ?? new Date()).toISOString(),
  };
  const write = async () => {
    const store = await readVerdicts(file);
    store.verdicts = [...store.verdicts.filter((v) => !(v.machine === verdict.machine && v.model === verdict.model)), verdict];
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}-${Math.random().toString(16).slice(2, 8)}.tmp`;
    try {
      await fs.promises.writeFile(temp, JSON.stringify(store, null, 2) + '\n');
      await fs.promises.rename(temp, file);
    } catch (e) {
      await fs.promises.rm(temp, { force: true });
      throw e;
    }
    return verdict;
  };
  const next = (writes.get(file) ?? Promise.resolve()).then(write, write);
  const settled = next.catch(() => undefined);
  writes.set(file, settled);
  void settled.then(() => writes.get(file) === settled && writes.delete(file));
  return next;
}

const OFF_VALUES = ['0', 'false', 'off'];

/**
 * The oneDNN choice for one job: a TF_ENABLE_ONEDNN_OPTS the user set wins; a remembered
 * crash of this model on this machine turns it off; otherwise it is on, and where the CPU
 * hides its caches the reason says so and that a crash is retried once without oneDNN.
 */
export function decideOneDnn(opts: { env: NodeJS.ProcessEnv; verdicts: VerdictStore; model: string; machine?: string; cacheDir?: string }): OneDnnChoice {
  const machine = opts.machine ?? machineKey(opts.cacheDir);
  const remembered = findVerdict(opts.verdicts, machine, opts.model);
  const because =
    remembered && `oneDNN crashed this model on this machine (${remembered.signal}) on ${remembered.at.slice(0, 10)}; Transfer Lab runs it with oneDNN off`;
  const set = opts.env.TF_ENABLE_ONEDNN_OPTS;
  if (set !== undefined && set !== '') {
    const enabled = !OFF_VALUES.includes(set.toLowerCase());
    // The retry after a crash runs with TF_ENABLE_ONEDNN_OPTS=0: say why when it is known.
    return { enabled, source: 'environment', reason: `TF_ENABLE_ONEDNN_OPTS=${set} in the environment${!enabled && because ? `; ${because}` : ''}` };
  }
  if (because) return { enabled: false, source: 'verdict', reason: because };
  if (cpuHidesCaches(opts.cacheDir)) {
    return {
      enabled: true,
      source: 'default',
      reason: `this CPU does not report its cache sizes (no ${opts.cacheDir ?? DEFAULT_CACHE_DIR}), where some convolution shapes crash oneDNN; a trainer that crashes so is retried once with oneDNN off, and that is remembered for the model`,
    };
  }
  return { enabled: true, source: 'default', reason: 'default' };
}

/**
 * TEST-ONLY SIMULATION: with TRANSFER_LAB_SIMULATE_ONEDNN_CRASH=1 a trainer whose oneDNN is
 * on kills itself with a real SIGFPE, as oneDNN does on a CPU hiding its caches, so the
 * retry and the verdict can be tested on machines where oneDNN never crashes.
 */
export function simulatedOneDnnCrashWanted(env: NodeJS.ProcessEnv, choice: OneDnnChoice | undefined): boolean {
  return env.TRANSFER_LAB_SIMULATE_ONEDNN_CRASH === '1' && !!choice?.enabled;
}
