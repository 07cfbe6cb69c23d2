import type { RunEvent } from './runEvents';
import type { BackboneSpec } from './experiment';
import type { LayerSummary, Prediction } from './layerSummary';

// The host <-> trainer protocol: defined once, imported by both sides (design.md).
// Messages travel over Node's IPC channel (child_process.fork) as JSON. Every message
// received from the other side goes through `parse*Message` before use.

export const PROTOCOL_VERSION = 1;

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = 'auto' | BackendName;
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Why a backend in the order was not used; fallbacks are always reported. */
export interface BackendAttempt {
  backend: BackendName;
  error: string;
}

/** Whether TensorFlow's oneDNN kernels are on in a trainer, why, and who decided (engine/oneDnnPolicy.ts). */
export interface OneDnnChoice {
  enabled: boolean;
  reason: string;
  /** environment: the user's TF_ENABLE_ONEDNN_OPTS; verdict: a remembered crash; default: the policy. */
  source?: 'environment' | 'verdict' | 'default';
}

export interface EnvironmentReport {
  backend: BackendName;
  requested: BackendPreference;
  /** Backends tried before `backend` and why each failed (empty when the first worked). */
  fallbacks: BackendAttempt[];
  tfjsVersion: string;
  /** Version of the native TensorFlow library when backend is 'tensorflow'. */
  tensorflowVersion?: string;
  /**
   * Native backend only: whether TensorFlow's oneDNN kernels are on and why; from a trainer
   * also how many models are remembered with oneDNN off on this machine, and in which file.
   */
  oneDnn?: OneDnnChoice & { rememberedOff?: number; verdictFile?: string };
  /** The kernel self-check (backend.checkKernels): results right, and its time. */
  kernels?: { ok: boolean; ms: number };
  /** Where the tfjs packages were loaded from. */
  tfjsRoot: string;
  threads: number;
  loadMs: number;
  memory: { rssMB: number; heapUsedMB: number; systemTotalMB: number; systemFreeMB: number };
  node: string;
  platform: string;
  pid: number;
}

/** A job is one unit of work for one trainer process. */
export type Job =
  | { kind: 'environment' }
  | {
      kind: 'run';
      /** Absolute path of the *.tlexp.json file. */
      experimentFile: string;
      /** Absolute folder that holds run folders. */
      runsDir: string;
      /** Absolute folder for downloaded backbones and activation caches. */
      cacheDir: string;
    }
  | {
      kind: 'inspect';
      backbone: BackboneSpec;
      /** Folder that relative backbone paths resolve against (the experiment file's). */
      baseDir: string;
      cacheDir: string;
    }
  | {
      kind: 'predict';
      /** A run folder, its model/ folder or a model.json. */
      target: string;
      images: string[];
      cacheDir: string;
    };

export interface TrainerOptions {
  backend: BackendPreference;
  /** Folder whose node_modules holds @tensorflow/tfjs-node (setting transferLab.nativeBackendPath). */
  nativeBackendPath?: string;
  /** Where Install Native Backend puts its installs (the extension's global storage). */
  nativeInstallDir?: string;
}

// host -> trainer
export type HostMessage = { type: 'start'; protocol: number; job: Job; options: TrainerOptions } | { type: 'cancel' };

// trainer -> host
export type TrainerMessage =
  | { type: 'hello'; protocol: number; pid: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'environment'; report: EnvironmentReport }
  /** Sent before TensorFlow loads: the oneDNN choice and the machine and model its verdict is kept under. */
  | { type: 'kernels'; oneDnn: OneDnnChoice; machine: string; model: string }
  | { type: 'run-event'; event: RunEvent }
  | { type: 'layers'; summary: LayerSummary }
  | { type: 'predictions'; predictions: Prediction[] }
  | { type: 'failed'; message: string; hint?: string }
  | { type: 'done' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isBackend = (v: unknown): v is BackendName => v === 'tensorflow' || v === 'wasm' || v === 'cpu';

/** Validates a message from the trainer; returns undefined for anything malformed. */
export function parseTrainerMessage(raw: unknown): TrainerMessage | undefined {
  if (!isRecord(raw) || typeof raw.type !== 'string') return undefined;
  switch (raw.type) {
    case 'hello':
      return typeof raw.protocol === 'number' && typeof raw.pid === 'number' ? (raw as TrainerMessage) : undefined;
    case 'log':
      return (raw.level === 'info' || raw.level === 'warn' || raw.level === 'error') && typeof raw.message === 'string' ? (raw as TrainerMessage) : undefined;
    case 'environment': {
      const r = raw.report;
      return isRecord(r) && isBackend(r.backend) && typeof r.tfjsVersion === 'string' && Array.isArray(r.fallbacks) ? (raw as TrainerMessage) : undefined;
    }
    case 'kernels':
      return isRecord(raw.oneDnn) &&
        typeof raw.oneDnn.enabled === 'boolean' &&
        typeof raw.oneDnn.reason === 'string' &&
        typeof raw.machine === 'string' &&
        typeof raw.model === 'string'
        ? (raw as TrainerMessage)
        : undefined;
    case 'layers':
      return isRecord(raw.summary) && Array.isArray(raw.summary.rows) ? (raw as TrainerMessage) : undefined;
    case 'predictions':
      return Array.isArray(raw.predictions) ? (raw as TrainerMessage) : undefined;
    case 'run-event':
      return isRecord(raw.event) && typeof raw.event.type === 'string' ? (raw as TrainerMessage) : undefined;
    case 'failed':
      return typeof raw.message === 'string' ? (raw as TrainerMessage) : undefined;
    case 'done':
      return raw as TrainerMessage;
    default:
      return undefined;
  }
}

/** Validates a message from the host. */
export function parseHostMessage(raw: unknown): HostMessage | undefined {
  if (!isRecord(raw)) return undefined;
  if (raw.type === 'cancel') return { type: 'cancel' };
  if (raw.type !== 'start' || typeof raw.protocol !== 'number') return undefined;
  const job = raw.job;
  const options = raw.options;
  if (!isRecord(job)) return undefined;
  const isText = (v: unknown) => typeof v === 'string' && v.length > 0;
  const valid =
    job.kind === 'environment' ||
    (job.kind === 'run' && isText(job.experimentFile) && isText(job.runsDir) && isText(job.cacheDir)) ||
    (job.kind === 'inspect' && isRecord(job.backbone) && isText(job.baseDir) && isText(job.cacheDir)) ||
    (job.kind === 'predict' && isText(job.target) && Array.isArray(job.images) && job.images.every(isText) && isText(job.cacheDir));
  if (!valid) return undefined;
  if (!isRecord(options) || !(options.backend === 'auto' || isBackend(options.backend))) return undefined;
  if (options.nativeBackendPath !== undefined && typeof options.nativeBackendPath !== 'string') return undefined;
  if (options.nativeInstallDir !== undefined && typeof options.nativeInstallDir !== 'string') return undefined;
  return raw as HostMessage;
}

/** One line that says which backend runs and, if it is a fallback, why. */
export function describeBackend(report: EnvironmentReport): string {
  const base = `backend ${report.backend} (TensorFlow.js ${report.tfjsVersion}${
    report.tensorflowVersion ? `, TensorFlow ${report.tensorflowVersion}` : ''
  }${report.oneDnn && !report.oneDnn.enabled ? ', oneDNN off' : ''}, ${report.threads} threads, loaded in ${Math.round(report.loadMs)} ms)`;
  if (report.fallbacks.length === 0) return base;
  const why = report.fallbacks.map((f) => `${f.backend}: ${f.error}`).join('; ');
  return `${base}; fell back because ${why}`;
}
