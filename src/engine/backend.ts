// Backend selection: tensorflow (native, @tensorflow/tfjs-node) -> wasm -> cpu.
// Every backend that could not be used is recorded with its reason; callers report it.
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { BACKEND_ORDER, type BackendAttempt, type BackendName, type BackendPreference, type EnvironmentReport } from '../core/protocol';
import type { Tensor4D } from '@tensorflow/tfjs';
import { setTf, type Tf } from './tf';
import { isInstalledNativeRoot, readInstalledNative, resolveDependenciesFrom } from './native/installedBackend';
import { NAPI_VERSION } from './native/nativeSources';
import { cpuHidesCaches } from './oneDnnPolicy';
import type { NativeDevicePreference, NativeDeviceReport } from '../core/nativeDevice';
import type { CudaProbe } from './cudaDevices';
import { decideNativeDevice, deviceReport, gpuLoadFailed } from './nativeDeviceChoice';

export interface LoadedBackend {
  tf: Tf;
  backend: BackendName;
  fallbacks: BackendAttempt[];
  tfjsRoot: string;
  loadMs: number;
  tensorflowVersion?: string;
  /** Whether TensorFlow's oneDNN kernels are on, and why not when they are off. */
  oneDnn?: OneDnnDecision;
  /** Native TensorFlow only: CPU or GPU build, and why (nativeDeviceChoice.ts). */
  nativeDevice?: NativeDeviceReport;
}

export interface OneDnnDecision {
  enabled: boolean;
  reason: string;
}

export interface BackendOptions {
  preference: BackendPreference;
  /** Extra folder (with a node_modules) to look for @tensorflow/tfjs-node in, first. */
  nativeBackendPath?: string;
  /** Where Install Native Backend installs (native/ in the extension's global storage). */
  nativeInstallDir?: string;
  /** Folder this program ships from; its node_modules is searched after nativeBackendPath. */
  installRoot: string;
  /** oneDNN on or off for native TensorFlow, decided by the caller (the trainer: oneDnnPolicy.ts); default oneDnnDecision(). */
  oneDnn?: OneDnnDecision;
  /** CPU or GPU build of native TensorFlow (setting transferLab.nativeDevice); default auto. */
  nativeDevice?: NativeDevicePreference;
  /** The setting or flag that `nativeDevice` came from, named in the reasons. */
  nativeDeviceSetBy?: string;
  /** What CUDA devices are looked up through (tests give a fake one). */
  cudaProbe?: CudaProbe;
}

/** Roots whose node_modules may hold tfjs-node, most specific first: the setting, the install, our own. */
function candidateRoots(opts: BackendOptions): string[] {
  const installed = opts.nativeInstallDir ? readInstalledNative(opts.nativeInstallDir)?.root : undefined;
  const roots = [opts.nativeBackendPath, installed, opts.installRoot].filter((r): r is string => !!r);
  return [...new Set(roots.map((r) => path.resolve(r)))];
}

/** tfjs-node's addon where node-pre-gyp places it (lib/napi-v<N>). */
function hasBinding(packageDir: string): boolean {
  return fs.existsSync(path.join(packageDir, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node'));
}

function requireFrom(root: string): NodeRequire {
  return createRequire(path.join(root, 'noop.js'));
}

function errorText(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return text.split('\n')[0].slice(0, 600);
}

/**
 * Whether TensorFlow may use its oneDNN kernels in a process that cannot be retried (the CLI,
 * the bench): oneDNN sizes its convolution blocks from the CPU's cache sizes as cpuid reports
 * them; some virtual machines report none, and then oneDNN divides by zero on some shapes
 * (SIGFPE, the process dies; e.g. a 1x1 convolution to 1,024 channels,
 * tensorflow/tensorflow#57749, oneDNN#215). On such a CPU (oneDnnPolicy.ts cpuHidesCaches)
 * this says off. The trainer instead keeps oneDNN on and is retried once without it after
 * such a crash (oneDnnPolicy.ts decideOneDnn, passed in as BackendOptions.oneDnn). A
 * TF_ENABLE_ONEDNN_OPTS the user set wins.
 */
export function oneDnnDecision(env: NodeJS.ProcessEnv = process.env, cacheDir = '/sys/devices/system/cpu/cpu0/cache'): OneDnnDecision {
  const set = env.TF_ENABLE_ONEDNN_OPTS;
  if (set !== undefined && set !== '') {
    const on = !['0', 'false', 'off'].includes(set.toLowerCase());
    return { enabled: on, reason: `TF_ENABLE_ONEDNN_OPTS=${set}` };
  }
  if (cpuHidesCaches(cacheDir)) {
    return {
      enabled: false,
      reason: `this CPU does not report its cache sizes (no ${cacheDir}), on which oneDNN's convolutions crash; set TF_ENABLE_ONEDNN_OPTS=1 to try anyway`,
    };
  }
  return { enabled: true, reason: 'default' };
}

type NativeLoad = { tf: Tf; root: string; tensorflowVersion?: string; oneDnn: OneDnnDecision };

/** Requires tfjs-node from `root` and makes it the backend; throws what went wrong. */
async function loadNativeFrom(root: string, opts: BackendOptions): Promise<NativeLoad> {
  if (isInstalledNativeRoot(root)) resolveDependenciesFrom(opts.installRoot);
  // TensorFlow's C++ INFO/WARNING logs (CPU feature notes) would drown our own output;
  // read by the library when it loads, so set before require. A user's setting wins.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const oneDnn = opts.oneDnn ?? oneDnnDecision();
  // Read by TensorFlow when it loads; set either way so plan/nativeOps.ts sees what it does.
  process.env.TF_ENABLE_ONEDNN_OPTS = oneDnn.enabled ? '1' : '0';
  const resolved = requireFrom(root).resolve('@tensorflow/tfjs-node');
  const tf = requireFrom(root)('@tensorflow/tfjs-node') as Tf & { version: Record<string, string> };
  await tf.setBackend('tensorflow');
  await tf.ready();
  if (tf.getBackend() !== 'tensorflow') throw new Error(`loaded from ${resolved} but did not register`);
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  return { tf, root, tensorflowVersion: binding?.TF_Version, oneDnn };
}

/** The CPU build: the first root whose tfjs-node has its native parts. */
async function loadCpuBuild(opts: BackendOptions, roots: string[]): Promise<NativeLoad> {
  const problems: string[] = [];
  for (const root of roots) {
    let resolved: string;
    try {
      resolved = requireFrom(root).resolve('@tensorflow/tfjs-node');
    } catch {
      problems.push(`not installed under ${root}`);
      continue;
    }
    // The VSIX ships tfjs-node's JavaScript (Install Native Backend copies it) but not its
    // native parts; without them, say so instead of loading it to fail.
    if (!hasBinding(path.resolve(path.dirname(resolved), '..'))) {
      problems.push(`its native parts are not installed under ${root}`);
      continue;
    }
    return loadNativeFrom(root, opts);
  }
  throw new Error(
    `native TensorFlow (@tensorflow/tfjs-node) is not installed (${problems.join('; ')}): run "Transfer Lab: Install Native Backend" (in a clone: npm run setup:native) or set transferLab.nativeBackendPath`,
  );
}

/** Native TensorFlow: the GPU build where nativeDeviceChoice.ts says so (the CPU build if it fails to load, under "auto"), else the CPU build. */
async function tryNative(opts: BackendOptions): Promise<NativeLoad & { nativeDevice: NativeDeviceReport }> {
  const roots = candidateRoots(opts);
  const requested = opts.nativeDevice ?? 'auto';
  const decision = decideNativeDevice(requested, roots, process.env, opts.cudaProbe, opts.nativeDeviceSetBy ?? 'transferLab.nativeDevice');
  const { choice } = decision;
  if (choice.build === 'none') throw new Error(choice.reason);
  let reason = choice.reason;
  if (choice.build === 'gpu' && decision.gpuBuild) {
    try {
      const loaded = await loadNativeFrom(decision.gpuBuild, opts);
      const usingGpu = (loaded.tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice;
      return { ...loaded, nativeDevice: deviceReport(requested, decision, 'gpu', reason, usingGpu) };
    } catch (e) {
      if (!choice.cpuOnFailure) throw new Error(`the GPU build in ${decision.gpuBuild} failed to load: ${errorText(e)}`);
      reason = gpuLoadFailed(errorText(e));
    }
  }
  const loaded = await loadCpuBuild(opts, roots);
  return { ...loaded, nativeDevice: deviceReport(requested, decision, 'cpu', reason) };
}

async function tryPortable(
  backend: 'wasm' | 'cpu',
  opts: BackendOptions,
): Promise<{ tf: Tf; root: string; tensorflowVersion?: string; oneDnn?: OneDnnDecision; nativeDevice?: NativeDeviceReport }> {
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

/** No backend of those asked for loads: each one's reason is in the message, which is what a user needs. */
export class BackendUnavailableError extends Error {}

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
        oneDnn: loaded.oneDnn,
        nativeDevice: loaded.nativeDevice,
      };
    } catch (e) {
      fallbacks.push({ backend, error: errorText(e) });
    }
  }
  const reasons = fallbacks.map((f) => `${f.backend}: ${f.error}`).join('; ');
  throw new BackendUnavailableError(`No TensorFlow.js backend could be loaded (${reasons})`);
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

/**
 * Runs the kernels that native code has been seen to crash on (a 1x1 convolution to 1,024
 * channels: oneDNN on CPUs hiding their cache sizes; a depthwise convolution) and checks the
 * numbers. A crash here kills the process, which is the point: Show Environment and
 * `transfer-lab env` find it before a run does.
 */
export function checkKernels(tf: Tf): { ok: boolean; ms: number } {
  const started = performance.now();
  const ok = tf.tidy(() => {
    const conv = tf.conv2d(tf.ones([2, 4, 4, 512]) as Tensor4D, tf.ones([1, 1, 512, 1024]) as Tensor4D, 1, 'same').dataSync();
    const dw = tf.depthwiseConv2d(tf.ones([1, 8, 8, 32]) as Tensor4D, tf.ones([3, 3, 32, 1]) as Tensor4D, 2, 'same').dataSync();
    return conv.every((v) => v === 512) && dw[dw.length - 1] === 4;
  });
  return { ok, ms: performance.now() - started };
}

/** What runs here; with selfCheck (Show Environment, `transfer-lab env`) also checkKernels. */
export function describeEnvironment(loaded: LoadedBackend, requested: BackendPreference, opts: { selfCheck?: boolean } = {}): EnvironmentReport {
  const kernels = opts.selfCheck ? checkKernels(loaded.tf) : undefined;
  const mem = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    backend: loaded.backend,
    requested,
    fallbacks: loaded.fallbacks,
    tfjsVersion: loaded.tf.version.tfjs ?? loaded.tf.version_core,
    tensorflowVersion: loaded.tensorflowVersion,
    oneDnn: loaded.oneDnn,
    nativeDevice: loaded.nativeDevice,
    kernels,
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
