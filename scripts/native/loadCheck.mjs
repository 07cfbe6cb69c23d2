// Whether tfjs-node loads with the tensorflow backend, checked in a child process (a broken
// binding can crash the process that loads it). The --if-missing fast path and step 5 use it.

import { spawnSync } from 'node:child_process';
import { CHILD_ENV, PKG_DIR, ROOT } from './config.mjs';

const checkSource = (pkgDir) => `
const t0 = Date.now();
const tf = require(${JSON.stringify(pkgDir)});
const loadMs = Date.now() - t0;
const backend = tf.getBackend();
if (backend !== 'tensorflow') { console.error('getBackend() is ' + backend); process.exit(3); }
let extra = {};
if (process.argv.includes('--matmul')) {
  const t1 = Date.now();
  const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();
  if (Array.from(c).join(',') !== '19,22,43,50') { console.error('matMul gave ' + Array.from(c)); process.exit(4); }
  const big = tf.randomNormal([512, 512]);
  const t2 = Date.now();
  tf.matMul(big, big).dataSync();
  extra = { tinyMatMulMs: t2 - t1, matMul512Ms: Date.now() - t2 };
}
let native = '';
try { native = tf.backend().binding.TF_Version || ''; } catch {}
// Whether the binding passes list attributes (step 3b): the same probe the engine makes.
let listAttrs = false;
try {
  const b = tf.backend(), n = b.binding;
  const x = tf.ones([1, 1, 1, 1]);
  b.executeSingleOutput('_FusedConv2D', [
    { name: 'T', type: n.TF_ATTR_TYPE, value: n.TF_FLOAT }, { name: 'num_args', type: n.TF_ATTR_INT, value: 1 },
    { name: 'TArgs', type: n.TF_ATTR_TYPE, value: [n.TF_FLOAT] }, { name: 'num_host_args', type: n.TF_ATTR_INT, value: 0 },
    { name: 'strides', type: n.TF_ATTR_INT, value: [1, 1, 1, 1] }, { name: 'padding', type: n.TF_ATTR_STRING, value: 'VALID' },
    { name: 'fused_ops', type: n.TF_ATTR_STRING, value: ['BiasAdd'] },
  ], [x, x, tf.ones([1])]).dataSync();
  listAttrs = true;
} catch {}
const usingGpu = !!tf.backend().isUsingGpuDevice;
console.log(JSON.stringify({ tfjs: tf.version.tfjs, tfjsNode: tf.version['tfjs-node'], native, loadMs, listAttrs, usingGpu, ...extra }));
`;

/** `pkgDir`: the tfjs-node to check (the CPU build's by default). */
export function checkLoads(withMatMul, timeoutMs, pkgDir = PKG_DIR) {
  const r = spawnSync(process.execPath, ['-e', checkSource(pkgDir), '--', ...(withMatMul ? ['--matmul'] : [])], {
    cwd: ROOT,
    env: CHILD_ENV,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.status === 0) {
    try {
      return { ok: true, info: JSON.parse(r.stdout.trim().split('\n').pop()) };
    } catch {
      /* fall through */
    }
  }
  const err = (r.error?.message ?? '') + (r.stderr ?? '') + (r.stdout ?? '');
  const firstLine = err.split('\n').find((l) => /Error|error|cannot|getBackend|matMul/.test(l)) ?? err.split('\n')[0];
  return { ok: false, reason: (r.signal ? `killed by ${r.signal} (timeout?) ` : '') + (firstLine ?? '').trim(), full: err };
}
