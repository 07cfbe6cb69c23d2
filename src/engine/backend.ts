// Backend selection: tensorflow (native, @tensorflow/tfjs-node) -> wasm -> cpu.
// Every backend that could not be used is recorded with its reason; callers report it.
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import {
  BACKEND_ORDER,
  type BackendAttempt,
  type BackendName,
  type BackendPreference,
  type EnvironmentReport,
} from '../core/protocol';
import { setTf, type Tf } from './tf';

export interface LoadedBackend {
  tf: Tf;
  backend: BackendName;
  fallbacks: BackendAttempt[];
  tfjsRoot: string;
  loadMs: number;
  tensorflowVersion?: string;
}

export interface BackendOptions {
  preference: BackendPreference;
  /** Extra folder (with a node_modules) to look for @tensorflow/tfjs-node in, first. */
  nativeBackendPath?: string;
  /** Folder this program ships from; its node_modules is searched after nativeBackendPath. */
  installRoot: string;
}

/** Roots whose node_modules may hold tfjs, most specific first. */
function candidateRoots(opts: BackendOptions): string[] {
  const roots = [opts.nativeBackendPath, opts.installRoot].filter((r): r is string => !!r);
  return [...new Set(roots.map((r) => path.resolve(r)))];
}

function requireFrom(root: string): NodeRequire {
  return createRequire(path.join(root, 'noop.js'));
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0].slice(0, 300);
}

async function tryNative(opts: BackendOptions): Promise<{ tf: Tf; root: string; tensorflowVersion?: string }> {
  const problems: string[] = [];
  for (const root of candidateRoots(opts)) {
    let resolved: string;
    try {
      resolved = requireFrom(root).resolve('@tensorflow/tfjs-node');
    } catch {
      problems.push(`not installed under ${root}`);
      continue;
    }
    // TensorFlow's C++ INFO/WARNING logs (CPU feature notes) would drown our own output;
    // read by the library when it loads, so set before require. A user's setting wins.
    process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
    const tf = requireFrom(root)('@tensorflow/tfjs-node') as Tf & { version: Record<string, string> };
    await tf.setBackend('tensorflow');
    await tf.ready();
    if (tf.getBackend() !== 'tensorflow') throw new Error(`loaded from ${resolved} but did not register`);
    const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
    return { tf, root, tensorflowVersion: binding?.TF_Version };
  }
  throw new Error(
    `@tensorflow/tfjs-node ${problems.join(', ')}; run \`npm run setup:native\` or set transferLab.nativeBackendPath`,
  );
}

async function tryPortable(backend: 'wasm' | 'cpu', opts: BackendOptions): Promise<{ tf: Tf; root: string; tensorflowVersion?: string }> {
  const root = opts.installRoot;
  const req = requireFrom(root);
  const tf = req('@tensorflow/tfjs') as Tf;
  if (backend === 'wasm') {
    const wasm = req('@tensorflow/tfjs-backend-wasm') as {
      setWasmPaths(prefix: string): void;
    };
    const dir = path.dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dir + path.sep);
  }
  const ok = await tf.setBackend(backend);
  await tf.ready();
  if (!ok || tf.getBackend() !== backend) throw new Error(`tf.setBackend('${backend}') failed`);
  return { tf, root };
}

/** Loads TensorFlow.js with the preferred backend, falling back in BACKEND_ORDER. */
export async function loadBackend(opts: BackendOptions): Promise<LoadedBackend> {
  const started = performance.now();
  const order = opts.preference === 'auto' ? BACKEND_ORDER : [opts.preference];
  const fallbacks: BackendAttempt[] = [];
  for (const backend of order) {
    try {
      const loaded = backend === 'tensorflow' ? await tryNative(opts) : await tryPortable(backend, opts);
      setTf(loaded.tf);
      return {
        tf: loaded.tf,
        backend,
        fallbacks,
        tfjsRoot: loaded.root,
        loadMs: performance.now() - started,
        tensorflowVersion: loaded.tensorflowVersion,
      };
    } catch (e) {
      fallbacks.push({ backend, error: errorText(e) });
    }
  }
  const reasons = fallbacks.map((f) => `${f.backend}: ${f.error}`).join('; ');
  throw new Error(`No TensorFlow.js backend could be loaded (${reasons})`);
}

function threadsOf(loaded: LoadedBackend): number {
  if (loaded.backend === 'cpu') return 1;
  if (loaded.backend === 'wasm') {
    const wasm = requireFrom(loaded.tfjsRoot)('@tensorflow/tfjs-backend-wasm') as { getThreadsCount(): number };
    return wasm.getThreadsCount();
  }
  // Native TensorFlow uses one intra-op thread per core unless told otherwise.
  const configured = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isFinite(configured) && configured > 0 ? configured : os.cpus().length;
}

export function describeEnvironment(loaded: LoadedBackend, requested: BackendPreference): EnvironmentReport {
  const mem = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    backend: loaded.backend,
    requested,
    fallbacks: loaded.fallbacks,
    tfjsVersion: loaded.tf.version.tfjs ?? loaded.tf.version_core,
    tensorflowVersion: loaded.tensorflowVersion,
    tfjsRoot: loaded.tfjsRoot,
    threads: threadsOf(loaded),
    loadMs: loaded.loadMs,
    memory: { rssMB: mb(mem.rss), heapUsedMB: mb(mem.heapUsed), systemTotalMB: mb(os.totalmem()), systemFreeMB: mb(os.freemem()) },
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    pid: process.pid,
  };
}

/** The folder a bundle in dist/ ships from (the extension or package root). */
export function installRootOf(bundleDir: string): string {
  const up = path.resolve(bundleDir, '..');
  return fs.existsSync(path.join(up, 'package.json')) ? up : bundleDir;
}
