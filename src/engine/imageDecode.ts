// Image files -> RGB pixels at the model's input size. libvips (sharp) decodes JPEG, PNG,
// WebP, GIF (first frame), TIFF and AVIF, honours EXIF orientation and converts grayscale,
// RGBA, CMYK and 16-bit images to 8-bit sRGB; BMP, which libvips lacks, is decoded here.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Sharp } from 'sharp';
import { createRequire } from 'node:module';

/** How an image is fitted to the model's square input; recorded with exported models. */
export type ResizeMode = 'center-crop' | 'stretch';

export interface DecodeOptions {
  height: number;
  width: number;
  resize?: ResizeMode;
  /** Refuse images with more pixels than this (decompression bombs). */
  maxPixels?: number;
}

export interface DecodedImage {
  /** height*width*3 bytes, RGB, row-major. */
  rgb: Uint8Array;
  height: number;
  width: number;
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
    const { data, info } = await pipeline
      .rotate() // honour EXIF orientation
      .toColourspace('srgb')
      .removeAlpha()
      .resize(opts.width, opts.height, { fit: opts.resize === 'stretch' ? 'fill' : 'cover', kernel: 'linear' } as object)
      .raw({ depth: 'uchar' } as object)
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels after conversion, got ${info.channels}`);
    return {
      rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      height: info.height,
      width: info.width,
      source: { width: meta.width ?? 0, height: meta.height ?? 0, format: String(meta.format ?? path.extname(file).slice(1)) },
    };
  } catch (e) {
    if (e instanceof ImageDecodeError) throw e;
    throw new ImageDecodeError(file, explainSharpError(e instanceof Error ? e.message : String(e), maxPixels));
  }
}

function explainSharpError(message: string, maxPixels: number): string {
  if (/pixel limit/i.test(message)) return `the image has more than ${maxPixels.toLocaleString('en-US')} pixels; refusing to decode it (possible decompression bomb)`;
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
    throw new ImageDecodeError(file, `the image has more than ${maxPixels.toLocaleString('en-US')} pixels; refusing to decode it (possible decompression bomb)`);
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
