// Decode + resize of camera-size JPEGs to the model's input, side by side in one run,
// interleaved, medians of repetitions: the default resize (`squash`: libvips decodes at full
// resolution, then Keras's bilinear in float32; the first row, which the suite compares with
// the frozen forward), libvips `center-crop` (shrink-on-load), and TensorFlow's own decoder
// (tf.node.decodeImage + resizeBilinear, what Keras does). Prints a table and JSON.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { decodeImageBytes, type ResizeMode } from '../src/engine/imageDecode';
import { EXPERIMENT_DEFAULTS } from '../src/core/experimentValidation';
import { loadBackend } from '../src/engine/backend';
import { syntheticJpeg } from './syntheticImages';

const root = path.resolve(__dirname, '../..');
const IMAGES = Number(process.env.BENCH_IMAGES ?? 16);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const SIZE = 224;

async function makeJpegs(dir: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let i = 0; i < IMAGES; i++) {
    // 4000x3000 (12 MP) with structure, so the encoder produces a realistic file (~1-3 MB).
    const jpeg = await syntheticJpeg(4000, 3000, 90, (raw, o, x, y) => {
      raw[o] = (x * 7 + i * 13) & 255;
      raw[o + 1] = (y * 5 + ((x * y) >> 9)) & 255;
      raw[o + 2] = ((x ^ y) + i) & 255;
    });
    fs.writeFileSync(path.join(dir, `img${i}.jpg`), jpeg);
    out.push(jpeg);
  }
  return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const loaded = await loadBackend({ preference: 'auto', installRoot: root });
  const tf = loaded.tf as typeof tfTypes & { node?: { decodeImage(b: Uint8Array, c: number): tfTypes.Tensor3D } };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-bench-decode-'));
  const jpegs = await makeJpegs(dir);
  const mb = jpegs.reduce((s, b) => s + b.length, 0) / 2 ** 20;
  const byDefault = EXPERIMENT_DEFAULTS.data.resize as ResizeMode;
  const modes: ResizeMode[] = [byDefault, byDefault === 'center-crop' ? 'squash' : 'center-crop'];
  const contenders: Record<string, () => Promise<void>> = {};
  for (const resize of modes) {
    const what = resize === 'center-crop' ? 'center-crop (libvips shrink-on-load)' : `${resize} (full decode + Keras bilinear)`;
    const label = `${what}${resize === byDefault ? ', the default' : ''}`;
    contenders[`${label}, parallel`] = async () => {
      await Promise.all(jpegs.map((b, i) => decodeImageBytes(b, `img${i}.jpg`, { height: SIZE, width: SIZE, resize })));
    };
    contenders[`${label}, one at a time`] = async () => {
      for (const [i, b] of jpegs.entries()) await decodeImageBytes(b, `img${i}.jpg`, { height: SIZE, width: SIZE, resize });
    };
  }
  if (loaded.backend === 'tensorflow' && tf.node) {
    contenders['tf.node.decodeImage + resizeBilinear'] = async () => {
      for (const b of jpegs) tf.tidy(() => tf.image.resizeBilinear(tf.node!.decodeImage(b, 3), [SIZE, SIZE]).dataSync());
    };
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let r = 0; r < REPS; r++) {
    for (const [name, fn] of Object.entries(contenders)) {
      const t0 = performance.now();
      await fn();
      times[name].push((performance.now() - t0) / 1000);
    }
  }
  const rows = Object.entries(times).map(([name, ts]) => ({ name, imagesPerSec: IMAGES / median(ts) }));
  const base = rows[0].imagesPerSec;
  console.log(
    `decode + resize to ${SIZE}x${SIZE}: ${IMAGES} camera-size JPEGs (4000x3000, ${mb.toFixed(1)} MB), median of ${REPS} interleaved runs, ${os.cpus().length} cores, backend ${loaded.backend}`,
  );
  for (const r of rows) console.log(`  ${r.name.padEnd(72)} ${r.imagesPerSec.toFixed(1).padStart(7)} img/s  (${(r.imagesPerSec / base).toFixed(2)}x)`);
  console.log(JSON.stringify({ bench: 'decode', size: SIZE, images: IMAGES, backend: loaded.backend, rows }));
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
