#!/usr/bin/env node
// Regenerates the Keras Applications part of the catalog from Keras itself:
//
//   node scripts/keras-applications/make-catalog.mjs          write media/keras-applications/*.json.gz
//                                                             and src/core/kerasApplications.json
//   node scripts/keras-applications/make-catalog.mjs --check  generate into a temporary folder and
//                                                             fail (exit 1) when anything differs
//                                                             from the committed files
//
// What it does and where each value comes from: the head of make_catalog.py. 1.5 to 3 minutes
// on 2 cores; downloads nothing.
//
// Python: BENCH_KERAS_PYTHON, else the Keras venv the bench and the Keras fixtures use,
// ${XDG_CACHE_HOME:-~/.cache}/transfer-lab/bench/keras-venv (made by
// `node scripts/setup-keras-fixtures.mjs` when missing). The output was generated with the
// versions in src/core/kerasApplications.json ("versions"); another Keras may give other
// topologies, which --check then reports.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'keras-applications', 'make_catalog.py');
const MEDIA = path.join(ROOT, 'media', 'keras-applications');
const DATA = path.join(ROOT, 'src', 'core', 'kerasApplications.json');
const CACHE = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab');
const VENV_PY = path.join(CACHE, 'bench', 'keras-venv', 'bin', 'python');
const CHECK = process.argv.includes('--check');
const log = (m) => process.stderr.write(`[keras-catalog] ${m}\n`);

function kerasPython() {
  for (const py of [process.env.BENCH_KERAS_PYTHON, VENV_PY].filter(Boolean)) {
    if (!fs.existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import keras, tensorflow, numpy; assert keras.__version__.startswith("3."); print(keras.__version__)'], {
      encoding: 'utf8',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    if (r.status === 0) return py;
    log(`${py} cannot import keras 3 + tensorflow: not used`);
  }
  throw new Error(
    `no Python with Keras 3 and TensorFlow: run \`node scripts/setup-keras-fixtures.mjs\` (it makes ${path.dirname(path.dirname(VENV_PY))}), or set BENCH_KERAS_PYTHON`,
  );
}

function sameFile(a, b) {
  return fs.existsSync(a) && fs.existsSync(b) && Buffer.compare(fs.readFileSync(a), fs.readFileSync(b)) === 0;
}

function main() {
  const py = kerasPython();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-keras-catalog-'));
  try {
    const outMedia = path.join(tmp, 'media');
    const outData = path.join(tmp, 'kerasApplications.json');
    log(`generating with ${py} (1.5 to 3 minutes)`);
    const r = spawnSync(py, [SCRIPT, '--out-media', outMedia, '--out-data', outData], {
      stdio: ['ignore', process.stderr, process.stderr],
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', PYTHONDONTWRITEBYTECODE: '1' },
    });
    if (r.status !== 0) throw new Error(`make_catalog.py failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); its output is above`);
    const made = fs.readdirSync(outMedia).sort();
    const have = fs.existsSync(MEDIA)
      ? fs
          .readdirSync(MEDIA)
          .filter((f) => f.endsWith('.json.gz'))
          .sort()
      : [];
    if (CHECK) {
      const differ = [
        ...made.filter((f) => !sameFile(path.join(outMedia, f), path.join(MEDIA, f))).map((f) => `media/keras-applications/${f}`),
        ...have.filter((f) => !made.includes(f)).map((f) => `media/keras-applications/${f} (no longer generated)`),
        ...(sameFile(outData, DATA) ? [] : ['src/core/kerasApplications.json']),
      ];
      if (differ.length) {
        log(`differs from the committed files:\n  ${differ.join('\n  ')}`);
        process.exitCode = 1;
      } else log(`up to date: ${made.length} topologies and src/core/kerasApplications.json are what Keras generates`);
      return;
    }
    fs.mkdirSync(MEDIA, { recursive: true });
    for (const f of have.filter((f) => !made.includes(f))) fs.rmSync(path.join(MEDIA, f));
    for (const f of made) fs.copyFileSync(path.join(outMedia, f), path.join(MEDIA, f));
    fs.copyFileSync(outData, DATA);
    const bytes = made.reduce((s, f) => s + fs.statSync(path.join(MEDIA, f)).size, 0);
    log(`wrote ${made.length} topologies (${(bytes / 1e6).toFixed(2)} MB) to ${path.relative(ROOT, MEDIA)} and ${path.relative(ROOT, DATA)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  log(`FAILED: ${e.message}`);
  process.exitCode = 1;
}
