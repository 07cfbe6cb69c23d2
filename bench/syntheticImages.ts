// Synthetic JPEGs for the bench: patterned pixels (structure a JPEG encoder keeps, so files
// are realistic in size) encoded by sharp. bench/decode.ts makes camera-size ones with it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { cacheRoot, log, root } from './harness';

const req = createRequire(path.join(root, 'package.json'));

/** A width x height RGB JPEG whose pixel (x, y) is what `fill` writes at raw[o], raw[o + 1], raw[o + 2]. */
export async function syntheticJpeg(
  width: number,
  height: number,
  quality: number,
  fill: (raw: Buffer, o: number, x: number, y: number) => void,
): Promise<Buffer> {
  const sharp = req('sharp') as typeof import('sharp');
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) fill(raw, (y * width + x) * 3, x, y);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}

/** 2,000 JPEGs in 5 class folders (320x240), written once into the cache. */
export async function benchImages(): Promise<string> {
  const dir = path.join(cacheRoot, 'images-2000');
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  log('writing 2,000 JPEGs (5 classes x 400, 320x240) once into the cache ...');
  fs.rmSync(dir, { recursive: true, force: true });
  for (let c = 0; c < 5; c++) {
    fs.mkdirSync(path.join(dir, `class_${c}`), { recursive: true });
    for (let i = 0; i < 400; i++) {
      // Class-dependent stripes and colours with per-image noise.
      const jpeg = await syntheticJpeg(320, 240, 85, (raw, o, x, y) => {
        const stripe = Math.sin((x * (c + 1) + y * (5 - c)) / 9 + i) * 60;
        raw[o] = (120 + stripe + c * 25 + ((x * i) & 15)) & 255;
        raw[o + 1] = (100 - stripe + ((y * 7 + i) & 31)) & 255;
        raw[o + 2] = (80 + c * 30 + ((x ^ y) & 63)) & 255;
      });
      fs.writeFileSync(path.join(dir, `class_${c}`, `img_${i}.jpg`), jpeg);
    }
  }
  fs.writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}
