#!/usr/bin/env node
// Makes `require('@tensorflow/tfjs-node')` work from this project's node_modules, with
// `tf.getBackend() === 'tensorflow'`, on machines where tfjs-node's own install script
// cannot download libtensorflow (no internet besides the npm registry and a pip index).
//
//   node scripts/setup-native.mjs              (npm run setup:native) always rebuild
//   node scripts/setup-native.mjs --if-missing  only when tfjs-node does not load (cheap check)
//
// Recipe (checked by hand on the offline build machines): take libtensorflow_cc.so.2,
// libtensorflow_framework.so.2 and the C API headers from the tensorflow-cpu 2.21.0 wheel,
// put them in <tfjs-node>/deps/{lib,include}, apply scripts/native/tfjs-node-list-attrs.patch
// to the binding (fused convolutions) and build the addon with npm's bundled node-gyp.
//
// Environment:
//   TRANSFER_LAB_CACHE        cache folder (default ${XDG_CACHE_HOME:-~/.cache}/transfer-lab/native)
//   TRANSFER_LAB_TF_WHEEL     path of a pre-downloaded tensorflow_cpu-2.21.0-*.whl (not deleted)
//   TRANSFER_LAB_NO_STRIP=1   keep the libraries' symbol tables (strip saves ~215 MB)
//   TRANSFER_LAB_NATIVE_OPTIONAL=1  a failure prints the message but exits 0
//                             (the extension falls back to the wasm/cpu backends)
// Only Node built-ins; shells out to npm, python3 (pip, zipfile), strip, git apply (or
// patch), and node-gyp (g++, make). The steps live in scripts/native/, one module each.

import { CACHE_DIR, PKG_NAME, TF_VERSION } from './native/config.mjs';
import { buildAddon } from './native/build.mjs';
import { populateDeps } from './native/deps.mjs';
import { checkLoads } from './native/loadCheck.mjs';
import { ensurePackage } from './native/package.mjs';
import { patchBinding } from './native/patchBinding.mjs';
import { StepError, log, secs } from './native/step.mjs';
import { ensureCache } from './native/wheel.mjs';

const T0 = Date.now();
const IF_MISSING = process.argv.includes('--if-missing');
const OPTIONAL = process.env.TRANSFER_LAB_NATIVE_OPTIONAL === '1';

function main() {
  if (process.env.TFJS_NODE_CDN_STORAGE || process.env.TFJS_NODE_BASE_URI) {
    const set = ['TFJS_NODE_CDN_STORAGE', 'TFJS_NODE_BASE_URI'].filter((k) => process.env[k]).join(', ');
    log(
      `${set} set: the normal \`npm install\` path (tfjs-node's own install script, or \`npm rebuild ${PKG_NAME}\`) honours it and downloads libtensorflow from that mirror; this script builds offline and does not use it.`,
    );
  }
  if (IF_MISSING) {
    const c = checkLoads(false, 30_000);
    if (c.ok) {
      log(
        `${PKG_NAME} ${c.info.tfjsNode} loads (backend tensorflow${c.info.native ? `, TF ${c.info.native}` : ''}, fused convolution ${c.info.listAttrs ? 'available' : 'not available: rerun npm run setup:native for it'}); nothing to do (${secs(Date.now() - T0)})`,
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
      `Use the normal path: \`npm install\` / \`npm rebuild ${PKG_NAME}\` downloads a prebuilt libtensorflow (mirrors: TFJS_NODE_CDN_STORAGE, TFJS_NODE_BASE_URI).`,
    );
  }
  ensurePackage();
  ensureCache();
  populateDeps();
  patchBinding();
  buildAddon();
  const c = checkLoads(true, 120_000);
  if (!c.ok) {
    throw new StepError(
      'step 5 (verify: load tfjs-node, backend tensorflow, matMul)',
      c.reason || c.full,
      'Rerun `npm run setup:native`; if it fails again, delete the cache folder ' + CACHE_DIR + ' and node_modules/@tensorflow/tfjs-node, then rerun.',
    );
  }
  const i = c.info;
  log(
    `step 5: OK: tfjs ${i.tfjs}, tfjs-node ${i.tfjsNode}, libtensorflow ${i.native || TF_VERSION}, backend tensorflow, fused convolution ${i.listAttrs ? 'yes' : 'no'}; load ${i.loadMs} ms, tiny matMul ${i.tinyMatMulMs} ms, 512x512 matMul ${i.matMul512Ms} ms`,
  );
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
