// CPU or GPU build of native TensorFlow, with the reason for each case; then for real: a GPU
// build that fails to load falls back to the CPU build and says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseNativeBuild, decideNativeDevice, findGpuBuild, gpuLoadFailed, GPU_BUILD_FOLDER } from '../../src/engine/nativeDeviceChoice';
import type { CudaDetection, CudaProbe } from '../../src/engine/cudaDevices';
import { describeEnvironment, loadBackend } from '../../src/engine/backend';
import { describeBackend } from '../../src/core/protocol';
import { describeNativeDevice, formatNativeDevice } from '../../src/core/nativeDevice';

const installRoot = path.resolve(__dirname, '../../..');
const H200 = { index: 0, name: 'NVIDIA H200', memoryMB: 143771, uuid: 'GPU-1c2d' };
const seen: CudaDetection = { visible: [H200], present: [H200], source: 'nvidia-smi' };
const hidden: CudaDetection = { visible: [], present: [H200], source: 'nvidia-smi', noneBecause: 'CUDA_VISIBLE_DEVICES=-1, hiding the one GPU' };
const noGpu: CudaDetection = { visible: [], present: [], source: 'none', noneBecause: 'no NVIDIA GPU found' };
const SET_BY = 'transferLab.nativeDevice';

test('auto: the GPU build only when it is installed and a CUDA device is visible, each time with why', () => {
  assert.deepEqual(chooseNativeBuild('auto', '/r/native-gpu', seen, SET_BY), {
    build: 'gpu',
    reason: 'GPU build installed and a CUDA device is visible: NVIDIA H200 (140 GiB)',
    cpuOnFailure: true,
  });
  assert.deepEqual(chooseNativeBuild('auto', '/r/native-gpu', hidden, SET_BY), {
    build: 'cpu',
    reason: 'GPU build installed but no CUDA device is visible (CUDA_VISIBLE_DEVICES=-1, hiding the one GPU): using the CPU build',
    cpuOnFailure: false,
  });
  assert.equal(chooseNativeBuild('auto', undefined, noGpu, SET_BY).reason, 'no GPU build installed');
  assert.match(
    chooseNativeBuild('auto', undefined, seen, SET_BY).reason,
    /a CUDA device is visible \(NVIDIA H200 \(140 GiB\)\) but no GPU build is installed: run `npm run setup:native -- --gpu`/,
  );
  assert.equal(chooseNativeBuild('auto', undefined, seen, SET_BY).build, 'cpu');
});

test('forced: cpu always; gpu without the build is an error saying what to do, with it no CPU fallback', () => {
  assert.deepEqual(chooseNativeBuild('cpu', '/r/native-gpu', seen, '--device'), {
    build: 'cpu',
    reason: '--device is "cpu": using the CPU build',
    cpuOnFailure: false,
  });
  const missing = chooseNativeBuild('gpu', undefined, seen, SET_BY);
  assert.equal(missing.build, 'none');
  assert.match(
    missing.reason,
    /transferLab.nativeDevice is "gpu" but no GPU build is installed: in a clone run `npm run setup:native -- --gpu`.*or set transferLab.nativeDevice to "auto"/,
  );
  const forced = chooseNativeBuild('gpu', '/r/native-gpu', noGpu, SET_BY);
  assert.equal(forced.build, 'gpu');
  assert.equal(forced.cpuOnFailure, false);
  assert.match(forced.reason, /no CUDA device is visible \(no NVIDIA GPU found\), so TensorFlow may run on the CPU/);
  assert.equal(
    gpuLoadFailed('libcudart.so.12: cannot open shared object file\n  at dlopen'),
    'the GPU build failed to load: libcudart.so.12: cannot open shared object file; using the CPU build',
  );
});

test('the one-line description says the GPU in use, or why not where a GPU came into it', () => {
  const base = { requested: 'auto' as const, devices: [H200] };
  assert.equal(describeNativeDevice({ ...base, build: 'gpu', reason: 'r', gpuBuild: '/g', usingGpu: true }), ', GPU NVIDIA H200 (140 GiB)');
  assert.match(describeNativeDevice({ ...base, build: 'gpu', reason: 'r', gpuBuild: '/g', usingGpu: false }), /TensorFlow found no GPU and runs on the CPU/);
  assert.equal(describeNativeDevice({ ...base, build: 'cpu', reason: 'why', gpuBuild: '/g' }), ', CPU build (why)');
  assert.equal(describeNativeDevice({ requested: 'auto', devices: [], build: 'cpu', reason: 'no GPU build installed' }), '');
  const lines = formatNativeDevice({ ...base, build: 'gpu', reason: 'because', gpuBuild: '/g', usingGpu: true });
  assert.deepEqual(lines, [
    'Native build:       gpu: because',
    '  CUDA device 0:    NVIDIA H200 (140 GiB) GPU-1c2d',
    '  TensorFlow GPU:   yes, ops run on the GPU',
    '  GPU build:        /g',
  ]);
});

/** A root holding a GPU build whose tfjs-node throws what a missing CUDA library looks like. */
function brokenGpuBuild(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-gpu-'));
  const gpu = path.join(root, GPU_BUILD_FOLDER);
  const pkg = path.join(gpu, 'node_modules', '@tensorflow', 'tfjs-node');
  fs.mkdirSync(path.join(pkg, 'lib', 'napi-v8'), { recursive: true });
  fs.writeFileSync(path.join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
  fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', version: '4.22.0', main: 'index.js' }));
  fs.writeFileSync(
    path.join(pkg, 'index.js'),
    "throw new Error('libcudnn.so.9: cannot open shared object file: No such file or directory\\n  at Module._extensions');",
  );
  fs.writeFileSync(path.join(gpu, 'transfer-lab-native.json'), JSON.stringify({ variant: 'gpu' }));
  return root;
}

const oneGpu: CudaProbe = { nvidiaSmi: () => '0, NVIDIA H200, 143771, GPU-1c2d\n', listDir: () => [], readFile: () => undefined };

test('a GPU build is found only when complete; nvidia-smi is not run for CPU-only users', () => {
  const root = brokenGpuBuild();
  assert.equal(findGpuBuild(['/nowhere', root]), path.join(root, GPU_BUILD_FOLDER));
  fs.rmSync(path.join(root, GPU_BUILD_FOLDER, 'transfer-lab-native.json'));
  assert.equal(findGpuBuild([root]), undefined);
  let calls = 0;
  const counting: CudaProbe = { ...oneGpu, nvidiaSmi: () => (calls++, undefined) };
  assert.equal(decideNativeDevice('auto', [root], {}, counting, SET_BY).choice.reason, 'no GPU build installed');
  assert.equal(calls, 0);
  fs.rmSync(root, { recursive: true });
});

test('for real: a GPU build that fails to load falls back to the CPU build with the first line of the error', async (t) => {
  const root = brokenGpuBuild();
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  await assert.rejects(
    loadBackend({ preference: 'tensorflow', installRoot, nativeBackendPath: root, nativeDevice: 'gpu', cudaProbe: oneGpu }),
    /tensorflow: the GPU build in .*native-gpu failed to load: libcudnn.so.9: cannot open shared object file/,
  );
  let loaded;
  try {
    loaded = await loadBackend({ preference: 'tensorflow', installRoot, nativeBackendPath: root, cudaProbe: oneGpu });
  } catch (e) {
    if (process.env.CI === 'true') throw e;
    return t.skip(`the CPU build of native TensorFlow is not set up here (${(e as Error).message.slice(0, 200)})`);
  }
  const report = describeEnvironment(loaded, 'tensorflow');
  assert.equal(report.nativeDevice?.build, 'cpu');
  assert.equal(
    report.nativeDevice?.reason,
    'the GPU build failed to load: libcudnn.so.9: cannot open shared object file: No such file or directory; using the CPU build',
  );
  assert.deepEqual(
    report.nativeDevice?.devices.map((d) => d.name),
    ['NVIDIA H200'],
  );
  assert.match(describeBackend(report), /^backend tensorflow .*, CPU build \(the GPU build failed to load: libcudnn.so.9/);
  const hiddenLoad = await loadBackend({
    preference: 'tensorflow',
    installRoot,
    nativeBackendPath: root,
    cudaProbe: oneGpu,
    nativeDevice: 'cpu',
    nativeDeviceSetBy: '--device',
  });
  assert.equal(hiddenLoad.nativeDevice?.reason, '--device is "cpu": using the CPU build');
});
