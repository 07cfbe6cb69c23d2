// Step 1: the tfjs-node package and its dependencies, installed without its install script
// (which would try to download libtensorflow).

import fs from 'node:fs';
import path from 'node:path';
import { PKG_DIR, PKG_NAME, ROOT } from './config.mjs';
import { StepError, log, readJson, run, secs } from './step.mjs';

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

export function ensurePackage() {
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
