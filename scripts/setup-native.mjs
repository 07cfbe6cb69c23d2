#!/usr/bin/env node
// Makes `require('@tensorflow/tfjs-node')` work from this project's node_modules, with
// `tf.getBackend() === 'tensorflow'`, on machines where tfjs-node's own install script
// cannot download libtensorflow (no internet besides the npm registry and a pip index).
//
//   node scripts/setup-native.mjs              (npm run setup:native) always rebuild
//   node scripts/setup-native.mjs --if-missing  only when tfjs-node does not load (cheap check)
//   node scripts/setup-native.mjs --gpu         the GPU build, from the `tensorflow` 2.21.0 wheel and
//                                              its nvidia-*-cu12 CUDA wheels, into native-gpu/ (Linux
//                                              x86-64); the CPU build stays. Add --system-cuda to use
//                                              the system's CUDA 12 / cuDNN 9 instead of the wheels.
//
// Recipe (checked by hand on the offline build machines): take libtensorflow_cc.so.2,
// libtensorflow_framework.so.2 and the C API headers from the tensorflow-cpu 2.21.0 wheel,
// put them in <tfjs-node>/deps/{lib,include}, apply scripts/native/tfjs-node-list-attrs.patch
// to the binding (fused convolutions) and build the addon with npm's bundled node-gyp.
//
// Environment:
//   TRANSFER_LAB_CACHE        cache folder (default ${XDG_CACHE_HOME:-~/.cache}/transfer-lab/native)
//   TRANSFER_LAB_TF_WHEEL     path of a pre-downloaded tensorflow_cpu-2.21.0-*.whl (not deleted);
//                             with --gpu a tensorflow-2.21.0-*.whl
//   TRANSFER_LAB_CUDA_WHEELS  with --gpu: a folder holding the nvidia-*-cu12 wheels (offline)
//   TRANSFER_LAB_NO_STRIP=1   keep the libraries' symbol tables (strip saves ~215 MB)
//   TRANSFER_LAB_NATIVE_OPTIONAL=1  a failure prints the message but exits 0
//                             (the extension falls back to the wasm/cpu backends)
// Only Node built-ins; shells out to npm, python3 (pip, zipfile), strip, git apply (or
// patch), and node-gyp (g++, make). The steps live in scripts/native/, one module each.

import fs from 'node:fs';
import path from 'node:path';
import { GPU_ROOT, PKG_NAME, TF_VERSION, buildTarget } from './native/config.mjs';
import { buildAddon } from './native/build.mjs';
import { populateDeps } from './native/deps.mjs';
import { markGpuBuild, stageGpuPackage } from './native/gpuPackage.mjs';
import { checkLoads } from './native/loadCheck.mjs';
import { parseSetupOptions } from './native/options.mjs';
import { ensurePackage } from './native/package.mjs';
import { patchBinding } from './native/patchBinding.mjs';
import { StepError, log, secs } from './native/step.mjs';
import { ensureCache } from './native/wheel.mjs';

const T0 = Date.now();
let OPTIONAL = process.env.TRANSFER_LAB_NATIVE_OPTIONAL === '1';

function main() {
  const opts = parseSetupOptions(process.argv.slice(2), process.env);
  OPTIONAL = opts.optional;
  const target = buildTarget(opts.gpu);
  const IF_MISSING = opts.ifMissing;
  if (process.env.TFJS_NODE_CDN_STORAGE || process.env.TFJS_NODE_BASE_URI) {
    const set = ['TFJS_NODE_CDN_STORAGE', 'TFJS_NODE_BASE_URI'].filter((k) => process.env[k]).join(', ');
    log(
      `${set} set: the normal \`npm install\` path (tfjs-node's own install script, or \`npm rebuild ${PKG_NAME}\`) honours it and downloads libtensorflow from that mirror; this script builds offline and does not use it.`,
    );
  }
  if (IF_MISSING) {
    const c =
      opts.gpu && !fs.existsSync(path.join(GPU_ROOT, 'transfer-lab-native.json'))
        ? { ok: false, reason: 'no GPU build yet' }
        : checkLoads(false, 30_000, target.pkgDir);
    if (c.ok) {
      log(
        `${opts.gpu ? `the GPU build (${GPU_ROOT}): ` : ''}${PKG_NAME} ${c.info.tfjsNode} loads (backend tensorflow${c.info.native ? `, TF ${c.info.native}` : ''}, fused convolution ${c.info.listAttrs ? 'available' : 'not available: rerun npm run setup:native for it'}); nothing to do (${secs(Date.now() - T0)})`,
      );
      return 0;
    }
    log(`${PKG_NAME} does not load: ${c.reason || 'unknown error'}`);
    log('building it offline ...');
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new StepError(
      'platform check',
      `the offline build recipe is for linux-x64 only (this is ${process.platform}-${process.arch})`,
      opts.gpu
        ? 'The GPU build is for Linux x86-64 with an NVIDIA GPU; elsewhere use the CPU build (`npm run setup:native`).'
        : `Use the normal path: \`npm install\` / \`npm rebuild ${PKG_NAME}\` downloads a prebuilt libtensorflow (mirrors: TFJS_NODE_CDN_STORAGE, TFJS_NODE_BASE_URI).`,
    );
  }
  ensurePackage();
  // The wheels first: when pip cannot get them, nothing has been written outside the cache.
  const manifest = ensureCache(target, opts);
  if (opts.gpu) stageGpuPackage(target);
  populateDeps(target);
  patchBinding(target);
  buildAddon(target);
  const c = checkLoads(true, 120_000, target.pkgDir);
  if (!c.ok) {
    throw new StepError(
      'step 5 (verify: load tfjs-node, backend tensorflow, matMul)',
      c.reason || c.full,
      `Rerun \`npm run setup:native${opts.gpu ? ' -- --gpu' : ''}\`; if it fails again, delete the cache folder ${target.cacheDir} and ${opts.gpu ? GPU_ROOT : 'node_modules/@tensorflow/tfjs-node'}, then rerun.`,
    );
  }
  if (opts.gpu) markGpuBuild(target, manifest);
  const i = c.info;
  log(
    `step 5: OK: tfjs ${i.tfjs}, tfjs-node ${i.tfjsNode}, libtensorflow ${i.native || TF_VERSION}, backend tensorflow, fused convolution ${i.listAttrs ? 'yes' : 'no'}${opts.gpu ? `, TensorFlow ${i.usingGpu ? 'found a GPU' : 'found NO GPU here (it runs on the CPU; the trainer uses this build only where a CUDA device is visible)'}` : ''}; load ${i.loadMs} ms, tiny matMul ${i.tinyMatMulMs} ms, 512x512 matMul ${i.matMul512Ms} ms`,
  );
  if (opts.gpu) log(`the GPU build is in ${GPU_ROOT}; the CPU build stays in node_modules (transferLab.nativeDevice / --device picks)`);
  log(`done in ${secs(Date.now() - T0)}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  const step = e instanceof StepError ? e.step : 'unexpected error';
  console.error(`[setup:native] FAILED at ${step}: ${e.message}`);
  if (e.hint) console.error(`[setup:native] what to do: ${e.hint}`);
  if (!(e instanceof StepError)) console.error(e.stack);
  console.error(`[setup:native] (after ${secs(Date.now() - T0)})`);
  if (OPTIONAL) {
    console.error('[setup:native] TRANSFER_LAB_NATIVE_OPTIONAL=1: continuing without the native backend (wasm/cpu remain).');
    process.exitCode = 0;
  } else {
    process.exitCode = 1;
  }
}
