import * as v from 'valibot';
import { measured } from './messageProtocol';

// Which build of native TensorFlow a trainer loads, the CPU one or the GPU one
// (`npm run setup:native -- --gpu`), and why: the setting transferLab.nativeDevice (the CLI's
// --device / TRANSFER_LAB_NATIVE_DEVICE), what was installed and which CUDA devices are visible.
// Part of the environment report (protocol.ts); the choice itself is engine/nativeDeviceChoice.ts.

export const NATIVE_DEVICES = ['auto', 'cpu', 'gpu'] as const;
export const NativeDevicePreferenceSchema = v.picklist(NATIVE_DEVICES);
export type NativeDevicePreference = v.InferOutput<typeof NativeDevicePreferenceSchema>;

const CudaDeviceSchema = v.object({
  /** nvidia-smi's index, or the position under /proc/driver/nvidia/gpus. */
  index: v.pipe(v.number(), v.integer(), v.minValue(0)),
  name: v.string(),
  /** Total memory; unknown when only /proc was readable (it does not say). */
  memoryMB: v.optional(measured),
  uuid: v.optional(v.string()),
});
export type CudaDevice = v.InferOutput<typeof CudaDeviceSchema>;

export const NativeDeviceReportSchema = v.object({
  requested: NativeDevicePreferenceSchema,
  /** The build that was loaded. */
  build: v.picklist(['cpu', 'gpu']),
  /** Why this build, in a sentence a user can act on. */
  reason: v.string(),
  /** The folder of the GPU build when one is installed. */
  gpuBuild: v.optional(v.string()),
  /** The CUDA devices visible to this process (CUDA_VISIBLE_DEVICES applied). */
  devices: v.array(CudaDeviceSchema),
  /** What TensorFlow itself says once loaded: whether it listed a GPU device (tfjs-node's isUsingGpuDevice). */
  usingGpu: v.optional(v.boolean()),
});
export type NativeDeviceReport = v.InferOutput<typeof NativeDeviceReportSchema>;

export function describeCudaDevice(d: CudaDevice): string {
  return `${d.name}${d.memoryMB !== undefined ? ` (${(d.memoryMB / 1024).toFixed(d.memoryMB >= 10 * 1024 ? 0 : 1)} GiB)` : ''}`;
}

/**
 * The device part of the one-line backend description: the GPU when one is in use, else the
 * reason for the CPU build. Quiet on machines where a GPU never came into it (no GPU build,
 * no device, nothing forced), so a CPU-only user reads nothing new.
 */
export function describeNativeDevice(r: NativeDeviceReport): string {
  if (r.build === 'gpu' && r.usingGpu !== false) {
    const gpus = r.devices.length ? r.devices.map(describeCudaDevice).join(', ') : 'device not detected';
    return `, GPU ${gpus}`;
  }
  if (r.build === 'gpu') return `, GPU build but TensorFlow found no GPU and runs on the CPU (${r.reason}; check the NVIDIA driver and the CUDA 12 libraries)`;
  const relevant = r.gpuBuild !== undefined || r.requested !== 'auto' || r.devices.length > 0;
  return relevant ? `, CPU build (${r.reason})` : '';
}

/** Show Environment's lines: the build and why, each visible device, and what TensorFlow found. */
export function formatNativeDevice(r: NativeDeviceReport): string[] {
  const lines = [`Native build:       ${r.build}${r.requested !== 'auto' ? ` (requested ${r.requested})` : ''}: ${r.reason}`];
  for (const d of r.devices) lines.push(`  CUDA device ${d.index}:    ${describeCudaDevice(d)}${d.uuid ? ` ${d.uuid}` : ''}`);
  if (r.build === 'gpu' && r.usingGpu !== undefined) {
    lines.push(
      `  TensorFlow GPU:   ${r.usingGpu ? 'yes, ops run on the GPU' : 'no GPU device found by TensorFlow: it runs on the CPU (check the driver and CUDA 12 libraries)'}`,
    );
  }
  if (r.gpuBuild) lines.push(`  GPU build:        ${r.gpuBuild}`);
  return lines;
}
