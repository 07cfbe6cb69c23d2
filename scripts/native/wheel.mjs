// Step 2: libtensorflow + headers from the TensorFlow wheel (tensorflow-cpu, or tensorflow for
// the GPU build), cached across runs in target.cacheDir (a pip download, or the wheel
// TRANSFER_LAB_TF_WHEEL names). The GPU build adds the CUDA libraries (cudaLibraries.mjs).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_ROOT, LIBS, PKG_DIR, TF_VERSION } from './config.mjs';
import { addCudaLibraries, checkCudaBuild } from './cudaLibraries.mjs';
import { StepError, log, readJson, run, secs } from './step.mjs';

const EXTRACT_PY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'extract-wheel.py');
const stepOf = (target) => `step 2 (TensorFlow libraries from the ${target.variant === 'gpu' ? 'tensorflow (GPU)' : 'tensorflow-cpu'} wheel)`;

function cacheValid(target) {
  try {
    const m = readJson(path.join(target.cacheDir, 'manifest.json'));
    for (const [rel, size] of Object.entries(m.files)) {
      if (fs.statSync(path.join(target.cacheDir, rel)).size !== size) return false;
    }
    return m;
  } catch {
    return false;
  }
}

function findWheel(dir, target) {
  return fs
    .readdirSync(dir)
    .filter((f) => target.wheelPattern.test(f))
    .map((f) => path.join(dir, f))[0];
}

/** What to do when pip cannot get the wheel: a reachable index, or the wheel from elsewhere. */
export function wheelHint(target) {
  const gpu = target.variant === 'gpu';
  return (
    `pip needs an index with ${target.pipSpec}${gpu ? ' (the GPU-enabled wheel; an index with only tensorflow-cpu will not do)' : ''} (check \`python3 -m pip config list\`), ` +
    `or download the wheel elsewhere and set TRANSFER_LAB_TF_WHEEL=/path/to/${target.wheelName}` +
    (gpu ? ' (and TRANSFER_LAB_CUDA_WHEELS=<folder with the nvidia-*-cu12 wheels>, or --system-cuda to use the CUDA installed on this machine).' : '.')
  );
}

function downloadWheel(step, dir, target) {
  const base = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-d', dir];
  const hint = wheelHint(target);
  // The libraries do not depend on the Python version, so when there is no wheel for this
  // python3, ask for the cp311 manylinux one explicitly.
  const r = run(step, 'pip-download', 'python3', [...base, target.pipSpec], { allowFail: true, hint });
  if (!r || !findWheel(dir, target)) {
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
        target.pipSpec,
      ],
      { hint },
    );
  }
  const whl = findWheel(dir, target);
  if (!whl) throw new StepError(step, `pip reported success but ${dir} holds no ${target.wheelName} wheel`, hint);
  return whl;
}

/** The wheel to extract: TRANSFER_LAB_TF_WHEEL's, else one pip downloads into `work`. */
function obtainWheel(work, target, given) {
  const STEP = stepOf(target);
  let wheel = given;
  const t = Date.now();
  if (wheel) {
    wheel = path.resolve(wheel);
    if (!fs.existsSync(wheel)) throw new StepError(STEP, `TRANSFER_LAB_TF_WHEEL=${wheel} does not exist`, 'Fix or unset TRANSFER_LAB_TF_WHEEL.');
    if (!path.basename(wheel).includes(`-${TF_VERSION}-`))
      log(`  warning: ${path.basename(wheel)} is not TensorFlow ${TF_VERSION}; the checked recipe is ${target.pipSpec}`);
    if (!target.wheelPattern.test(path.basename(wheel))) log(`  warning: ${path.basename(wheel)} is not named like ${target.wheelName}`);
    log(`step 2: using wheel from TRANSFER_LAB_TF_WHEEL: ${wheel}`);
  } else {
    log(`step 2: pip download ${target.pipSpec} (${target.variant === 'gpu' ? '~600' : '~275'} MB) ...`);
    const dl = path.join(work, 'download');
    fs.mkdirSync(dl);
    wheel = downloadWheel(STEP, dl, target);
    log(`  downloaded ${path.basename(wheel)} (${(fs.statSync(wheel).size / 1e6).toFixed(0)} MB) in ${secs(Date.now() - t)}`);
  }
  return wheel;
}

/** Strips the libraries in out/lib in place, updating their sizes in `files`; false when strip is unavailable or fails. */
function stripLibs(out, files, STEP) {
  // The wheel's libraries carry full symbol tables (.symtab); the dynamic linker only
  // needs .dynsym, so `strip --strip-unneeded` is safe and cuts 850 MB to ~635 MB.
  let stripped = true;
  for (const lib of LIBS) {
    const f = path.join(out, 'lib', lib);
    const ok = run(STEP, `strip-${lib}`, 'strip', ['--strip-unneeded', '-o', `${f}.stripped`, f], { allowFail: true });
    if (ok) {
      fs.renameSync(`${f}.stripped`, f);
      files[`lib/${lib}`] = fs.statSync(f).size;
    } else {
      fs.rmSync(`${f}.stripped`, { force: true });
      stripped = false;
    }
  }
  if (!stripped) log('  note: `strip` unavailable or failed; keeping unstripped libraries');
  return stripped;
}

/** Extracts the wheel into `out` (libraries, headers) and returns the manifest to write. */
function extractWheel(wheel, out, target) {
  const STEP = stepOf(target);
  const t2 = Date.now();
  const r = run(STEP, 'extract', 'python3', [EXTRACT_PY, wheel, out, path.join(PKG_DIR, 'binding'), JSON.stringify(LIBS)], {
    hint: 'The wheel may be damaged: delete it / unset TRANSFER_LAB_TF_WHEEL and rerun.',
  });
  const files = JSON.parse(r.stdout.trim().split('\n').pop());
  const stripped = process.env.TRANSFER_LAB_NO_STRIP !== '1' && stripLibs(out, files, STEP);
  for (const lib of LIBS) fs.chmodSync(path.join(out, 'lib', lib), 0o755);
  const manifest = { tensorflow: TF_VERSION, variant: target.variant, wheel: path.basename(wheel), stripped, files, created: new Date().toISOString() };
  const mb =
    Object.entries(files)
      .filter(([k]) => k.startsWith('lib/'))
      .reduce((s, [, v]) => s + v, 0) / 1e6;
  log(
    `  extracted ${Object.keys(files).length - LIBS.length} headers + ${LIBS.length} libraries (${mb.toFixed(0)} MB${stripped ? ', stripped' : ''}) in ${secs(Date.now() - t2)}`,
  );
  return manifest;
}

/**
 * Returns the cache's manifest, filling the cache from the wheel first when it is missing or
 * damaged. `opts`: { wheel (TRANSFER_LAB_TF_WHEEL), and for the GPU build cudaWheels, systemCuda }.
 */
export function ensureCache(target, opts = {}) {
  const CACHE_DIR = target.cacheDir;
  const cached = cacheValid(target);
  if (cached && (target.variant === 'cpu' || cached.cuda === (opts.systemCuda ? 'system' : 'wheels'))) {
    log(`step 2: using cached libtensorflow ${TF_VERSION} in ${CACHE_DIR}${cached.stripped ? ' (stripped)' : ''}`);
    return cached;
  }
  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  // Work in a fresh folder and rename it into place at the end: an interrupted run never
  // leaves a half-written cache, and files hard-linked from an older cache are not touched.
  const work = fs.mkdtempSync(path.join(CACHE_ROOT, '.work-'));
  try {
    const out = path.join(work, 'out');
    const wheel = obtainWheel(work, target, opts.wheel);
    if (target.variant === 'gpu') checkCudaBuild(wheel, stepOf(target));
    const manifest = extractWheel(wheel, out, target);
    if (target.variant === 'gpu') addCudaLibraries(wheel, out, manifest, opts);
    fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify(manifest, null, 2));
    const old = `${CACHE_DIR}.old-${process.pid}`;
    if (fs.existsSync(CACHE_DIR)) fs.renameSync(CACHE_DIR, old);
    fs.renameSync(out, CACHE_DIR);
    fs.rmSync(old, { recursive: true, force: true });
    return manifest;
  } finally {
    // Removes the downloaded wheel too (never a TRANSFER_LAB_TF_WHEEL file: that is outside `work`).
    fs.rmSync(work, { recursive: true, force: true });
  }
}
