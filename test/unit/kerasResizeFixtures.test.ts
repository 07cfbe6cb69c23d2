// Keras's preprocess_input against pixelTransform, and our decode + resize of real image
// files against Keras's own: the fixtures' images/ decoded
// and resized by keras.utils.image_dataset_from_directory in each resize mode (float32 pixels
// before preprocess_input, made by scripts/keras-fixtures/make_fixtures.py), and the same
// files through decodeImageFile. PNG must match to 1e-3 of 255 (seen: bit-equal). JPEG is
// reported separately: with the native backend it is decoded by TensorFlow's own DecodeJpeg,
// as Keras's is, and held to the same 1e-3 (seen: bit-equal); without it, libvips decodes
// with the accurate IDCT where Keras uses the fast one, so it is held to IDCT noise (seen:
// mean about 1, max 8 levels of 255). Skipped, saying how to make them, when the fixtures
// are not on this machine.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { decodeImageFile, kerasJpegDecoder } from '../../src/engine/imageDecode';
import { loadBackend } from '../../src/engine/backend';
import { pixelTransform, preprocessPixels } from '../../src/core/preprocessing';
import {
  fixturePath,
  KERAS_RESIZE_MODES,
  loadKerasFixtures,
  readFloat32,
  readUint8,
  type KerasFixtures,
  type KerasPreprocessMode,
} from '../support/kerasFixtures';

let fx: KerasFixtures | undefined;
let missing = '';
try {
  fx = loadKerasFixtures();
} catch (e) {
  missing = (e as Error).message;
}

before(async () => {
  await loadBackend({ preference: 'auto', installRoot: path.resolve(__dirname, '../../..') });
});

const PNG_TOLERANCE = 255e-3;
/** Fast against accurate IDCT: a level or so on average, a few more at sharp edges. */
const JPEG_MEAN_TOLERANCE = 1.5;
const JPEG_MAX_TOLERANCE = 16;

test('decode + resize of the fixture images matches Keras image_dataset_from_directory', { skip: fx ? false : missing }, async () => {
  const f = fx!;
  const [h, w] = f.imageSize;
  const report: string[] = [];
  const worst = { png: 0, jpeg: 0 };
  const jpegDecoder = kerasJpegDecoder();
  for (const mode of KERAS_RESIZE_MODES) {
    const fixture = f.resizeModes[mode];
    const keras = readFloat32(f, fixture.pixels);
    const per = h * w * 3;
    for (const [i, rel] of fixture.files.entries()) {
      const described = f.images.files.find((x) => x.path === rel);
      const format = described?.format ?? (/\.png$/i.test(rel) ? 'png' : 'jpeg');
      const ours = await decodeImageFile(fixturePath(f, path.posix.join(f.images.dir, rel)), { height: h, width: w, resize: mode });
      assert.ok(ours.pixels instanceof Float32Array);
      const theirs = keras.subarray(i * per, (i + 1) * per);
      let max = 0;
      let sum = 0;
      for (let j = 0; j < per; j++) {
        const d = Math.abs(ours.pixels[j] - theirs[j]);
        sum += d;
        if (d > max) max = d;
      }
      worst[format] = Math.max(worst[format], max);
      report.push(`${mode.padEnd(21)} ${rel.padEnd(28)} ${described?.colorMode ?? ''} max |diff| ${max.toFixed(6)} mean ${(sum / per).toFixed(6)}`);
      if (format === 'png') assert.ok(max <= PNG_TOLERANCE, `${mode} ${rel}: max |diff| ${max} > ${PNG_TOLERANCE}`);
      else if (jpegDecoder === 'tensorflow') assert.ok(max <= PNG_TOLERANCE, `${mode} ${rel}: max |diff| ${max} > ${PNG_TOLERANCE} (decoded by TensorFlow)`);
      else
        assert.ok(max <= JPEG_MAX_TOLERANCE && sum / per <= JPEG_MEAN_TOLERANCE, `${mode} ${rel}: max |diff| ${max}, mean ${sum / per}: more than IDCT noise`);
    }
  }
  console.log(
    `${report.join('\n')}\nmax |diff| vs Keras: PNG ${worst.png.toFixed(6)}, JPEG ${worst.jpeg.toFixed(6)} (JPEG decoded by ${jpegDecoder}; of 255; fixtures ${f.root}${f.stale ? ', stale' : ''})`,
  );
});

test("pixelTransform gives Keras's preprocess_input for every mode the families use", { skip: fx ? false : missing }, () => {
  const f = fx!;
  const pixels = readUint8(f, f.pixels);
  const report: string[] = [];
  for (const [mode, ref] of Object.entries(f.preprocessedPixels) as [KerasPreprocessMode, NonNullable<(typeof f.preprocessedPixels)[KerasPreprocessMode]>][]) {
    const keras = readFloat32(f, ref);
    const ours = preprocessPixels(pixels, pixelTransform(mode));
    let max = 0;
    for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i] - keras[i]));
    report.push(`${mode} ${max.toExponential(2)}`);
    // One float32 rounding of values up to ~150 (caffe) or ~2.6 (torch).
    assert.ok(max <= 2e-5, `${mode}: max |ours - Keras| ${max}`);
  }
  console.log(`max |pixelTransform - preprocess_input|: ${report.join(', ')}`);
});
