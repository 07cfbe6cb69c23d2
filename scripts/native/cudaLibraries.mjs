// Step 2c (GPU build only): the CUDA libraries TensorFlow loads at run time. TensorFlow's
// Linux wheel finds them through its RUNPATH, $ORIGIN/../nvidia/<pkg>/lib (tensorflow's
// cuda_rpath_flags), i.e. in the nvidia-*-cu12 wheels that `pip install tensorflow[and-cuda]`
// puts beside it. We pip download exactly the pins of the wheel's own "and-cuda" extra into
// CUDA_WHEEL_DIR (kept: ~3 GB) and extract nvidia/*/lib/*.so* into the cache's nvidia/, which
// deps.mjs places at deps/nvidia, the same place relative to libtensorflow as in the wheel.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CUDA_WHEEL_DIR } from './config.mjs';
import { StepError, log, run, secs } from './step.mjs';

const STEP = 'step 2c (CUDA libraries from the nvidia-*-cu12 wheels)';
const PY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cuda-wheels.py');
// Tags of the nvidia wheels (py3-none-manylinux...), independent of this machine's python3.
const PLATFORM = ['--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux2014_x86_64', '--platform', 'manylinux_2_17_x86_64'];
const PYTHON = ['--python-version', '3.11', '--implementation', 'cp', '--abi', 'cp311', '--abi', 'none'];

const py = (step, logName, args, hint) => run(step, logName, 'python3', [PY, ...args], { hint }).stdout.trim();

/** Warns when the wheel is not a CUDA build (e.g. tensorflow-cpu renamed): it would load but find no GPU. */
export function checkCudaBuild(wheel, step) {
  const cuda = py(step, 'cuda-build-info', ['is-cuda', wheel], 'The wheel may be damaged: download it again.');
  if (cuda === 'True') return log(`  ${path.basename(wheel)} is a CUDA build`);
  log(
    `  warning: ${path.basename(wheel)} says is_cuda_build=${cuda} (tensorflow/python/platform/build_info.py): the GPU build will load, but TensorFlow will find no GPU. The GPU-enabled wheel is tensorflow==2.21.0 for Linux x86-64.`,
  );
}

/** The nvidia-* pins of the wheel's "and-cuda" extra, e.g. "nvidia-cudnn-cu12<10.0,>=9.3.0.75". */
export function cudaRequirements(wheel) {
  const out = py(STEP, 'cuda-requirements', ['requirements', wheel], 'The wheel may be damaged: download it again.');
  return out ? out.split('\n') : [];
}

/** The wheel files pip chose, from its "Saved <file>" and "File was already downloaded <file>" lines. */
export function pipChosenFiles(pipOutput) {
  const files = [];
  for (const m of pipOutput.matchAll(/^\s*(?:Saved|File was already downloaded)\s+(\S+\.whl)\s*$/gm)) files.push(m[1]);
  return [...new Set(files)];
}

function downloadCudaWheels(specs, opts) {
  fs.mkdirSync(CUDA_WHEEL_DIR, { recursive: true });
  const local = opts.cudaWheels ? ['--no-index', '--find-links', path.resolve(opts.cudaWheels)] : [];
  const hint =
    `pip could not get ${specs.length} CUDA wheels (${specs.map((s) => s.split(/[<>=!]/)[0]).join(', ')}). ` +
    'Use a pip index that has them, or download them elsewhere (`pip download --no-deps <the specs above>`) and set TRANSFER_LAB_CUDA_WHEELS=<that folder>, ' +
    'or pass --system-cuda to use the CUDA 12 and cuDNN 9 installed on this machine (found through ld.so.conf or LD_LIBRARY_PATH).';
  log(
    `step 2c: pip download ${specs.length} CUDA wheels${opts.cudaWheels ? ` from ${opts.cudaWheels}` : ''} into ${CUDA_WHEEL_DIR} (~3 GB the first time) ...`,
  );
  const args = [
    '-m',
    'pip',
    'download',
    '--no-deps',
    '--only-binary=:all:',
    '--disable-pip-version-check',
    ...PLATFORM,
    ...PYTHON,
    ...local,
    '-d',
    CUDA_WHEEL_DIR,
  ];
  const r = run(STEP, 'pip-download-cuda', 'python3', [...args, ...specs], { hint });
  const files = pipChosenFiles(`${r.stdout}\n${r.stderr}`).map((f) => (path.isAbsolute(f) ? f : path.join(CUDA_WHEEL_DIR, path.basename(f))));
  if (files.length !== specs.length) {
    throw new StepError(
      STEP,
      `pip named ${files.length} wheel files for ${specs.length} CUDA requirements (${files.map((f) => path.basename(f)).join(', ')})`,
      hint,
    );
  }
  return files;
}

/** Adds the CUDA libraries to the cache being built in `out`, and records them in `manifest`. */
export function addCudaLibraries(wheel, out, manifest, opts) {
  if (opts.systemCuda) {
    manifest.cuda = 'system';
    return log('step 2c: --system-cuda: no CUDA wheels; TensorFlow loads CUDA 12 / cuDNN 9 from the system (ld.so.conf, LD_LIBRARY_PATH)');
  }
  const specs = cudaRequirements(wheel);
  if (!specs.length) {
    throw new StepError(
      STEP,
      `${path.basename(wheel)} lists no nvidia-* requirements under its "and-cuda" extra`,
      'Use the tensorflow==2.21.0 wheel, or pass --system-cuda.',
    );
  }
  const t = Date.now();
  const wheels = downloadCudaWheels(specs, opts);
  const files = JSON.parse(
    py(STEP, 'cuda-extract', ['extract', out, ...wheels], 'A CUDA wheel may be damaged: delete it from ' + CUDA_WHEEL_DIR + ' and rerun.')
      .split('\n')
      .pop(),
  );
  if (!Object.keys(files).length)
    throw new StepError(STEP, `the CUDA wheels hold no nvidia/*/lib/*.so* (${wheels.map((w) => path.basename(w)).join(', ')})`, 'Check the wheels.');
  Object.assign(manifest.files, files);
  manifest.cuda = 'wheels';
  manifest.cudaWheels = wheels.map((w) => path.basename(w));
  const mb = Object.values(files).reduce((s, v) => s + v, 0) / 1e6;
  log(`  ${Object.keys(files).length} CUDA libraries (${mb.toFixed(0)} MB) from ${wheels.length} wheels in ${secs(Date.now() - t)}`);
}
