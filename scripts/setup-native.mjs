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
// put them in <tfjs-node>/deps/{lib,include} and build the addon with npm's bundled node-gyp.
//
// Environment:
//   TRANSFER_LAB_CACHE        cache folder (default ${XDG_CACHE_HOME:-~/.cache}/transfer-lab/native)
//   TRANSFER_LAB_TF_WHEEL     path of a pre-downloaded tensorflow_cpu-2.21.0-*.whl (not deleted)
//   TRANSFER_LAB_NO_STRIP=1   keep the libraries' symbol tables (strip saves ~215 MB)
//   TRANSFER_LAB_NATIVE_OPTIONAL=1  a failure prints the message but exits 0
//                             (the extension falls back to the wasm/cpu backends)
// Only Node built-ins; shells out to npm, python3 (pip, zipfile), strip, and node-gyp (g++, make).

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const T0 = Date.now();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PKG_NAME = '@tensorflow/tfjs-node';
const PKG_DIR = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const TF_PIP_SPEC = 'tensorflow-cpu==2.21.0';
const TF_VERSION = '2.21.0';
const NAPI_VERSION = 8; // tfjs-node 4.22 lists napi_versions 3..8; node-pre-gyp picks 8 on Node >= 16
const MODULE_PATH = path.join(PKG_DIR, 'lib', `napi-v${NAPI_VERSION}`);
const LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
const CACHE_ROOT = process.env.TRANSFER_LAB_CACHE
  ? path.resolve(process.env.TRANSFER_LAB_CACHE)
  : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab', 'native');
const CACHE_DIR = path.join(CACHE_ROOT, `tensorflow-cpu-${TF_VERSION}-${process.platform}-${process.arch}`);
const LOG_DIR = path.join(CACHE_ROOT, 'logs');
const IF_MISSING = process.argv.includes('--if-missing');
const OPTIONAL = process.env.TRANSFER_LAB_NATIVE_OPTIONAL === '1';
// TensorFlow's C++ logging (CPU feature banner etc.) would drown the progress lines.
const CHILD_ENV = { ...process.env, TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' };

const log = (msg) => console.log(`[setup:native] ${msg}`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

class StepError extends Error {
  constructor(step, message, hint) {
    super(message);
    this.step = step;
    this.hint = hint;
  }
}

/** Runs a command, captures its output into LOG_DIR/<logName>.log; throws StepError on failure. */
function run(step, logName, cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? CHILD_ENV,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeout ?? 30 * 60 * 1000,
  });
  const out = `$ ${cmd} ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`;
  let logFile = '';
  try {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    logFile = path.join(LOG_DIR, `${logName}.log`);
    fs.writeFileSync(logFile, out);
  } catch {
    /* logging is best effort */
  }
  if (r.error || r.status !== 0) {
    if (opts.allowFail) return null;
    const why = r.error ? r.error.message : `exit code ${r.status}${r.signal ? ` (${r.signal})` : ''}`;
    const tail = out.trim().split('\n').slice(-15).join('\n');
    throw new StepError(step, `\`${cmd} ${args.join(' ')}\` failed: ${why}\n${tail}` + (logFile ? `\n(full log: ${logFile})` : ''), opts.hint);
  }
  return r;
}

// ---------------------------------------------------------------------------------------
// Load check (child process; also the --if-missing fast path)

const CHECK_SRC = `
const t0 = Date.now();
const tf = require(${JSON.stringify(PKG_DIR)});
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
console.log(JSON.stringify({ tfjs: tf.version.tfjs, tfjsNode: tf.version['tfjs-node'], native, loadMs, listAttrs, ...extra }));
`;

function checkLoads(withMatMul, timeoutMs) {
  const r = spawnSync(process.execPath, ['-e', CHECK_SRC, '--', ...(withMatMul ? ['--matmul'] : [])], {
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

// ---------------------------------------------------------------------------------------
// Step 1: the tfjs-node package and its dependencies

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function wantedVersion() {
  // The lockfile's exact version keeps `npm install --no-save` from changing anything else.
  try {
    const lock = readJson(path.join(ROOT, 'package-lock.json'));
    const v = lock.packages?.[`node_modules/${PKG_NAME}`]?.version;
    if (v) return v;
  } catch {
    /* no lockfile */
  }
  const pj = readJson(path.join(ROOT, 'package.json'));
  return pj.optionalDependencies?.[PKG_NAME] ?? pj.dependencies?.[PKG_NAME] ?? '4.22.0';
}

/** Names of tfjs-node's dependencies that do not resolve from its folder. */
function missingDeps() {
  const pj = readJson(path.join(PKG_DIR, 'package.json'));
  const missing = [];
  for (const dep of Object.keys(pj.dependencies ?? {})) {
    let dir = PKG_DIR;
    let found = false;
    // Node's resolution: <dir>/node_modules/<dep> walking up to ROOT.
    while (dir.startsWith(ROOT)) {
      if (fs.existsSync(path.join(dir, 'node_modules', dep, 'package.json'))) {
        found = true;
        break;
      }
      dir = path.dirname(dir);
    }
    if (!found) missing.push(dep);
  }
  return missing;
}

/** Top-level packages in node_modules that the lockfile does not know (npm install prunes them). */
function extraneousPackages() {
  let lock;
  try {
    lock = readJson(path.join(ROOT, 'package-lock.json')).packages ?? {};
  } catch {
    return [];
  }
  const nm = path.join(ROOT, 'node_modules');
  const out = [];
  for (const name of fs.readdirSync(nm)) {
    if (name.startsWith('.')) continue;
    const names = name.startsWith('@') ? fs.readdirSync(path.join(nm, name)).map((s) => `${name}/${s}`) : [name];
    for (const n of names) if (!lock[`node_modules/${n}`]) out.push(n);
  }
  return out;
}

function ensurePackage() {
  const step = 'step 1 (install @tensorflow/tfjs-node without its install script)';
  if (!fs.existsSync(path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs', 'package.json'))) {
    throw new StepError(step, 'node_modules/@tensorflow/tfjs is missing.', 'Run `npm install` (or `npm ci`) first.');
  }
  const version = wantedVersion();
  let reason = '';
  if (!fs.existsSync(path.join(PKG_DIR, 'package.json'))) {
    reason = 'absent (npm leaves the optional dependency out when its libtensorflow download fails)';
  } else {
    const have = readJson(path.join(PKG_DIR, 'package.json')).version;
    const missing = missingDeps();
    if (/^\d+\.\d+\.\d+$/.test(version) && have !== version) reason = `version ${have}, lockfile wants ${version}`;
    else if (missing.length) reason = `its dependencies are missing: ${missing.join(', ')}`;
  }
  if (!reason) {
    log(`step 1: ${PKG_NAME}@${readJson(path.join(PKG_DIR, 'package.json')).version} present with its dependencies`);
    return;
  }
  log(`step 1: ${PKG_NAME} ${reason}; installing ${PKG_NAME}@${version} with --no-save --ignore-scripts`);
  const extraneous = extraneousPackages();
  if (extraneous.length) {
    log(`  warning: npm install prunes packages the lockfile does not list; these will go: ${extraneous.join(', ')}`);
  }
  const t = Date.now();
  // --no-save: package.json and package-lock.json stay as they are (tfjs-node is already
  // in the lockfile, so npm only adds the missing lockfile entries).
  // --ignore-scripts: tfjs-node's install script would try to download libtensorflow.
  run(step, 'npm-install', 'npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${PKG_NAME}@${version}`], {
    hint: 'Check that the npm registry is reachable (npm config get registry).',
  });
  const still = fs.existsSync(path.join(PKG_DIR, 'package.json')) ? missingDeps() : ['@tensorflow/tfjs-node'];
  if (still.length) throw new StepError(step, `after npm install still missing: ${still.join(', ')}`, 'See the npm log.');
  log(`  installed in ${secs(Date.now() - t)}`);
}

// ---------------------------------------------------------------------------------------
// Step 2: libtensorflow + headers from the tensorflow-cpu wheel, cached across runs

const MANIFEST = path.join(CACHE_DIR, 'manifest.json');

function cacheValid() {
  try {
    const m = readJson(MANIFEST);
    for (const [rel, size] of Object.entries(m.files)) {
      if (fs.statSync(path.join(CACHE_DIR, rel)).size !== size) return false;
    }
    return m;
  } catch {
    return false;
  }
}

// Extracts from the wheel: the two libraries and the headers the addon's sources include
// (transitively, following #include "..." inside the wheel). That is ~20 headers (~100 KB),
// not the wheel's whole include/ tree (13,000 files, 268 MB) which the build never reads.
const EXTRACT_PY = String.raw`
import json, os, re, sys, zipfile
wheel, dest, binding_dir = sys.argv[1], sys.argv[2], sys.argv[3]
libs = json.loads(sys.argv[4])
z = zipfile.ZipFile(wheel)
names = set(z.namelist())
inc_prefix = 'tensorflow/include/'
pat = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)
todo = []
for f in sorted(os.listdir(binding_dir)):
    if f.endswith(('.cc', '.h')):
        todo += pat.findall(open(os.path.join(binding_dir, f), encoding='utf-8', errors='replace').read())
seen = set()
while todo:
    h = os.path.normpath(todo.pop())
    if h in seen or inc_prefix + h not in names:
        continue
    seen.add(h)
    todo += pat.findall(z.read(inc_prefix + h).decode('utf-8', 'replace'))
if 'tensorflow/c/c_api.h' not in seen or 'tensorflow/c/eager/c_api.h' not in seen:
    sys.exit('the wheel has no tensorflow/include/tensorflow/c/{c_api.h,eager/c_api.h}')
files = {}
for h in sorted(seen):
    out = os.path.join(dest, 'include', h)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, 'wb') as fh:
        fh.write(z.read(inc_prefix + h))
    files['include/' + h] = os.path.getsize(out)
os.makedirs(os.path.join(dest, 'lib'), exist_ok=True)
for lib in libs:
    member = 'tensorflow/' + lib
    if member not in names:
        sys.exit('the wheel has no ' + member)
    out = os.path.join(dest, 'lib', lib)
    with z.open(member) as src, open(out, 'wb') as fh:
        while True:
            b = src.read(1 << 22)
            if not b:
                break
            fh.write(b)
    files['lib/' + lib] = os.path.getsize(out)
print(json.dumps(files))
`;

function findWheel(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => /^tensorflow_cpu-.*\.whl$/.test(f))
    .map((f) => path.join(dir, f))[0];
}

function downloadWheel(step, dir) {
  const base = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', dir];
  const hint =
    'pip needs an index with tensorflow-cpu 2.21.0 (check `python3 -m pip config list`), ' +
    'or download the wheel elsewhere and set TRANSFER_LAB_TF_WHEEL=/path/to/tensorflow_cpu-2.21.0-*.whl.';
  // The libraries do not depend on the Python version, so when there is no wheel for this
  // python3, ask for the cp311 manylinux one explicitly.
  const r = run(step, 'pip-download', 'python3', [...base, TF_PIP_SPEC], { allowFail: true, hint });
  if (!r || !findWheel(dir)) {
    log('  no wheel for this python3; retrying for cp311 manylinux_2_27_x86_64');
    run(
      step,
      'pip-download-cp311',
      'python3',
      [
        ...base,
        '--python-version',
        '3.11',
        '--implementation',
        'cp',
        '--abi',
        'cp311',
        '--platform',
        'manylinux_2_27_x86_64',
        '--platform',
        'manylinux2014_x86_64',
        TF_PIP_SPEC,
      ],
      { hint },
    );
  }
  const whl = findWheel(dir);
  if (!whl) throw new StepError(step, `pip reported success but ${dir} holds no tensorflow_cpu wheel`, hint);
  return whl;
}

function ensureCache() {
  const step = 'step 2 (TensorFlow libraries from the tensorflow-cpu wheel)';
  const cached = cacheValid();
  if (cached) {
    log(`step 2: using cached libtensorflow ${TF_VERSION} in ${CACHE_DIR}${cached.stripped ? ' (stripped)' : ''}`);
    return cached;
  }
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  // Work in a fresh folder and rename it into place at the end: an interrupted run never
  // leaves a half-written cache, and files hard-linked from an older cache are not touched.
  const work = fs.mkdtempSync(path.join(CACHE_ROOT, '.work-'));
  try {
    let wheel = process.env.TRANSFER_LAB_TF_WHEEL;
    const t = Date.now();
    if (wheel) {
      wheel = path.resolve(wheel);
      if (!fs.existsSync(wheel)) throw new StepError(step, `TRANSFER_LAB_TF_WHEEL=${wheel} does not exist`, 'Fix or unset TRANSFER_LAB_TF_WHEEL.');
      if (!path.basename(wheel).includes(`-${TF_VERSION}-`))
        log(`  warning: ${path.basename(wheel)} is not TensorFlow ${TF_VERSION}; the checked recipe is ${TF_PIP_SPEC}`);
      log(`step 2: using wheel from TRANSFER_LAB_TF_WHEEL: ${wheel}`);
    } else {
      log(`step 2: pip download ${TF_PIP_SPEC} (~275 MB) ...`);
      const dl = path.join(work, 'download');
      fs.mkdirSync(dl);
      wheel = downloadWheel(step, dl);
      log(`  downloaded ${path.basename(wheel)} (${(fs.statSync(wheel).size / 1e6).toFixed(0)} MB) in ${secs(Date.now() - t)}`);
    }
    const t2 = Date.now();
    const out = path.join(work, 'out');
    const r = run(step, 'extract', 'python3', ['-c', EXTRACT_PY, wheel, out, path.join(PKG_DIR, 'binding'), JSON.stringify(LIBS)], {
      hint: 'The wheel may be damaged: delete it / unset TRANSFER_LAB_TF_WHEEL and rerun.',
    });
    const files = JSON.parse(r.stdout.trim().split('\n').pop());
    let stripped = false;
    if (process.env.TRANSFER_LAB_NO_STRIP !== '1') {
      // The wheel's libraries carry full symbol tables (.symtab); the dynamic linker only
      // needs .dynsym, so `strip --strip-unneeded` is safe and cuts 850 MB to ~635 MB.
      stripped = true;
      for (const lib of LIBS) {
        const f = path.join(out, 'lib', lib);
        const ok = run(step, `strip-${lib}`, 'strip', ['--strip-unneeded', '-o', `${f}.stripped`, f], { allowFail: true });
        if (ok) {
          fs.renameSync(`${f}.stripped`, f);
          files[`lib/${lib}`] = fs.statSync(f).size;
        } else {
          fs.rmSync(`${f}.stripped`, { force: true });
          stripped = false;
        }
      }
      if (!stripped) log('  note: `strip` unavailable or failed; keeping unstripped libraries');
    }
    for (const lib of LIBS) fs.chmodSync(path.join(out, 'lib', lib), 0o755);
    const manifest = { tensorflow: TF_VERSION, wheel: path.basename(wheel), stripped, files, created: new Date().toISOString() };
    fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const old = `${CACHE_DIR}.old-${process.pid}`;
    if (fs.existsSync(CACHE_DIR)) fs.renameSync(CACHE_DIR, old);
    fs.renameSync(out, CACHE_DIR);
    fs.rmSync(old, { recursive: true, force: true });
    const mb =
      Object.entries(files)
        .filter(([k]) => k.startsWith('lib/'))
        .reduce((s, [, v]) => s + v, 0) / 1e6;
    log(
      `  extracted ${Object.keys(files).length - LIBS.length} headers + ${LIBS.length} libraries (${mb.toFixed(0)} MB${stripped ? ', stripped' : ''}) in ${secs(Date.now() - t2)}`,
    );
    return manifest;
  } finally {
    // Removes the downloaded wheel too (never a TRANSFER_LAB_TF_WHEEL file: that is outside `work`).
    fs.rmSync(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Step 3: <tfjs-node>/deps/{include,lib}

/**
 * deps/lib gets hard links to the cached libraries when the cache is on the same file system,
 * else copies: either way node_modules (and so the extension folder) keeps working when the
 * cache is deleted, `npm ci` wipes only its own copy, and no space is used twice in the common
 * case. Absolute symlinks into the cache would break the folder as soon as it is moved,
 * packaged, or the cache is cleaned. The cache files are never rewritten in place (a new
 * cache is renamed over the old one), so a hard link cannot be changed behind our back.
 *
 * The unversioned names (libtensorflow.so, libtensorflow_framework.so) are only read by the
 * linker (-ltensorflow, -ltensorflow_framework); they are relative symlinks inside deps/lib.
 * At run time the addon needs libtensorflow_cc.so.2 and libtensorflow_framework.so.2 (its
 * DT_NEEDED entries, found through its rpath $ORIGIN/../../deps/lib).
 */
function populateDeps() {
  const step = 'step 3 (populate deps/include and deps/lib)';
  try {
    const deps = path.join(PKG_DIR, 'deps');
    const tmp = path.join(PKG_DIR, `deps.tmp-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(path.join(CACHE_DIR, 'include'), path.join(tmp, 'include'), { recursive: true });
    fs.mkdirSync(path.join(tmp, 'lib'));
    let linked = 0;
    for (const lib of LIBS) {
      const src = path.join(CACHE_DIR, 'lib', lib);
      const dst = path.join(tmp, 'lib', lib);
      try {
        fs.linkSync(src, dst);
        linked++;
      } catch {
        fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE);
        fs.chmodSync(dst, 0o755);
      }
    }
    fs.symlinkSync('libtensorflow_cc.so.2', path.join(tmp, 'lib', 'libtensorflow.so'));
    fs.symlinkSync('libtensorflow_framework.so.2', path.join(tmp, 'lib', 'libtensorflow_framework.so'));
    // Replace the whole folder (it may hold libtensorflow 2.9.1 from tfjs-node's own installer).
    fs.rmSync(deps, { recursive: true, force: true });
    fs.renameSync(tmp, deps);
    const mb = LIBS.reduce((s, l) => s + fs.statSync(path.join(deps, 'lib', l)).size, 0) / 1e6;
    log(
      `step 3: deps/lib ready (${mb.toFixed(0)} MB, ${linked === LIBS.length ? 'hard links to the cache' : linked ? 'partly hard links, partly copies' : 'copies'}), deps/include ready`,
    );
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw new StepError(step, e.message, `Check free disk space and write access to ${PKG_DIR}.`);
  }
}

// ---------------------------------------------------------------------------------------
// Step 4: build the addon with npm's bundled node-gyp

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) {
    candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  // The real location of the `npm` on PATH (e.g. /usr/bin/npm -> /usr/lib/node_modules/npm/bin/npm-cli.js).
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const npm = path.join(dir, 'npm');
    if (!dir || !fs.existsSync(npm)) continue;
    try {
      const real = fs.realpathSync(npm);
      candidates.push(path.join(path.dirname(real), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
      candidates.push(path.join(path.dirname(real), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
    } catch {
      /* dangling */
    }
    break;
  }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find((c) => c.endsWith('.js') && fs.existsSync(c));
  if (found) return path.resolve(found);
  const r = spawnSync('npm', ['prefix', '-g'], { encoding: 'utf8' });
  const viaPrefix = r.status === 0 && path.join(r.stdout.trim(), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return viaPrefix && fs.existsSync(viaPrefix) ? viaPrefix : null;
}

/** A folder whose include/node has this Node's headers, so node-gyp need not download them. */
function findNodeDir() {
  for (const prefix of [path.resolve(path.dirname(process.execPath), '..'), '/usr']) {
    if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) return prefix;
  }
  return null; // node-gyp's default: its header cache, or a download from nodejs.org
}

// ---------------------------------------------------------------------------------------
// Step 3b: let the binding pass lists of strings and types as op attributes
//
// tfjs-node can run any TensorFlow op by name, but its binding only accepts single strings
// and types as attributes. TensorFlow's fused convolution (_FusedConv2D: conv + bias + ReLU6
// in one kernel) needs `fused_ops` (a string list) and `TArgs` (a type list). Two small
// additions to binding/tfjs_backend.cc (marked) allow them; everything else is unchanged. A
// binding without them (tfjs-node's prebuilt one) still works: the engine probes for the
// fused op and otherwise uses tf.fused ops (engine/inferencePlan.ts).

const PATCH_MARK = 'Patched in by Transfer Lab';
const LIST_PATCHES = [
  {
    anchor: `    case TF_ATTR_STRING: {
      // NOTE: String attribute values do not have to be utf8 encoded strings
      // (could be arbitrary byte sequences).
`,
    insert: `      if (IsArray(env, nstatus, &js_value)) {
        // A list of strings (e.g. _FusedConv2D's fused_ops). ${PATCH_MARK}.
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<std::string> strs(length);
        std::vector<const void *> ptrs(length);
        std::vector<size_t> lens(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = GetStringParam(env, element, strs[i]);
          ENSURE_NAPI_OK(env, nstatus);
          ptrs[i] = strs[i].data();
          lens[i] = strs[i].size();
        }
        TFE_OpSetAttrStringList(tfe_op, attr_name, ptrs.data(), lens.data(), static_cast<int>(length));
        break;
      }
`,
  },
  {
    anchor: `    case TF_ATTR_TYPE: {
`,
    insert: `      if (IsArray(env, nstatus, &js_value)) {
        // A list of types (e.g. _FusedConv2D's TArgs). ${PATCH_MARK}.
        uint32_t length;
        nstatus = napi_get_array_length(env, js_value, &length);
        ENSURE_NAPI_OK(env, nstatus);
        std::vector<TF_DataType> types(length);
        for (uint32_t i = 0; i < length; ++i) {
          napi_value element;
          nstatus = napi_get_element(env, js_value, i, &element);
          ENSURE_NAPI_OK(env, nstatus);
          nstatus = napi_get_value_int32(env, element, reinterpret_cast<int32_t *>(&types[i]));
          ENSURE_NAPI_OK(env, nstatus);
        }
        TFE_OpSetAttrTypeList(tfe_op, attr_name, types.data(), static_cast<int>(length));
        break;
      }
`,
  },
];

function patchBinding() {
  const file = path.join(PKG_DIR, 'binding', 'tfjs_backend.cc');
  let src = fs.readFileSync(file, 'utf8');
  if (src.includes(PATCH_MARK)) return log('step 3b: binding already accepts list attributes');
  if (!LIST_PATCHES.every((p) => src.includes(p.anchor))) {
    return log('step 3b: this tfjs-node binding differs from 4.22; list attributes not added (fused convolutions fall back to tf.fused ops)');
  }
  for (const p of LIST_PATCHES) src = src.replace(p.anchor, p.anchor + p.insert);
  if (!src.includes('#include <vector>')) src = src.replace('#include <string>', '#include <string>\n#include <vector>');
  fs.writeFileSync(file, src);
  log("step 3b: binding patched to accept list attributes (for TensorFlow's fused convolution)");
}

function buildAddon() {
  const step = 'step 4 (build the tfjs_binding addon with node-gyp)';
  const gyp = findNodeGyp();
  if (!gyp) throw new StepError(step, "npm's bundled node-gyp was not found", 'Install node-gyp (`npm i -g node-gyp`) or use an npm that bundles it.');
  const missingTools = ['make', 'g++', 'python3'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missingTools.length) {
    throw new StepError(step, `missing build tools: ${missingTools.join(', ')}`, 'On Debian/Ubuntu: apt-get install build-essential python3');
  }
  const nodedir = findNodeDir();
  const args = [gyp, 'rebuild', `--module_name=tfjs_binding`, `--module_path=${MODULE_PATH}`, `--napi_build_version=${NAPI_VERSION}`];
  if (nodedir) args.push(`--nodedir=${nodedir}`);
  log(`step 4: node-gyp rebuild (${path.relative(ROOT, gyp).startsWith('..') ? gyp : path.relative(ROOT, gyp)}${nodedir ? `, --nodedir=${nodedir}` : ''}) ...`);
  fs.rmSync(MODULE_PATH, { recursive: true, force: true });
  const t = Date.now();
  run(step, 'node-gyp', process.execPath, args, {
    cwd: PKG_DIR,
    hint: nodedir
      ? 'See the log; a C++ compiler error usually means the headers in deps/include do not match.'
      : 'Node headers were not found locally and node-gyp may have failed to download them: install the Node dev headers (e.g. Debian nodejs-dev / libnode-dev) or pass a nodedir.',
  });
  const bin = path.join(MODULE_PATH, 'tfjs_binding.node');
  if (!fs.existsSync(bin)) throw new StepError(step, `node-gyp succeeded but ${bin} is missing`, 'See the node-gyp log.');
  // The object files are not needed at run time (tfjs_binding.node is copied to lib/napi-v8).
  fs.rmSync(path.join(PKG_DIR, 'build'), { recursive: true, force: true });
  log(`  built ${path.relative(ROOT, bin)} in ${secs(Date.now() - t)}`);
}

// ---------------------------------------------------------------------------------------

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
