// Bad and unusual inputs beyond the basic decode tests: each either works as a user would
// expect or is refused with a message naming the file, what is wrong and what to do; none
// crashes or hangs. (Zero-byte, text-as-.jpg, truncated JPEG, 16-bit PNG, EXIF rotation,
// symlink loops and the small-dataset cases are in imageDecode/datasetIndex tests.)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { decodeImageFile, ImageDecodeError } from '../../src/engine/imageDecode';
import { indexDataset } from '../../src/core/datasetIndex';
import { loadBackend } from '../../src/engine/backend';
import { runExperiment } from '../../src/engine/runExperiment';
import { readRun, readMetrics } from '../../src/core/runStore';

const installRoot = path.resolve(__dirname, '../../..');
const sharp = createRequire(path.join(installRoot, 'package.json'))('sharp') as typeof import('sharp');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bad-'));
const size = { height: 16, width: 16 };
const split = { val: 0.2, test: 0.2 };

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
});

const solid = (r: number, g: number, b: number, w = 32, h = 32) => sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } });

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

test('a PNG with a bad CRC decodes or is refused naming the file, never a crash', async () => {
  const png = await solid(200, 10, 10).png().toBuffer();
  // The IHDR chunk's CRC sits at bytes 29..32 (8 signature + 4 length + 4 type + 13 data).
  png[30] ^= 0xff;
  const file = path.join(dir, 'bad-crc.png');
  fs.writeFileSync(file, png);
  try {
    const d = await decodeImageFile(file, size);
    // libvips (libspng) checks CRCs of critical chunks only in strict mode: a readable image is used.
    assert.equal(d.rgb.length, 16 * 16 * 3);
  } catch (e) {
    assert.ok(e instanceof ImageDecodeError && e.file === file, String(e));
    assert.match(e.reason, /the file is corrupt or an unsupported variant .*re-save it, or remove it/);
  }
});

test('a decompression bomb (a tiny PNG claiming 30,000 x 30,000 pixels) is refused before decoding', async () => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30_000, 0);
  ihdr.writeUInt32BE(30_000, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const idat = zlib.deflateSync(Buffer.alloc(1024));
  const bomb = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', idat),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  const file = path.join(dir, 'bomb.png');
  fs.writeFileSync(file, bomb);
  assert.ok(bomb.length < 2000, `${bomb.length} bytes`);
  const t0 = Date.now();
  await assert.rejects(
    decodeImageFile(file, size),
    (e: unknown) => e instanceof ImageDecodeError && e.file === file && /more than 100,000,000 pixels; refusing to decode it/.test(e.reason),
  );
  assert.ok(Date.now() - t0 < 2000, `refused in ${Date.now() - t0} ms`);
});

test('a CMYK JPEG becomes RGB with the right colours', async () => {
  const file = path.join(dir, 'cmyk.jpg');
  await solid(220, 20, 20).toColourspace('cmyk').jpeg().toFile(file);
  assert.equal((await sharp(file).metadata()).space, 'cmyk');
  const d = await decodeImageFile(file, size);
  const [r, g, b] = d.rgb.subarray(0, 3);
  assert.ok(r > 150 && g < 90 && b < 90, `red stays red: ${r},${g},${b}`);
});

test('an animated GIF uses its first frame', async () => {
  const red = await solid(255, 0, 0, 16, 16).png().toBuffer();
  const blue = await solid(0, 0, 255, 16, 16).png().toBuffer();
  const file = path.join(dir, 'animated.gif');
  await sharp([red, blue], { join: { animated: true } } as object)
    .gif()
    .toFile(file);
  assert.equal((await sharp(file).metadata()).pages, 2);
  const d = await decodeImageFile(file, size);
  assert.equal(d.rgb.length, 16 * 16 * 3);
  const [r, , b] = d.rgb.subarray(0, 3);
  assert.ok(r > 200 && b < 60, `first frame (red): ${r},${b}`);
});

test('file names with spaces, unicode and leading dashes are indexed and decoded', async () => {
  const root = path.join(dir, 'names');
  const names = ['a b c.png', 'ünï cödé 猫.png', '-rf.png', '--help.jpg', "it's.png"];
  for (const cls of ['cats', 'dogs'])
    for (const n of names) {
      fs.mkdirSync(path.join(root, cls), { recursive: true });
      await (n.endsWith('.jpg') ? solid(10, 200, 10).jpeg() : solid(10, 10, 200).png()).toFile(path.join(root, cls, n));
    }
  const indexed = indexDataset(root, { split, seed: 1 });
  assert.ok(indexed.ok, JSON.stringify(!indexed.ok && indexed.errors));
  assert.equal(indexed.value.items.length, 10);
  assert.deepEqual(indexed.value.skipped, []);
  for (const item of indexed.value.items) assert.equal((await decodeImageFile(item.path, size)).rgb.length, 16 * 16 * 3);
});

test('10,000 classes index in reasonable time, and warnings stay a few lines', () => {
  const root = path.join(dir, 'many');
  for (let c = 0; c < 10_000; c++) {
    fs.mkdirSync(path.join(root, `class_${c}`), { recursive: true });
    // Three images each (enough for one validation and one test image); indexing does not decode.
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(root, `class_${c}`, `${i}.png`), 'x');
  }
  const t0 = Date.now();
  const indexed = indexDataset(root, { split, seed: 1 });
  const ms = Date.now() - t0;
  console.log(`# 10,000 classes indexed in ${ms} ms`);
  assert.ok(indexed.ok, JSON.stringify(!indexed.ok && indexed.errors.slice(0, 2)));
  assert.equal(indexed.value.classes.length, 10_000);
  assert.ok(indexed.warnings.length <= 3, `${indexed.warnings.length} warnings`);
  for (const w of indexed.warnings) assert.ok(w.message.length < 600, `a warning of ${w.message.length} characters: ${w.message.slice(0, 200)}`);
});

test('images in folders nested below a class folder belong to that class', async () => {
  const root = path.join(dir, 'nested');
  for (const cls of ['cats', 'dogs']) {
    const deep = path.join(root, cls, '2024', 'summer', 'phone');
    fs.mkdirSync(deep, { recursive: true });
    for (let i = 0; i < 3; i++)
      await solid(i * 40, 10, 10)
        .png()
        .toFile(path.join(deep, `${i}.png`));
    await solid(5, 5, 5)
      .png()
      .toFile(path.join(root, cls, 'top.png'));
  }
  const indexed = indexDataset(root, { split, seed: 1 });
  assert.ok(indexed.ok);
  assert.deepEqual(indexed.value.classes, ['cats', 'dogs']);
  assert.equal(indexed.value.items.filter((i) => i.label === 0).length, 4);
});

test('the dataset folder disappearing mid-run: the run fails naming what is missing, its folder stays valid', async () => {
  const data = path.join(dir, 'vanishing');
  fs.cpSync(path.join(installRoot, 'media/datasets/fashion-target'), data, { recursive: true });
  const file = path.join(dir, 'vanishing.tlexp.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'vanishing',
      data: { dir: data },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'feature-extraction' },
      train: { epochs: 2 },
    }),
  );
  const outcome = await runExperiment({
    experimentFile: file,
    runsDir: path.join(dir, 'runs'),
    cacheDir: path.join(dir, 'cache'),
    installRoot,
    backend: 'test',
    // The disk is unplugged (or the folder moved) as soon as the images start being read.
    onEvent: (e) => e.type === 'phase' && e.phase === 'featurizing' && fs.existsSync(data) && fs.renameSync(data, `${data}-moved`),
    shouldStop: () => false,
  });
  assert.equal(outcome.status, 'failed');
  const record = readRun(outcome.runDir);
  assert.ok(record.ok);
  assert.equal(record.value.status, 'failed');
  const said = `${record.value.failure?.message} ${record.value.failure?.hint ?? ''}`;
  console.log(`# the user sees: ${said}`);
  assert.match(said, new RegExp(`the dataset folder ${data.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} disappeared during the run`));
  assert.match(said, /Put the folder back/);
  assert.deepEqual(readMetrics(outcome.runDir).problems, []);
});
