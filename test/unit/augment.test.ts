import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentRgb } from '../../src/engine/augment';
import { seededRandom } from '../../src/core/random';

const h = 6,
  w = 6;
const image = Uint8Array.from({ length: h * w * 3 }, (_, i) => ((i / 3) % w) * 40); // a horizontal ramp
const none = { flip: false, rotate: 0, zoom: 0, brightness: 0, contrast: 0 };

test('no augmentation is the identity', () => {
  assert.deepEqual(augmentRgb(image, h, w, none, seededRandom(1)), image);
});

test('a flip mirrors the ramp; the same seed gives the same view', () => {
  const spec = { ...none, flip: true };
  // Find a seed whose first draw flips (< 0.5).
  const seed = [1, 2, 3, 4, 5].find((s) => seededRandom(s)() < 0.5)!;
  const flipped = augmentRgb(image, h, w, spec, seededRandom(seed));
  assert.equal(flipped[0], image[(w - 1) * 3]);
  assert.deepEqual(augmentRgb(image, h, w, spec, seededRandom(seed)), flipped);
});

test('rotation, zoom, brightness and contrast change pixels but stay in range', () => {
  const spec = { flip: false, rotate: 30, zoom: 0.3, brightness: 0.3, contrast: 0.3 };
  const out = augmentRgb(image, h, w, spec, seededRandom(9));
  assert.notDeepEqual(out, image);
  assert.ok(out.every((v) => v >= 0 && v <= 255));
});

test('float pixels (the Keras resize modes) stay floats: not rounded, clipped to 0..255', () => {
  const floats = Float32Array.from(image, (v, i) => v + (i % 7) / 10); // not whole numbers
  const same = augmentRgb(floats, h, w, none, seededRandom(1));
  assert.ok(same instanceof Float32Array);
  assert.deepEqual(same, floats);
  const out = augmentRgb(floats, h, w, { flip: false, rotate: 30, zoom: 0.3, brightness: 0.3, contrast: 0.3 }, seededRandom(9));
  assert.ok(out instanceof Float32Array);
  assert.ok(out.every((v) => v >= 0 && v <= 255));
  assert.ok(
    out.some((v) => v !== Math.round(v)),
    'values between whole numbers survive',
  );
  // The same draw on bytes gives the rounded floats.
  const bytes = augmentRgb(image, h, w, { ...none, brightness: 0.3 }, seededRandom(3));
  const asFloats = augmentRgb(Float32Array.from(image), h, w, { ...none, brightness: 0.3 }, seededRandom(3));
  bytes.forEach((b, i) => assert.equal(b, Math.round(asFloats[i]), `[${i}]`));
});
