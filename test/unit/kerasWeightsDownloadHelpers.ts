// Shared helpers of kerasWeightsDownload.test.ts: a work folder for caches and manifests, and
// reading a loaded backbone.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { LoadedBackbone } from '../../src/engine/backboneLoader';
import { tf } from '../../src/engine/tf';

/** Caches and manifests of this run; the test file removes it after its tests. */
export const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-keras-weights-'));

export const layersOf = (b: LoadedBackbone) => {
  assert.equal(b.kind, 'layers');
  return b.model as tfTypes.LayersModel;
};

export function freshCache(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export function manifest(name: string, entries: Record<string, unknown>): string {
  const file = path.join(work, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify(entries));
  return file;
}

/** Every file under the cache's blob folder (partial downloads included). */
export function blobFiles(cacheDir: string): string[] {
  const dir = path.join(cacheDir, 'blobs', 'sha256');
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

export function predictOn(model: tfTypes.LayersModel): Float32Array {
  const [, h, w, c] = model.inputs[0].shape as number[];
  return tf().tidy(() => (model.predict(tf().randomUniform([2, h, w, c], 0, 255, 'float32', 11)) as tfTypes.Tensor).dataSync() as Float32Array);
}
