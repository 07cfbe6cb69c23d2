// Step 3: <tfjs-node>/deps/{include,lib} from the cache, where tfjs-node's binding.gyp looks.

import fs from 'node:fs';
import path from 'node:path';
import { CACHE_DIR, LIBS, PKG_DIR } from './config.mjs';
import { StepError, log } from './step.mjs';

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
export function populateDeps() {
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
