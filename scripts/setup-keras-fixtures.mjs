#!/usr/bin/env node
// Real Keras models of every Keras Applications family, saved by Keras itself in every
// format users have, with Keras's own outputs to compare against: the test fixtures of
// the Keras readers (test/support/kerasFixtures.ts loads them).
//
//   node scripts/setup-keras-fixtures.mjs               make them unless already made; print the folder
//   node scripts/setup-keras-fixtures.mjs --if-missing  the same, but when the folder exists return at
//                                                       once (no Python check): pretest and .ci/run
//   node scripts/setup-keras-fixtures.mjs --force       make them again
//
// The folder is ${XDG_CACHE_HOME:-~/.cache}/transfer-lab/keras-fixtures/<hash>/, <hash> being
// that of the files in scripts/keras-fixtures/ (the generator and its pinned requirements; not
// the verify_* checks):
// changing the generator makes a new folder; the previous one is kept, older ones removed.
// Written to a temporary sibling and renamed into place, so a folder that exists is complete.
// Takes about 3 minutes on 2 cores and about 6 GB of disk.
//
// Python: the Keras venv the bench uses, ${XDG_CACHE_HOME:-~/.cache}/transfer-lab/bench/keras-venv
// (made here when missing: python3 -m venv + pip install -r scripts/keras-fixtures/requirements.txt),
// or BENCH_KERAS_PYTHON when that Python has the pinned tensorflow. Where `python3 -m venv` lacks
// ensurepip (Debian without python3-venv): as root with apt-get, python3-venv is installed (scripts/debianPackages.mjs).
//
// Environment:
//   TRANSFER_LAB_KERAS_FIXTURES_DIR       the parent folder of the <hash> folders
//   TRANSFER_LAB_KERAS_FIXTURES_OPTIONAL=1  a failure prints the message but exits 0
//   BENCH_KERAS_PYTHON                    a Python with tensorflow-cpu 2.21.0, keras 3, pillow
// Progress goes to stderr; stdout is the folder only.

import { spawnSync } from 'node:child_process';
import { fixturesHash as hashOf } from './keras-fixtures-hash.mjs';
import { ensureDebianPackages } from './debianPackages.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const T0 = Date.now();
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GEN_DIR = path.join(ROOT, 'scripts', 'keras-fixtures');
const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab');
const FIXTURES_ROOT = process.env.TRANSFER_LAB_KERAS_FIXTURES_DIR
  ? path.resolve(process.env.TRANSFER_LAB_KERAS_FIXTURES_DIR)
  : path.join(CACHE, 'keras-fixtures');
const VENV = path.join(CACHE, 'bench', 'keras-venv');
const REQUIREMENTS = path.join(GEN_DIR, 'requirements.txt');
const IF_MISSING = process.argv.includes('--if-missing');
const FORCE = process.argv.includes('--force');
const OPTIONAL = process.env.TRANSFER_LAB_KERAS_FIXTURES_OPTIONAL === '1';
const CHILD_ENV = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', PYTHONDONTWRITEBYTECODE: '1' };

const log = (m) => process.stderr.write(`[keras-fixtures] ${m}\n`);
const secs = () => `${((Date.now() - T0) / 1000).toFixed(0)} s`;

/** This checkout's generator version (see keras-fixtures-hash.mjs). */
export const fixturesHash = (dir = GEN_DIR) => hashOf(dir);

function pinnedTensorflow() {
  const line = fs
    .readFileSync(REQUIREMENTS, 'utf8')
    .split('\n')
    .find((l) => /^tensorflow(-cpu)?==/.test(l.trim()));
  return line ? line.trim().split('==')[1] : undefined;
}

/** tensorflow's version in that Python, or undefined when it lacks tensorflow, keras 3, PIL or h5py. */
function tfVersion(py) {
  if (!py || !fs.existsSync(py)) return undefined;
  const r = spawnSync(py, ['-c', 'import tensorflow, keras, PIL, h5py; assert keras.__version__.startswith("3."); print(tensorflow.__version__)'], {
    env: CHILD_ENV,
    encoding: 'utf8',
    timeout: 180_000,
  });
  return r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { env: CHILD_ENV, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) {
    const tail = `${r.stderr || ''}${r.stdout || ''}`.trim().split('\n').slice(-8).join('\n');
    throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}): ${cmd} ${args.join(' ')}\n${tail}`);
  }
  return r;
}

function makeVenv() {
  const attempt = () => spawnSync('python3', ['-m', 'venv', VENV], { env: CHILD_ENV, encoding: 'utf8' });
  const said = (r) => (r.error ? r.error.message : `${r.stderr ?? ''}${r.stdout ?? ''}`.trim());
  let mk = attempt();
  if (mk.status !== 0 && /ensurepip|python3-venv/.test(said(mk))) {
    fs.rmSync(VENV, { recursive: true, force: true });
    // As root with apt-get this installs python3-venv (saying so); otherwise it says the command.
    ensureDebianPackages(
      ['python3-venv'],
      'python3 -m venv needs ensurepip, for the Keras venv',
      log,
      'or set BENCH_KERAS_PYTHON to a Python that has tensorflow.',
    );
    mk = attempt();
  }
  if (mk.status !== 0) {
    fs.rmSync(VENV, { recursive: true, force: true });
    throw new Error(`python3 -m venv ${VENV} failed: ${said(mk)}`);
  }
}

/** A Python with the pinned tensorflow: BENCH_KERAS_PYTHON, else the bench's venv, made or completed here. */
function kerasPython() {
  const want = pinnedTensorflow();
  const venvPy = path.join(VENV, 'bin', 'python');
  for (const py of [process.env.BENCH_KERAS_PYTHON, venvPy].filter(Boolean)) {
    const v = tfVersion(py);
    if (v === want) return py;
    if (v) log(`${py} has tensorflow ${v}, not the pinned ${want}: not used`);
    else if (py === process.env.BENCH_KERAS_PYTHON) log(`BENCH_KERAS_PYTHON=${py} cannot import tensorflow, keras 3, PIL and h5py: not used`);
  }
  if (fs.existsSync(venvPy) && spawnSync(venvPy, ['-c', 'pass']).status !== 0) {
    log(`${VENV} is broken (its Python does not start): making it again`);
    fs.rmSync(VENV, { recursive: true, force: true });
  }
  if (!fs.existsSync(venvPy)) {
    log(`making ${VENV} (python3 -m venv; the bench uses it too)`);
    fs.rmSync(VENV, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(VENV), { recursive: true });
    makeVenv();
  }
  log(`pip install -r ${path.relative(ROOT, REQUIREMENTS)} into ${VENV} (about 30 s from a local index, minutes from PyPI)`);
  // Few retries: where only a local index is reachable, each unreachable lookup fails fast.
  run(venvPy, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--retries', '1', '--timeout', '15', '-r', REQUIREMENTS], 'pip install');
  const v = tfVersion(venvPy);
  if (v !== want) throw new Error(`${venvPy} has tensorflow ${v ?? '(none)'} after pip install, not ${want}`);
  return venvPy;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
};

/** One maker per hash at a time; a second one waits for the first and uses its folder. */
function withLock(hash, final, fn) {
  const lock = path.join(FIXTURES_ROOT, `.lock-${hash}`);
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(path.join(lock, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (pid && alive(pid)) {
        log(`another process (pid ${pid}) is making ${final}; waiting`);
        while (alive(pid) && fs.existsSync(lock)) spawnSync('sleep', ['5']);
        if (fs.existsSync(path.join(final, 'manifest.json')) && !FORCE) return;
      }
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
  try {
    fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Keeps the current folder and the most recent other one; removes older ones and dead temporaries. */
function prune(hash) {
  const entries = fs.readdirSync(FIXTURES_ROOT, { withFileTypes: true }).filter((e) => e.isDirectory());
  for (const e of entries.filter((e) => e.name.startsWith('.tmp-'))) {
    const pid = Number(e.name.split('-').pop());
    if (!alive(pid)) fs.rmSync(path.join(FIXTURES_ROOT, e.name), { recursive: true, force: true });
  }
  const others = entries
    .filter((e) => !e.name.startsWith('.') && e.name !== hash)
    .map((e) => ({ name: e.name, mtime: fs.statSync(path.join(FIXTURES_ROOT, e.name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const o of others.slice(1)) {
    log(`removing the older fixtures ${o.name}`);
    fs.rmSync(path.join(FIXTURES_ROOT, o.name), { recursive: true, force: true });
  }
}

function generate(hash, final) {
  const py = kerasPython();
  log(`generating with ${py} into ${final} (about 3 minutes)`);
  const tmp = path.join(FIXTURES_ROOT, `.tmp-${hash}-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync(py, [path.join(GEN_DIR, 'make_fixtures.py'), '--out', tmp], {
    env: { ...CHILD_ENV, KERAS_FIXTURES_HASH: hash },
    stdio: ['ignore', process.stderr, process.stderr],
  });
  if (r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`make_fixtures.py failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); its output is above`);
  }
  if (FORCE) fs.rmSync(final, { recursive: true, force: true });
  try {
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(final, 'manifest.json'))) throw e;
  }
  prune(hash);
}

function main() {
  const hash = fixturesHash();
  const final = path.join(FIXTURES_ROOT, hash);
  const done = () => fs.existsSync(path.join(final, 'manifest.json'));
  if (done() && !FORCE) {
    if (!IF_MISSING) kerasPython(); // the plain command also checks the Python still works
    process.stdout.write(`${final}\n`);
    return;
  }
  fs.mkdirSync(FIXTURES_ROOT, { recursive: true });
  withLock(hash, final, () => {
    if (!done() || FORCE) generate(hash, final);
  });
  if (!done()) throw new Error(`${final} was not made`);
  log(`ready in ${secs()}: ${final}`);
  process.stdout.write(`${final}\n`);
}

try {
  main();
} catch (e) {
  log(`FAILED after ${secs()}: ${e.message}`);
  log('the Keras-fixture tests need this folder; see the head of scripts/setup-keras-fixtures.mjs');
  process.exit(OPTIONAL ? 0 : 1);
}
