// Image files -> RGB pixels at the model's input size. libvips (sharp) decodes JPEG, PNG,
// WebP, GIF (first frame), TIFF and AVIF, honours EXIF orientation and converts grayscale,
// RGBA, CMYK and 16-bit images to 8-bit sRGB; BMP, which libvips lacks, is decoded here.
//
// Resize (core/preprocessing.ts ResizeMode): `center-crop` is libvips's cover + linear
// kernel, with JPEG shrink-on-load (fast, antialiased, 8-bit). The Keras modes (`squash`,
// `crop-to-aspect-ratio`, `pad-to-aspect-ratio`) decode at full resolution and resize with
// kerasResize.ts, TensorFlow's bilinear in float32, never rounded, as Keras 3's
// image_dataset_from_directory does after tf.io.decode_image(channels=3).
//
// Where this decode differs from tf.io.decode_image (so from Keras):
// - EXIF orientation: applied here, ignored by TensorFlow (a portrait phone photo is upright
//   here and on its side in Keras).
// - Embedded ICC profiles (Display P3, Adobe RGB) are converted to sRGB here; TensorFlow uses
//   the stored values. Untagged and sRGB images, nearly all datasets, are unaffected.
// - CMYK JPEGs go through an ICC transform (a CMYK profile to sRGB) here; TensorFlow converts
//   them by formula (seen: mean 16, max 45 levels apart).
// - JPEG: tf.io.decode_image uses libjpeg-turbo's fast integer IDCT (JDCT_IFAST, TensorFlow's
//   default), libvips the accurate one (mean 0.5-1.0, max 2-11 levels of 255 apart). So in the
//   Keras modes a JPEG is decoded by TensorFlow's own DecodeJpeg when the native backend is
//   loaded (resizeJpegAsTensorFlow: bit-equal to Keras); otherwise libvips's pixels equal
//   tf.io.decode_jpeg(..., dct_method="INTEGER_ACCURATE"). PNG is bit-equal either way.
// - Alpha is dropped (not composited), grayscale replicated to RGB, palette expanded, 16-bit
//   reduced to its high byte and the first GIF frame taken: the same as TensorFlow
//   (channels=3, expand_animations=False; seen bit-equal on RGBA, palette and 16-bit PNGs).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Sharp } from 'sharp';
import { createRequire } from 'node:module';
import type { ResizeMode } from '../core/preprocessing';
import type * as tfTypes from '@tensorflow/tfjs';
import { kerasResize, kerasSampling, type KerasResizeMode } from './kerasResize';
import { tf } from './tf';

export type { ResizeMode } from '../core/preprocessing';

export interface DecodeOptions {
  height: number;
  width: number;
  /** Default `center-crop` (the experiment file's default is EXPERIMENT_DEFAULTS.data.resize). */
  resize?: ResizeMode;
  /** Refuse images with more pixels than this (decompression bombs). */
  maxPixels?: number;
}

export interface DecodedImage {
  /**
   * height*width*3 values 0..255, RGB, row-major: what becomes the model's input. Bytes for
   * `center-crop`; for the Keras modes the float32 result of the bilinear resize, unrounded.
   */
  pixels: Uint8Array | Float32Array;
  /** The same pixels as 8-bit RGB (rounded for the Keras modes, on first read): for thumbnails and checks, never model inputs. */
  readonly rgb: Uint8Array;
  height: number;
  width: number;
  resize: ResizeMode;
  source: { width: number; height: number; format: string };
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** A file that could not be used as an image, with a reason a user understands. */
export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
  get reason(): string {
    return this.message.slice(this.file.length + 2);
  }
}

type SharpFactory = (input: Buffer, options?: object) => Sharp;
let sharpFactory: SharpFactory | undefined;
function sharp(): SharpFactory {
  // Resolved lazily from the install root so the bundle keeps the native module external.
  sharpFactory ??= createRequire(__filename)('sharp') as SharpFactory;
  return sharpFactory;
}

export async function decodeImageFile(file: string, opts: DecodeOptions): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new ImageDecodeError(file, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return decodeImageBytes(bytes, file, opts);
}

export async function decodeImageBytes(bytes: Buffer, file: string, opts: DecodeOptions): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageDecodeError(file, 'the file is empty (0 bytes)');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let input: Buffer | { raw: Buffer; width: number; height: number; format: string } = bytes;
  if (isBmp(bytes)) {
    input = decodeBmp(bytes, file, maxPixels);
  }
  try {
    const pipeline =
      'raw' in input
        ? sharp()(input.raw, { raw: { width: input.width, height: input.height, channels: 3 } } as object)
        : sharp()(input, { limitInputPixels: maxPixels, failOn: 'error', pages: 1 } as object);
    const meta = 'raw' in input ? { width: input.width, height: input.height, format: 'bmp' } : await pipeline.metadata();
    const resize = opts.resize ?? 'center-crop';
    const oriented = pipeline
      .rotate() // honour EXIF orientation
      .toColourspace('srgb')
      .removeAlpha();
    const source = { width: meta.width ?? 0, height: meta.height ?? 0, format: String(meta.format ?? path.extname(file).slice(1)) };
    if (resize === 'center-crop') {
      const { data, info } = await oriented
        .resize(opts.width, opts.height, { fit: 'cover', kernel: 'linear' } as object)
        .raw({ depth: 'uchar' } as object)
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
      const rgb = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return { pixels: rgb, rgb, height: info.height, width: info.width, resize, source };
    }
    // A JPEG as TensorFlow decodes it, or libvips at full resolution (after EXIF rotation);
    // then Keras's resize.
    let pixels =
      !('raw' in input) && (meta.width ?? 0) * (meta.height ?? 0) <= maxPixels
        ? resizeJpegAsTensorFlow(bytes, meta, opts.height, opts.width, resize)
        : undefined;
    if (!pixels) {
      const { data, info } = await oriented.raw({ depth: 'uchar' } as object).toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
      const decoded = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // a plain view: one element kind for the resize loop
      pixels = kerasResize(decoded, info.height, info.width, 3, opts.height, opts.width, resize);
    }
    const resized = pixels;
    let rounded: Uint8Array | undefined;
    return {
      pixels: resized,
      get rgb() {
        return (rounded ??= toBytes(resized)); // rounded on first use only: training never needs it
      },
      height: opts.height,
      width: opts.width,
      resize,
      source,
    };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(file, explainSharpError(e instanceof Error ? e.message : String(e), maxPixels));
  }
}

/** Which decoder gives a Keras mode its JPEG pixels in this process (a cache-key and run-log ingredient). */
export function kerasJpegDecoder(): 'tensorflow' | 'libvips' {
  return tensorflowJpeg() ? 'tensorflow' : 'libvips';
}

type NodeDecode = { decodeJpeg(contents: Uint8Array, channels?: number): tfTypes.Tensor3D };

function tensorflowJpeg(): { t: ReturnType<typeof tf>; node: NodeDecode } | undefined {
  let t: ReturnType<typeof tf> | undefined;
  try {
    t = tf();
  } catch {
    return undefined; // no TensorFlow.js in this process (a plain image check)
  }
  const node = (t as unknown as { node?: NodeDecode }).node;
  return node && t.getBackend() === 'tensorflow' ? { t, node } : undefined;
}

/**
 * A JPEG decoded by TensorFlow's own DecodeJpeg (what tf.io.decode_image, and so Keras, runs:
 * libjpeg-turbo with its fast integer IDCT) and resized as Keras does, when the native backend
 * is loaded and the file needs nothing libvips does better: no EXIF rotation, no ICC profile,
 * not CMYK. libvips's accurate IDCT differs by a few levels per pixel (up to 8 of 255 on our
 * test JPEGs), which an untrained or sensitive network turns into visibly different outputs.
 * From a big image only the rows and columns the bilinear reads leave TensorFlow (at most two
 * per output row and column), not the whole decoded image. Otherwise: undefined.
 */
function resizeJpegAsTensorFlow(
  bytes: Buffer,
  meta: { format?: string; orientation?: number; hasProfile?: boolean; space?: string },
  height: number,
  width: number,
  resize: KerasResizeMode,
): Float32Array | undefined {
  if (meta.format !== 'jpeg' || (meta.orientation ?? 1) !== 1 || meta.hasProfile || meta.space === 'cmyk') return undefined;
  const tfJpeg = tensorflowJpeg();
  if (!tfJpeg) return undefined;
  const { t, node } = tfJpeg;
  const tensors: tfTypes.Tensor[] = [];
  try {
    const image = node.decodeJpeg(bytes, 3);
    tensors.push(image);
    const [h, w] = image.shape;
    const plan = kerasSampling(h, w, height, width, resize);
    // (No tf.tidy around dataSync: it would walk the returned typed array element by element.)
    if (plan.rows.length * plan.cols.length * 4 > h * w) return kerasResize(Uint8Array.from(image.dataSync()), h, w, 3, height, width, resize);
    // A big image: only the rows and columns the bilinear reads leave TensorFlow.
    const rows = t.gather(image, Array.from(plan.rows), 0);
    tensors.push(rows);
    const sampled = t.gather(rows, Array.from(plan.cols), 1);
    tensors.push(sampled);
    return plan.resize(Uint8Array.from(sampled.dataSync()), 3);
  } catch {
    return undefined; // libvips will say what is wrong with the file
  } finally {
    t.dispose(tensors);
  }
}

/** Float pixels (0..255) -> bytes, rounded and clamped. */
export function toBytes(pixels: Float32Array): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}

function explainSharpError(message: string, maxPixels: number): string {
  if (/pixel limit/i.test(message))
    return `the image has more than ${maxPixels.toLocaleString('en-US')} pixels; refusing to decode it (possible decompression bomb)`;
  if (/unsupported image format/i.test(message)) return 'not an image in a supported format (JPEG, PNG, WebP, GIF, BMP, TIFF, AVIF)';
  if (/premature end|truncated|VipsJpeg|incomplete/i.test(message)) return `the image data is truncated or corrupt (${message.split('\n')[0]})`;
  // libvips says little for some broken files (a PNG with a bad checksum gives "Unknown error").
  return `cannot decode the image: the file is corrupt or an unsupported variant (${message.split('\n')[0]}); open it in an image viewer and re-save it, or remove it`;
}

function isBmp(bytes: Buffer): boolean {
  return bytes.length > 26 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

/** Uncompressed BMP (1/4/8-bit palette, 24/32-bit) -> packed RGB. */
function decodeBmp(b: Buffer, file: string, maxPixels: number): { raw: Buffer; width: number; height: number; format: string } {
  const fail = (why: string): never => {
    throw new ImageDecodeError(file, `unsupported or corrupt BMP: ${why}`);
  };
  if (b.length < 54) fail('file shorter than its header');
  const dataOffset = b.readUInt32LE(10);
  const headerSize = b.readUInt32LE(14);
  const width = b.readInt32LE(18);
  const rawHeight = b.readInt32LE(22);
  const bpp = b.readUInt16LE(28);
  const compression = headerSize >= 40 ? b.readUInt32LE(30) : 0;
  const height = Math.abs(rawHeight);
  if (width <= 0 || height === 0) fail(`bad dimensions ${width}x${rawHeight}`);
  if (width * height > maxPixels) {
    throw new ImageDecodeError(
      file,
      `the image has more than ${maxPixels.toLocaleString('en-US')} pixels; refusing to decode it (possible decompression bomb)`,
    );
  }
  // BI_RGB (0), or BI_BITFIELDS (3) with the standard 32-bit masks.
  if (!(compression === 0 || (compression === 3 && bpp === 32))) fail(`compression ${compression} (only uncompressed BMP is supported)`);
  if (![1, 4, 8, 24, 32].includes(bpp)) fail(`${bpp} bits per pixel`);
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + rowBytes * height > b.length) fail('pixel data is truncated');
  const paletteStart = 14 + headerSize;
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const srcRow = rawHeight > 0 ? height - 1 - y : y; // positive height = bottom-up rows
    const row = dataOffset + srcRow * rowBytes;
    for (let x = 0; x < width; x++) {
      let r: number, g: number, bl: number;
      if (bpp >= 24) {
        const p = row + x * (bpp / 8);
        bl = b[p];
        g = b[p + 1];
        r = b[p + 2];
      } else {
        const bitPos = x * bpp;
        const byte = b[row + (bitPos >> 3)];
        const index = (byte >> (8 - bpp - (bitPos & 7))) & ((1 << bpp) - 1);
        const p = paletteStart + index * 4;
        bl = b[p];
        g = b[p + 1];
        r = b[p + 2];
      }
      const o = (y * width + x) * 3;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = bl;
    }
  }
  return { raw: out, width, height, format: 'bmp' };
}
