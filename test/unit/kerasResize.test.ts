// Keras's resize modes (image_dataset_from_directory): TensorFlow's bilinear with half-pixel
// centres on known small cases worked out by hand, the crop and pad geometry of
// smart_resize / tf.image.resize_with_pad on odd sizes, and TF.js's own
// resizeBilinear(x, size, alignCorners=false, halfPixelCenters=true) as a second reference.
// (The hand cases and geometry were also checked against TensorFlow 2.21: bit-equal.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { cropToAspectRatioBox, kerasResize, kerasSampling, padToAspectRatioBox, type KerasResizeMode } from '../../src/engine/kerasResize';
import { seededRandom } from '../../src/core/random';

const installRoot = path.resolve(__dirname, '../../..');
let backend = '';
before(async () => {
  backend = (await loadBackend({ preference: 'auto', installRoot })).backend;
});

const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-4) => {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `[${i}] ${actual[i]} vs ${expected[i]} (all: ${Array.from(actual)})`);
};

test('bilinear, half-pixel centres: known cases by hand (one channel)', () => {
  // Down 4 -> 2: scale 2, samples at 0.5 and 2.5, midway between neighbours.
  close(kerasResize([0, 100, 200, 250], 1, 4, 1, 1, 2, 'squash'), [50, 225]);
  // Up 2 -> 4: samples at -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  close(kerasResize([0, 100], 1, 2, 1, 1, 4, 'squash'), [0, 25, 75, 100]);
  // 3 -> 2: scale 1.5, samples at 0.25 and 1.75.
  close(kerasResize([0, 30, 90], 1, 3, 1, 1, 2, 'squash'), [7.5, 75]);
  // 2x2 -> 1x1: the centre, the mean of the four.
  close(kerasResize([0, 100, 200, 255], 2, 2, 1, 1, 1, 'squash'), [138.75]);
  // Same size: the pixels themselves (TensorFlow's no-op).
  close(kerasResize([1, 2, 3, 4, 5, 6], 2, 3, 1, 2, 3, 'squash'), [1, 2, 3, 4, 5, 6], 0);
  // Floats, not bytes: 12.5 stays 12.5.
  const out = kerasResize([0, 25], 1, 2, 1, 1, 1, 'squash');
  assert.ok(out instanceof Float32Array);
  close(out, [12.5], 0);
});

test('bilinear keeps channels apart (RGB)', () => {
  // 1x2 RGB: red then blue -> 1x1 is their mean per channel.
  close(kerasResize([255, 0, 0, 0, 0, 255], 1, 2, 3, 1, 1, 'squash'), [127.5, 0, 127.5]);
});

test('crop-to-aspect-ratio: smart_resize windows on odd sizes', () => {
  // [height, width] -> [target] => { top, left, height, width }
  assert.deepEqual(cropToAspectRatioBox(5, 7, 3, 3), { top: 0, left: 1, height: 5, width: 5 });
  assert.deepEqual(cropToAspectRatioBox(7, 4, 2, 3), { top: 2, left: 0, height: 2, width: 4 }); // 4*2/3 = 2.67 -> 2 rows
  assert.deepEqual(cropToAspectRatioBox(9, 5, 4, 6), { top: 3, left: 0, height: 3, width: 5 }); // 5*4/6 = 3.33 -> 3
  assert.deepEqual(cropToAspectRatioBox(17, 13, 7, 5), { top: 0, left: 0, height: 17, width: 12 }); // 17*5/7 = 12.14 -> 12, left (13-12)/2 -> 0
  assert.deepEqual(cropToAspectRatioBox(480, 640, 224, 224), { top: 0, left: 80, height: 480, width: 480 });
  assert.deepEqual(cropToAspectRatioBox(3, 1000, 224, 224), { top: 0, left: 498, height: 3, width: 3 });
  // The crop is what gets resized: a 1x3 row cropped to its middle pixel.
  close(kerasResize([10, 20, 30], 1, 3, 1, 1, 1, 'crop-to-aspect-ratio'), [20]);
});

test('pad-to-aspect-ratio: resize_with_pad placement on odd sizes', () => {
  // Resized size is floored; the offset floors (target - unfloored size) / 2.
  assert.deepEqual(padToAspectRatioBox(9, 5, 4, 6), { top: 0, left: 1, height: 4, width: 2 }); // ratio 2.25: 4 x 2.22
  assert.deepEqual(padToAspectRatioBox(7, 4, 2, 3), { top: 0, left: 0, height: 2, width: 1 }); // ratio 3.5: 2 x 1.14, (3 - 1.14) / 2 = 0.93
  assert.deepEqual(padToAspectRatioBox(5, 7, 3, 3), { top: 0, left: 0, height: 2, width: 3 }); // ratio 7/3: 2.14 x 3
  assert.deepEqual(padToAspectRatioBox(17, 13, 7, 5), { top: 0, left: 0, height: 6, width: 5 }); // ratio 2.6: 6.54 x 5
  assert.deepEqual(padToAspectRatioBox(480, 640, 224, 224), { top: 28, left: 0, height: 168, width: 224 });
  // Thinner than 1/224: TensorFlow refuses (a 0-pixel side); here one pixel is kept.
  assert.deepEqual(padToAspectRatioBox(1000, 3, 224, 224), { top: 0, left: 111, height: 224, width: 1 });
  // Padding is 0 in pixel space: a 1x2 image padded into 2x2 keeps its row, then zeros.
  close(kerasResize([100, 200], 1, 2, 1, 2, 2, 'pad-to-aspect-ratio'), [100, 200, 0, 0]);
});

/** The same resize with TF.js ops: slice / resizeBilinear(halfPixelCenters) / pad. */
function tfjsResize(src: Float32Array, h: number, w: number, th: number, tw: number, mode: KerasResizeMode): Float32Array {
  const t = tf();
  return t.tidy(() => {
    const img = t.tensor3d(src, [h, w, 3]);
    if (mode === 'squash') return t.image.resizeBilinear(img, [th, tw], false, true).dataSync() as Float32Array;
    if (mode === 'crop-to-aspect-ratio') {
      const b = cropToAspectRatioBox(h, w, th, tw);
      return t.image
        .resizeBilinear(t.slice(img, [b.top, b.left, 0], [b.height, b.width, 3]) as tfTypes.Tensor3D, [th, tw], false, true)
        .dataSync() as Float32Array;
    }
    const b = padToAspectRatioBox(h, w, th, tw);
    const resized = t.image.resizeBilinear(img, [b.height, b.width], false, true);
    return t
      .pad(resized, [
        [b.top, th - b.height - b.top],
        [b.left, tw - b.width - b.left],
        [0, 0],
      ])
      .dataSync() as Float32Array;
  });
}

test('agrees with TF.js resizeBilinear(halfPixelCenters) to 1e-4 on random images', () => {
  const random = seededRandom(7);
  let worst = 0;
  // The native backend runs TensorFlow's own kernel (seen: bit-equal). TF.js's JS kernels (cpu,
  // wasm) take the sampling scale in float64 where TensorFlow uses float32, so they drift up
  // to ~1e-2 on big downscales (seen: 4.4e-3 cpu, 8.4e-3 wasm); we follow TensorFlow.
  const tolerance = backend === 'tensorflow' ? 1e-4 : 2e-2;
  const sizes: [number, number, number, number][] = [
    [13, 9, 5, 7],
    [9, 13, 7, 7],
    [31, 17, 224, 224],
    [300, 199, 224, 224],
    [224, 224, 96, 96],
    [2, 3, 5, 5],
    [64, 48, 64, 48],
  ];
  for (const [h, w, th, tw] of sizes) {
    const src = Float32Array.from({ length: h * w * 3 }, () => Math.floor(random() * 256));
    for (const mode of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio'] as const) {
      const ours = kerasResize(src, h, w, 3, th, tw, mode);
      const theirs = tfjsResize(src, h, w, th, tw, mode);
      assert.equal(ours.length, theirs.length);
      for (let i = 0; i < ours.length; i++) {
        const d = Math.abs(ours[i] - theirs[i]);
        if (d > worst) worst = d;
        assert.ok(d <= tolerance, `${h}x${w} -> ${th}x${tw} ${mode} [${i}]: ${ours[i]} vs TF.js ${theirs[i]} (backend ${backend})`);
      }
    }
  }
  console.log(`max |ours - TF.js resizeBilinear| = ${worst.toExponential(2)} (backend ${backend})`);
});

test('kerasSampling: only the rows and columns read, and the same values from them', () => {
  const random = seededRandom(11);
  for (const [h, w, th, tw] of [
    [300, 400, 24, 32],
    [97, 131, 96, 96],
    [5, 7, 3, 3],
    [20, 9, 40, 30],
  ] as const) {
    const src = Uint8Array.from({ length: h * w * 3 }, () => Math.floor(random() * 256));
    for (const mode of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio'] as const) {
      const plan = kerasSampling(h, w, th, tw, mode);
      assert.ok(
        plan.rows.length <= Math.min(h, 2 * th) && plan.cols.length <= Math.min(w, 2 * tw),
        `${h}x${w} ${mode}: ${plan.rows.length} rows, ${plan.cols.length} columns`,
      );
      assert.ok(
        plan.rows.every((r, i) => i === 0 || r > plan.rows[i - 1]),
        'rows sorted, each once',
      );
      const sampled = new Uint8Array(plan.rows.length * plan.cols.length * 3);
      plan.rows.forEach((r, i) => plan.cols.forEach((c, j) => sampled.set(src.subarray((r * w + c) * 3, (r * w + c) * 3 + 3), (i * plan.cols.length + j) * 3)));
      assert.deepEqual(plan.resize(sampled, 3), kerasResize(src, h, w, 3, th, tw, mode), `${h}x${w} -> ${th}x${tw} ${mode}`);
    }
  }
});
