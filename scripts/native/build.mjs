// Step 4: build the tfjs_binding addon with npm's bundled node-gyp against deps/.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { NAPI_VERSION, ROOT } from './config.mjs';
import { StepError, hasCommand, log, run, secs } from './step.mjs';

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

export function buildAddon(target) {
  const { pkgDir: PKG_DIR, modulePath: MODULE_PATH } = target;
  const step = 'step 4 (build the tfjs_binding addon with node-gyp)';
  const gyp = findNodeGyp();
  if (!gyp) throw new StepError(step, "npm's bundled node-gyp was not found", 'Install node-gyp (`npm i -g node-gyp`) or use an npm that bundles it.');
  const missingTools = ['make', 'g++', 'python3'].filter((t) => !hasCommand(t));
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
