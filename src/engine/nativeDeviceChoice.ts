// CPU or GPU build of native TensorFlow, and the sentence that says why. The GPU build is what
// `npm run setup:native -- --gpu` writes to <root>/native-gpu (scripts/native/config.mjs),
// beside the CPU build in <root>/node_modules, so a user can go back to the CPU at any time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CudaDevice, NativeDevicePreference, NativeDeviceReport } from '../core/nativeDevice';
import { describeCudaDevice } from '../core/nativeDevice';
import { detectCudaDevices, type CudaDetection, type CudaProbe } from './cudaDevices';
import { MARKER_FILE } from './native/installedBackend';
import { NAPI_VERSION } from './native/nativeSources';

/** Folder under a root (a clone, the extension) where the GPU build lives; the same name as scripts/native/config.mjs GPU_ROOT. */
export const GPU_BUILD_FOLDER = 'native-gpu';

/** The first root with a complete GPU build: its marker file and the addon. */
export function findGpuBuild(roots: string[]): string | undefined {
  for (const root of roots) {
    const dir = path.join(root, GPU_BUILD_FOLDER);
    const addon = path.join(dir, 'node_modules', '@tensorflow', 'tfjs-node', 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node');
    if (fs.existsSync(path.join(dir, MARKER_FILE)) && fs.existsSync(addon)) return dir;
  }
  return undefined;
}

export interface DeviceChoice {
  /** 'none': the GPU build was required (nativeDevice "gpu") but is not installed. */
  build: 'cpu' | 'gpu' | 'none';
  reason: string;
  /** Whether a GPU build that fails to load falls back to the CPU build ("auto" only). */
  cpuOnFailure: boolean;
}

const names = (devices: CudaDevice[]) => devices.map(describeCudaDevice).join(', ');

/** The decision for each case; pure, so every reason is tested. `setBy` names the setting or flag. */
export function chooseNativeBuild(requested: NativeDevicePreference, gpuBuild: string | undefined, detection: CudaDetection, setBy: string): DeviceChoice {
  const visible = detection.visible;
  if (requested === 'cpu') return { build: 'cpu', reason: `${setBy} is "cpu": using the CPU build`, cpuOnFailure: false };
  if (requested === 'gpu') {
    if (!gpuBuild) {
      return {
        build: 'none',
        reason: `${setBy} is "gpu" but no GPU build is installed: in a clone run \`npm run setup:native -- --gpu\` (Linux x86-64, NVIDIA driver for CUDA 12), or set ${setBy} to "auto"`,
        cpuOnFailure: false,
      };
    }
    const seen = visible.length ? `CUDA device: ${names(visible)}` : `no CUDA device is visible (${detection.noneBecause}), so TensorFlow may run on the CPU`;
    return { build: 'gpu', reason: `${setBy} is "gpu": using the GPU build; ${seen}`, cpuOnFailure: false };
  }
  if (!gpuBuild) {
    const reason = visible.length
      ? `a CUDA device is visible (${names(visible)}) but no GPU build is installed: run \`npm run setup:native -- --gpu\` in a clone to use it`
      : 'no GPU build installed';
    return { build: 'cpu', reason, cpuOnFailure: false };
  }
  if (!visible.length)
    return { build: 'cpu', reason: `GPU build installed but no CUDA device is visible (${detection.noneBecause}): using the CPU build`, cpuOnFailure: false };
  return { build: 'gpu', reason: `GPU build installed and a CUDA device is visible: ${names(visible)}`, cpuOnFailure: true };
}

/** After the GPU build threw while loading: the CPU build, and its first line as the reason. */
export function gpuLoadFailed(error: string): string {
  return `the GPU build failed to load: ${error.split('\n')[0]}; using the CPU build`;
}

export interface DeviceDecision {
  choice: DeviceChoice;
  gpuBuild?: string;
  detection: CudaDetection;
}

/**
 * Looks for a GPU build under `roots` and at the devices, then chooses. nvidia-smi runs only
 * when a GPU build is there (or asked for): a CPU-only user pays no child process per trainer.
 */
export function decideNativeDevice(
  requested: NativeDevicePreference,
  roots: string[],
  env: NodeJS.ProcessEnv,
  probe: CudaProbe | undefined,
  setBy: string,
): DeviceDecision {
  const gpuBuild = requested === 'cpu' ? undefined : findGpuBuild(roots);
  const detection =
    requested === 'cpu'
      ? { visible: [], present: [], source: 'none' as const }
      : detectCudaDevices(env, probe, { spawn: gpuBuild !== undefined || requested === 'gpu' });
  return { choice: chooseNativeBuild(requested, gpuBuild, detection, setBy), gpuBuild, detection };
}

/** The report's device part once a build is loaded; `usingGpu` from tfjs-node (isUsingGpuDevice). */
export function deviceReport(
  requested: NativeDevicePreference,
  d: DeviceDecision,
  build: 'cpu' | 'gpu',
  reason: string,
  usingGpu?: boolean,
): NativeDeviceReport {
  return { requested, build, reason, gpuBuild: d.gpuBuild, devices: d.detection.visible, usingGpu };
}
