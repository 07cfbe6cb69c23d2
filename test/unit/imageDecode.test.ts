// Decoding real image files of every supported format into RGB at the model's input size.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { decodeImageFile, ImageDecodeError } from '../../src/engine/imageDecode';
import { kerasResize } from '../../src/engine/kerasResize';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';

const sharp = createRequire(path.resolve(__dirname, '../../../package.json'))('sharp') as typeof import('sharp');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-decode-'));
const size = { height: 8, width: 8 };

// As in the engine: TensorFlow.js is loaded (with the native backend, the Keras modes decode
// JPEGs with TensorFlow's own decoder).
before(async () => {
  await loadBackend({ preference: 'auto', installRoot: path.resolve(__dirname, '../../..') });
});

/** A 16x8 image: left half red, right half blue. */
function redBlue(channels: 3 | 4 = 3): Buffer {
  const b = Buffer.alloc(16 * 8 * channels);
  for (let y = 0; y < 8; y++)
    for (let x = 0; x < 16; x++) {
      const o = (y * 16 + x) * channels;
      b[o] = x < 8 ? 255 : 0;
      b[o + 2] = x < 8 ? 0 : 255;
      if (channels === 4) b[o + 3] = 255;
    }
  return b;
}

async function write(name: string, make: (s: import('sharp').Sharp) => import('sharp').Sharp, channels: 3 | 4 = 3): Promise<string> {
  const file = path.join(dir, name);
  await make(sharp(redBlue(channels), { raw: { width: 16, height: 8, channels } })).toFile(file);
  return file;
}

const pixel = (rgb: Uint8Array, x: number, y: number) => Array.from(rgb.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));

test('JPEG, PNG, WebP, GIF, TIFF decode to RGB at the input size', async () => {
  for (const [name, make] of [
    ['a.jpg', (s: import('sharp').Sharp) => s.jpeg({ quality: 95 })],
    ['a.png', (s: import('sharp').Sharp) => s.png()],
    ['a.webp', (s: import('sharp').Sharp) => s.webp({ lossless: true })],
    ['a.gif', (s: import('sharp').Sharp) => s.gif()],
    ['a.tiff', (s: import('sharp').Sharp) => s.tiff()],
  ] as const) {
    const img = await decodeImageFile(await write(name, make), { ...size, resize: 'squash' });
    assert.equal(img.rgb.length, 8 * 8 * 3, name);
    const [r, , b] = pixel(img.rgb, 1, 4);
    assert.ok(r > 200 && b < 60, `${name}: left is red (${pixel(img.rgb, 1, 4)})`);
    assert.ok(pixel(img.rgb, 6, 4)[2] > 200, `${name}: right is blue`);
  }
});

test('center-crop keeps the middle of a wide image; squash keeps both halves', async () => {
  const file = await write('wide.png', (s) => s.png());
  const crop = await decodeImageFile(file, { ...size, resize: 'center-crop' });
  assert.equal(crop.source.width, 16);
  const squash = await decodeImageFile(file, { ...size, resize: 'squash' });
  assert.ok(pixel(squash.rgb, 0, 0)[0] > 200 && pixel(squash.rgb, 7, 0)[2] > 200);
  assert.ok(pixel(crop.rgb, 0, 0)[0] > 200 && pixel(crop.rgb, 7, 0)[2] > 200, 'the crop spans the red/blue edge');
});

test('RGBA, grayscale and 16-bit become 8-bit RGB', async () => {
  const rgba = await decodeImageFile(await write('rgba.png', (s) => s.png(), 4), size);
  assert.equal(rgba.rgb.length, 192);
  const gray = await decodeImageFile(await write('gray.png', (s) => s.grayscale().png()), size);
  const [r, g, b] = pixel(gray.rgb, 0, 0);
  assert.ok(r === g && g === b, 'gray replicated to three channels');
  const deep = await decodeImageFile(await write('deep.png', (s) => s.toColourspace('rgb16').png()), size);
  assert.equal(deep.rgb.length, 192);
  assert.ok(pixel(deep.rgb, 0, 4)[0] > 200);
});

test('EXIF orientation is honoured', async () => {
  // Stored red-left/blue-right with orientation 3 (rotate 180): displayed blue-left.
  const file = await write('rotated.jpg', (s) => s.jpeg({ quality: 95 }).withMetadata({ orientation: 3 }));
  const img = await decodeImageFile(file, { ...size, resize: 'squash' });
  assert.ok(pixel(img.rgb, 0, 4)[2] > 200, `left is blue after rotation (${pixel(img.rgb, 0, 4)})`);
});

test('BMP (24-bit, bottom-up) decodes without libvips support', async () => {
  const w = 2,
    h = 2,
    row = 8;
  const b = Buffer.alloc(54 + row * h);
  b.write('BM', 0);
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  // bottom row first: blue, blue; top row: red, red (BGR order)
  b.set([255, 0, 0, 255, 0, 0], 54);
  b.set([0, 0, 255, 0, 0, 255], 54 + row);
  const file = path.join(dir, 'a.bmp');
  fs.writeFileSync(file, b);
  const img = await decodeImageFile(file, { height: 2, width: 2, resize: 'squash' });
  assert.deepEqual(Array.from(img.rgb.subarray(0, 3)), [255, 0, 0], 'top-left red');
  assert.deepEqual(Array.from(img.rgb.subarray(6, 9)), [0, 0, 255], 'bottom-left blue');
});

test('bad files are refused with a reason naming the file', async () => {
  const empty = path.join(dir, 'empty.jpg');
  fs.writeFileSync(empty, '');
  const text = path.join(dir, 'notes.jpg');
  fs.writeFileSync(text, 'this is not an image');
  const truncated = path.join(dir, 'truncated.jpg');
  fs.writeFileSync(truncated, fs.readFileSync(await write('full.jpg', (s) => s.jpeg())).subarray(0, 200));
  for (const [file, reason] of [
    [empty, /empty \(0 bytes\)/],
    [text, /not an image in a supported format/],
    [truncated, /truncated or corrupt|cannot decode/],
  ] as const) {
    await assert.rejects(decodeImageFile(file, size), (e: unknown) => e instanceof ImageDecodeError && e.file === file && reason.test(e.reason));
  }
  await assert.rejects(decodeImageFile(await write('big.png', (s) => s.png()), { ...size, maxPixels: 100 }), /more than 100 pixels; refusing/);
});

test('the Keras modes decode at full resolution and resize in float32, as kerasResize does', async () => {
  // A 13x9 PNG of known bytes (odd sizes, so crop and pad both move pixels).
  const w = 13,
    h = 9;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + (i >> 4) * 11) & 255;
  const file = path.join(dir, 'known.png');
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(file);
  for (const mode of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio'] as const) {
    const img = await decodeImageFile(file, { height: 6, width: 5, resize: mode });
    assert.ok(img.pixels instanceof Float32Array, mode);
    assert.equal(img.resize, mode);
    assert.deepEqual([img.height, img.width, img.source.width, img.source.height], [6, 5, 13, 9]);
    assert.deepEqual(img.pixels, kerasResize(raw, h, w, 3, 6, 5, mode), `${mode}: PNG bytes are lossless, so the floats are exactly kerasResize's`);
    assert.deepEqual(
      img.rgb,
      Uint8Array.from(img.pixels, (v) => Math.round(v)),
      `${mode}: rgb is the rounded copy`,
    );
  }
  const crop = await decodeImageFile(file, { height: 6, width: 5 });
  assert.ok(crop.pixels instanceof Uint8Array && crop.pixels === crop.rgb, 'center-crop (the default here) stays 8-bit');
});

test('the Keras modes honour EXIF orientation and the pixel limit too', async () => {
  const rotated = await write('rotated-keras.jpg', (s) => s.jpeg({ quality: 95 }).withMetadata({ orientation: 6 })); // 90 degrees: 16x8 shows as 8x16
  const img = await decodeImageFile(rotated, { height: 16, width: 8, resize: 'crop-to-aspect-ratio' });
  // Stored red-left/blue-right, turned 90 clockwise: red on top, blue at the bottom, nothing cropped.
  assert.ok(img.rgb[0] > 200 && img.rgb[2] < 60, `top is red (${Array.from(img.rgb.subarray(0, 3))})`);
  assert.ok(img.rgb[15 * 8 * 3 + 2] > 200, 'bottom is blue');
  await assert.rejects(
    decodeImageFile(await write('big-keras.png', (s) => s.png()), { ...size, resize: 'squash', maxPixels: 100 }),
    /more than 100 pixels; refusing/,
  );
  // A JPEG too, which TensorFlow's decoder (no pixel limit of its own) must never get.
  await assert.rejects(
    decodeImageFile(await write('big-keras.jpg', (s) => s.jpeg()), { ...size, resize: 'squash', maxPixels: 100 }),
    /more than 100 pixels; refusing/,
  );
});

test("JPEG in Keras's resize modes: decoded by TensorFlow's own DecodeJpeg (fast IDCT), as Keras's decode_image is", async (t) => {
  const loaded = await loadBackend({ preference: 'auto', installRoot: path.resolve(__dirname, '../../..') });
  const node = (
    tf() as unknown as {
      node?: {
        decodeJpeg(
          b: Uint8Array,
          channels: number,
          ratio: number,
          fancy: boolean,
          recover: boolean,
          fraction: number,
          dct: string,
        ): import('@tensorflow/tfjs').Tensor3D;
      };
    }
  ).node;
  if (loaded.backend !== 'tensorflow' || !node) return t.skip(`needs the native backend for TensorFlow's own JPEG decoder (backend ${loaded.backend})`);
  const w = 61,
    h = 43;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) raw[(y * w + x) * 3 + c] = (x * 4 + y * 3 * c + ((x * y) % 17) * 5) & 255;
  const file = path.join(dir, 'tf-idct.jpg');
  await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(file); // 4:2:0, as cameras write
  const bytes = fs.readFileSync(file);
  const ours = await decodeImageFile(file, { height: 24, width: 32, resize: 'squash' });
  const viaTf = (dct: string) =>
    tf().tidy(
      () =>
        tf()
          .image.resizeBilinear(node.decodeJpeg(bytes, 3, 1, true, false, 1, dct), [24, 32], false, true)
          .dataSync() as Float32Array,
    );
  const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  assert.ok(diff(ours.pixels, viaTf('')) <= 1e-4, `TensorFlow's default decode (Keras's): ${diff(ours.pixels, viaTf(''))}`);
  // libvips (center-crop, and files with EXIF rotation or an ICC profile) uses the accurate IDCT: other pixels.
  assert.ok(diff(viaTf('INTEGER_ACCURATE'), viaTf('')) > 0.5, 'the two IDCTs give different pixels on this image, so the check above can fail');
  // A bigger JPEG, where only the rows and columns the bilinear reads leave TensorFlow.
  const bw = 640,
    bh = 480;
  const big = Buffer.alloc(bw * bh * 3);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + ((i / 1920) | 0) * 7) & 255;
  const bigFile = path.join(dir, 'tf-idct-big.jpg');
  await sharp(big, { raw: { width: bw, height: bh, channels: 3 } })
    .jpeg({ quality: 90 })
    .toFile(bigFile);
  const bigBytes = fs.readFileSync(bigFile);
  for (const resize of ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio'] as const) {
    const got = await decodeImageFile(bigFile, { height: 24, width: 32, resize });
    const full = node.decodeJpeg(bigBytes, 3, 1, true, false, 1, '');
    const want = kerasResize(Uint8Array.from(full.dataSync()), bh, bw, 3, 24, 32, resize);
    full.dispose();
    assert.equal(diff(got.pixels, want), 0, `${resize}: the sampled rows and columns give the whole image's result`);
  }
});
