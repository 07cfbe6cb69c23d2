// Decoding real image files of every supported format into RGB at the model's input size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { decodeImageFile, ImageDecodeError } from '../../src/engine/imageDecode';

const sharp = createRequire(path.resolve(__dirname, '../../../package.json'))('sharp') as typeof import('sharp');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-decode-'));
const size = { height: 8, width: 8 };

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
    const img = await decodeImageFile(await write(name, make), { ...size, resize: 'stretch' });
    assert.equal(img.rgb.length, 8 * 8 * 3, name);
    const [r, , b] = pixel(img.rgb, 1, 4);
    assert.ok(r > 200 && b < 60, `${name}: left is red (${pixel(img.rgb, 1, 4)})`);
    assert.ok(pixel(img.rgb, 6, 4)[2] > 200, `${name}: right is blue`);
  }
});

test('center-crop keeps the middle of a wide image; stretch keeps both halves', async () => {
  const file = await write('wide.png', (s) => s.png());
  const crop = await decodeImageFile(file, { ...size, resize: 'center-crop' });
  assert.equal(crop.source.width, 16);
  const stretch = await decodeImageFile(file, { ...size, resize: 'stretch' });
  assert.ok(pixel(stretch.rgb, 0, 0)[0] > 200 && pixel(stretch.rgb, 7, 0)[2] > 200);
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
  const img = await decodeImageFile(file, { ...size, resize: 'stretch' });
  assert.ok(pixel(img.rgb, 0, 4)[2] > 200, `left is blue after rotation (${pixel(img.rgb, 0, 4)})`);
});

test('BMP (24-bit, bottom-up) decodes without libvips support', async () => {
  const w = 2, h = 2, row = 8;
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
  const img = await decodeImageFile(file, { height: 2, width: 2, resize: 'stretch' });
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
