// Where the offline native build reads and writes, and which versions it pins. Every step
// module imports these; nothing here touches the disk.

import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PKG_NAME = '@tensorflow/tfjs-node';
export const PKG_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
export const TF_PIP_SPEC = 'tensorflow-cpu==2.21.0';
export const TF_VERSION = '2.21.0';
export const NAPI_VERSION = 8; // tfjs-node 4.22 lists napi_versions 3..8; node-pre-gyp picks 8 on Node >= 16
export const MODULE_PATH = path.join(PKG_DIR, 'lib', `napi-v${NAPI_VERSION}`);
export const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
export const CACHE_ROOT = process.env.TRANSFER_LAB_CACHE
  ? path.resolve(process.env.TRANSFER_LAB_CACHE)
  : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab', 'native');
export const CACHE_DIR = path.join(CACHE_ROOT, `tensorflow-cpu-${TF_VERSION}-${process.platform}-${process.arch}`);
export const LOG_DIR = path.join(CACHE_ROOT, 'logs');
// TensorFlow's C++ logging (CPU feature banner etc.) would drown the progress lines.
export const CHILD_ENV = { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' };

// The GPU build (npm run setup:native -- --gpu) lives beside the CPU one, never over it, so a
// user can go back to the CPU build: <repo>/native-gpu/node_modules/@tensorflow/tfjs-node,
// complete once native-gpu/transfer-lab-native.json exists (written last). The trainer looks
// for it there (src/engine/nativeDeviceChoice.ts GPU_BUILD_FOLDER).
export const GPU_ROOT = path.join(ROOT, 'native-gpu');
export const GPU_MARKER = path.join(GPU_ROOT, 'transfer-lab-native.json');
// The CUDA wheels `tensorflow[and-cuda]` pulls, kept across builds (they are ~3 GB).
export const CUDA_WHEEL_DIR = path.join(CACHE_ROOT, 'cuda-wheels');

/** What one build reads and writes: the CPU build in node_modules, or the GPU build in GPU_ROOT. */
export function buildTarget(gpu) {
  if (!gpu) {
    const wheelPattern = /^tensorflow_cpu-.*\.whl$/;
    return {
      variant: 'cpu',
      pipSpec: TF_PIP_SPEC,
      wheelPattern,
      wheelName: 'tensorflow_cpu-2.21.0-*.whl',
      cacheDir: CACHE_DIR,
      pkgDir: PKG_DIR,
      modulePath: MODULE_PATH,
    };
  }
  const pkgDir = path.join(GPU_ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
  return {
    variant: 'gpu',
    pipSpec: `tensorflow==${TF_VERSION}`,
    // Wheel names spell the project with underscores: tensorflow-2.21.0-cp311-... (not tensorflow_cpu-).
    wheelPattern: new RegExp(`^tensorflow-${TF_VERSION.replace(/\./g, '\\.')}-.*\\.whl$`),
    wheelName: `tensorflow-${TF_VERSION}-*.whl`,
    cacheDir: path.join(CACHE_ROOT, `tensorflow-gpu-${TF_VERSION}-${process.platform}-${process.arch}`),
    pkgDir,
    modulePath: path.join(pkgDir, 'lib', `napi-v${NAPI_VERSION}`),
  };
}
