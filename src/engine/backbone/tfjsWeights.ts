// The weights a TF.js model.json lists: every manifest group checked for completeness, all
// shards as one buffer, decoded (dequantized) into named float32 arrays.
import type * as tfTypes from '@tensorflow/tfjs';
import type { NamedWeights } from '../keras/kerasWeights';
import { tf } from '../tf';
import { BackboneError } from './backboneError';
import type { ModelFiles } from './source';

type WeightSpec = tfTypes.io.WeightsManifestEntry;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

function specBytes(spec: WeightSpec): number | undefined {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const per = DTYPE_BYTES[dtype];
  return per === undefined ? undefined : spec.shape.reduce((a, b) => a * b, 1) * per;
}

/** All weight specs and one buffer with every group's bytes, after checking each group is complete. */
export function assembleWeights(files: ModelFiles): { specs: WeightSpec[]; data: ArrayBuffer } {
  const manifest = (files.modelJson.weightsManifest ?? []) as { paths: string[]; weights?: WeightSpec[] }[];
  const specs: WeightSpec[] = [];
  const parts: Uint8Array[] = [];
  let cursor = 0;
  for (const group of manifest) {
    const groupSpecs = group.weights ?? [];
    const groupFiles = files.weights.slice(cursor, cursor + group.paths.length);
    cursor += group.paths.length;
    const have = groupFiles.reduce((s, f) => s + f.data.byteLength, 0);
    const sizes = groupSpecs.map(specBytes);
    const need = sizes.every((s): s is number => s !== undefined) ? sizes.reduce((a, b) => a + b, 0) : undefined;
    if (need !== undefined && have < need) {
      const names = groupFiles.map((f) => `'${f.path}'`).join(', ');
      throw new BackboneError(
        'backbone',
        `${files.where}: weight file${groupFiles.length > 1 ? 's' : ''} ${names} ${groupFiles.length > 1 ? 'are' : 'is'} truncated: ${have} bytes, but model.json describes ${need}. ` +
          'Download or copy the model again (all .bin shards, completely), or re-export it.',
        files.where,
      );
    }
    if (need !== undefined && have > need) {
      files.notes.push(`${groupFiles.map((f) => f.path).join(', ')}: ${have - need} bytes more than model.json describes; the extra bytes are ignored.`);
    }
    specs.push(...groupSpecs);
    parts.push(...groupFiles.map((f) => f.data));
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.byteLength;
  }
  return { specs, data: data.buffer };
}

/** The model's weights (optimizer state left out) as name -> float32 array, in manifest order. */
export function decodeTfjsWeights(files: ModelFiles): { table: NamedWeights; count: number } {
  const t = tf();
  const { specs, data } = assembleWeights(files);
  let values: tfTypes.NamedTensorMap;
  try {
    values = t.io.decodeWeights(data, specs);
  } catch (e) {
    throw new BackboneError(
      'backbone',
      `${files.where}: the weight files cannot be decoded (${(e as Error).message.split('\n')[0]}). Download or copy the model again, or re-export it.`,
      files.where,
    );
  }
  const table: NamedWeights = new Map();
  try {
    for (const spec of specs) {
      if (spec.group === 'optimizer' || spec.name.startsWith('optimizer/')) continue;
      const v = values[spec.name];
      table.set(spec.name, { name: spec.name, shape: [...v.shape], data: Float32Array.from(v.dataSync() as ArrayLike<number>) });
    }
  } finally {
    t.dispose(Object.values(values));
  }
  return { table, count: specs.length };
}
