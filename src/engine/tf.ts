// The one TensorFlow.js module this process uses. Engine code imports `tf` from here,
// never '@tensorflow/tfjs' directly: tfjs-node re-exports all of tfjs, and loading tfjs
// from the same node_modules root as tfjs-node keeps a single tfjs-core (one engine,
// one kernel registry) in the process.
import type * as tfTypes from '@tensorflow/tfjs';

export type Tf = typeof tfTypes;

let current: Tf | undefined;

export function setTf(module: Tf): void {
  current = module;
}

/** The loaded tfjs module; throws if `loadBackend` has not run (a bug, not user error). */
export function tf(): Tf {
  if (!current) throw new Error('TensorFlow.js is not loaded yet: call loadBackend() first');
  return current;
}
