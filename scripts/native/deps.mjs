// Step 3: <tfjs-node>/deps/{include,lib} from the cache, where tfjs-node's binding.gyp looks.

import fs from 'node:fs';
import path from 'node:path';
import { LIBS } from './config.mjs';
import { StepError, log } from './step.mjs';

/** Hard link (copy across file systems) src to dst; true when linked. */
function linkOrCopy(src, dst) {
  try {
    fs.linkSync(src, dst);
    return true;
  } catch {
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE);
    fs.chmodSync(dst, 0o755);
    return false;
  }
}

/**
 * GPU build: the cache's nvidia/<pkg>/lib/*.so* go to deps/nvidia/<pkg>/lib, which is where the
 * GPU wheel's RUNPATH ($ORIGIN/../nvidia/<pkg>/lib) points from deps/lib; and each is also
 * linked into deps/lib itself ($ORIGIN/, the common fix when a RUNPATH entry is missing).
 * Returns how many libraries.
 */
function placeCudaLibraries(cacheDir, tmp) {
  const nvidia = path.join(cacheDir, 'nvidia');
  if (!fs.existsSync(nvidia)) return 0;
  let n = 0;
  for (const pkg of fs.readdirSync(nvidia)) {
    const libDir = path.join(nvidia, pkg, 'lib');
    if (!fs.existsSync(libDir)) continue;
    fs.mkdirSync(path.join(tmp, 'nvidia', pkg, 'lib'), { recursive: true });
    for (const f of fs.readdirSync(libDir)) {
      linkOrCopy(path.join(libDir, f), path.join(tmp, 'nvidia', pkg, 'lib', f));
      if (!fs.existsSync(path.join(tmp, 'lib', f))) linkOrCopy(path.join(libDir, f), path.join(tmp, 'lib', f));
      n++;
    }
  }
  return n;
}

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
export function populateDeps(target) {
  const step = 'step 3 (populate deps/include and deps/lib)';
  const { cacheDir: CACHE_DIR, pkgDir: PKG_DIR } = target;
  try {
    const deps = path.join(PKG_DIR, 'deps');
    const tmp = path.join(PKG_DIR, `deps.tmp-${process.pid}`);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(path.join(CACHE_DIR, 'include'), path.join(tmp, 'include'), { recursive: true });
    fs.mkdirSync(path.join(tmp, 'lib'));
    let linked = 0;
    for (const lib of LIBS) {
      const src = path.join(CACHE_DIR, 'lib', lib);
      if (linkOrCopy(src, path.join(tmp, 'lib', lib))) linked++;
    }
    const cuda = placeCudaLibraries(CACHE_DIR, tmp);
    fs.symlinkSync('libtensorflow_cc.so.2', path.join(tmp, 'lib', 'libtensorflow.so'));
    fs.symlinkSync('libtensorflow_framework.so.2', path.join(tmp, 'lib', 'libtensorflow_framework.so'));
    // Replace the whole folder (it may hold libtensorflow 2.9.1 from tfjs-node's own installer).
    fs.rmSync(deps, { recursive: true, force: true });
    fs.renameSync(tmp, deps);
    const mb = LIBS.reduce((s, l) => s + fs.statSync(path.join(deps, 'lib', l)).size, 0) / 1e6;
    log(
      `step 3: deps/lib ready (${mb.toFixed(0)} MB, ${linked === LIBS.length ? 'hard links to the cache' : linked ? 'partly hard links, partly copies' : 'copies'}), deps/include ready${cuda ? `, ${cuda} CUDA libraries in deps/nvidia` : ''}`,
    );
  } catch (e) {
    if (e instanceof StepError) throw e;
    throw new StepError(step, e.message, `Check free disk space and write access to ${PKG_DIR}.`);
  }
}
