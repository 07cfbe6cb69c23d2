// Steps 1b and 6 of the GPU build: a copy of tfjs-node's package in GPU_ROOT to build against
// the GPU libraries (the CPU build in node_modules is never touched), and the marker that makes
// it complete. The trainer uses the GPU build only once the marker is there, so a failed or
// interrupted build is never chosen.

import fs from 'node:fs';
import path from 'node:path';
import { GPU_MARKER, GPU_ROOT, PKG_DIR, ROOT, TF_VERSION } from './config.mjs';
import { StepError, log, readJson } from './step.mjs';

// What tfjs-node's build and run need; deps/, lib/ and build/ are the CPU build's own.
const SKIP = new Set(['deps', 'lib', 'build']);

/** Copies tfjs-node's sources into the GPU build's package folder, after removing the marker. */
export function stageGpuPackage(target) {
  const step = 'step 1b (copy tfjs-node for the GPU build)';
  try {
    fs.rmSync(GPU_MARKER, { force: true });
    fs.rmSync(target.pkgDir, { recursive: true, force: true });
    fs.mkdirSync(target.pkgDir, { recursive: true });
    for (const entry of fs.readdirSync(PKG_DIR)) {
      if (!SKIP.has(entry)) fs.cpSync(path.join(PKG_DIR, entry), path.join(target.pkgDir, entry), { recursive: true });
    }
    log(`step 1b: tfjs-node ${readJson(path.join(PKG_DIR, 'package.json')).version} copied to ${path.relative(ROOT, target.pkgDir)}`);
  } catch (e) {
    throw new StepError(step, e.message, `Check free disk space and write access to ${GPU_ROOT}.`);
  }
}

/** The marker the trainer looks for (the shape of engine/native/installedBackend.ts InstalledNative). */
export function markGpuBuild(target, manifest) {
  const info = {
    tfjsNode: readJson(path.join(target.pkgDir, 'package.json')).version,
    libtensorflow: TF_VERSION,
    variant: 'gpu',
    platform: `${process.platform}-${process.arch}`,
    installedAt: new Date().toISOString(),
    sources: [],
    wheel: manifest.wheel,
    cuda: manifest.cuda,
    cudaWheels: manifest.cudaWheels ?? [],
  };
  fs.writeFileSync(`${GPU_MARKER}.tmp`, JSON.stringify(info, null, 2));
  fs.renameSync(`${GPU_MARKER}.tmp`, GPU_MARKER);
}
