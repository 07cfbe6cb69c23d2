// Inputs of the trainable part of the model for every image of one split, in memory:
// frozen-prefix activations (or preprocessed pixels when everything trains), one or more
// views per image (augmented views are precomputed and cached, not recomputed per epoch).

export interface FeatureTable {
  count: number;
  /** Views per image: 1 without augmentation; view 0 is always the unaugmented image. */
  views: number;
  /** Shape (without batch) of each boundary tensor. */
  shapes: number[][];
  labels: Int32Array;
  paths: string[];
  /** data[view][b]: count * size(shapes[b]) floats, image-major. */
  data: Float32Array[][];
}

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function tableBytes(count: number, views: number, shapes: number[][]): number {
  return count * views * shapes.reduce((s, shape) => s + sizeOf(shape), 0) * 4;
}

export function allocateTable(count: number, views: number, shapes: number[][], labels: Int32Array, paths: string[]): FeatureTable {
  return {
    count,
    views,
    shapes,
    labels,
    paths,
    data: Array.from({ length: views }, () => shapes.map((s) => new Float32Array(count * sizeOf(s)))),
  };
}

/** Copies rows `indices` of view `view` into one contiguous batch array per boundary tensor. */
export function gatherBatch(table: FeatureTable, view: number, indices: ArrayLike<number>): Float32Array[] {
  return table.shapes.map((shape, b) => {
    const size = sizeOf(shape);
    const src = table.data[view][b];
    const out = new Float32Array(indices.length * size);
    for (let i = 0; i < indices.length; i++) out.set(src.subarray(indices[i] * size, (indices[i] + 1) * size), i * size);
    return out;
  });
}
