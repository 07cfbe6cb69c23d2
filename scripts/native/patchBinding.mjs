// Step 3b: let the binding pass lists of strings and types as op attributes, by applying
// tfjs-node-list-attrs.patch (its header says why) to <tfjs-node>/binding/tfjs_backend.cc.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHILD_ENV, ROOT } from './config.mjs';
import { StepError, hasCommand, log, run } from './step.mjs';

const STEP = 'step 3b (patch binding/tfjs_backend.cc for list attributes)';
const PATCH = path.join(path.dirname(fileURLToPath(import.meta.url)), 'tfjs-node-list-attrs.patch');

/**
 * `git apply` where git is on PATH (a clone has it), else `patch -p1` (Debian's build-essential
 * pulls it in). Both are kept strict: no fuzz, never guessing that a patch is reversed.
 */
function patchTool(PKG_DIR) {
  if (hasCommand('git')) {
    // node_modules sits inside the clone's work tree; git apply there would rebase the patch's
    // paths onto the repository root. Stopping repository discovery at the package folder
    // makes it apply relative to the package, like patch -p1.
    const env = { ...CHILD_ENV, GIT_CEILING_DIRECTORIES: path.dirname(fs.realpathSync(PKG_DIR)) };
    delete env.GIT_DIR;
    delete env.GIT_WORK_TREE;
    return { cmd: 'git', env, check: ['apply', '--check'], reverseCheck: ['apply', '--check', '--reverse'], apply: ['apply'], patchArgs: [PATCH] };
  }
  if (hasCommand('patch')) {
    const strict = ['-p1', '-f', '--fuzz=0', '--no-backup-if-mismatch'];
    return {
      cmd: 'patch',
      env: CHILD_ENV,
      check: [...strict, '--dry-run'],
      reverseCheck: [...strict, '--dry-run', '--reverse'],
      apply: strict,
      patchArgs: ['-i', PATCH],
    };
  }
  throw new StepError(STEP, 'neither git nor patch is on PATH', 'On Debian/Ubuntu: apt-get install git (or patch).');
}

export function patchBinding(target) {
  const PKG_DIR = target.pkgDir;
  const TARGET = path.join(PKG_DIR, 'binding', 'tfjs_backend.cc');
  const tool = patchTool(PKG_DIR);
  const exec = (logName, args, allowFail) => run(STEP, logName, tool.cmd, [...args, ...tool.patchArgs], { cwd: PKG_DIR, env: tool.env, allowFail });
  if (exec('patch-binding-reverse-check', tool.reverseCheck, true)) return log('step 3b: binding already accepts list attributes');
  try {
    exec('patch-binding-check', tool.check, false);
  } catch (e) {
    throw new StepError(
      STEP,
      `${path.relative(ROOT, PATCH)} no longer applies to ${TARGET}:\n${e.message}`,
      'tfjs-node is not the version the patch was made for, or its binding was edited: delete node_modules/@tensorflow/tfjs-node and rerun, ' +
        'or remake the patch for this version (its header says how).',
    );
  }
  exec('patch-binding', tool.apply, false);
  log("step 3b: binding patched to accept list attributes (for TensorFlow's fused convolution)");
}
