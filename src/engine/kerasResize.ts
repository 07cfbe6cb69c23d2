// Keras 3's `image_dataset_from_directory` resize, on decoded 8-bit RGB, in plain JS:
//   squash                 tf.image.resize(img, size, "bilinear")
//   crop-to-aspect-ratio   keras.utils.smart_resize: largest centred crop of the target's
//                          aspect, then tf.image.resize
//   pad-to-aspect-ratio    tf.image.resize_with_pad: tf.image.resize to fit inside, then
//                          zeros around it
// tf.image.resize "bilinear" (antialias=False) is TensorFlow's ResizeBilinear kernel with
// half-pixel centres: output pixel i samples source coordinate (i + 0.5) * in/out - 0.5, from
// its two neighbours (clamped to the edge), in float32. Every step here is rounded to float32
// (Math.fround) in the kernel's order, so the result is TensorFlow's to the last bit or one
// float32 rounding, never rounded to 8 bits. Only 2x2 source pixels per output pixel are read:
// the cost is the output size, whatever the image's size.
import type { ResizeMode } from '../core/preprocessing';

export type KerasResizeMode = Exclude<ResizeMode, 'center-crop'>;

const f32 = Math.fround;

/** A window of the source image (crop) or of the output (where the resized image lands, pad). */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * smart_resize's crop: the largest centred window with the target's aspect ratio, computed
 * as Keras computes it in a tf.data pipeline (float32 divisions, truncated to integers).
 */
export function cropToAspectRatioBox(height: number, width: number, targetHeight: number, targetWidth: number): Box {
  const cropHeight = Math.max(Math.min(height, Math.trunc(f32(f32(width * targetHeight) / targetWidth))), 1);
  const cropWidth = Math.max(Math.min(width, Math.trunc(f32(f32(height * targetWidth) / targetHeight))), 1);
  return {
    top: Math.trunc(f32(height - cropHeight) / 2),
    left: Math.trunc(f32(width - cropWidth) / 2),
    height: cropHeight,
    width: cropWidth,
  };
}

/**
 * tf.image.resize_with_pad's placement: the size the image is resized to (floored, so a
 * side can end one pixel short of the target) and the offset of its top-left corner.
 * (Keras's own ops.image.resize(pad_to_aspect_ratio=True) pads first and resizes after;
 * image_dataset_from_directory uses this one.)
 */
export function padToAspectRatioBox(height: number, width: number, targetHeight: number, targetWidth: number): Box {
  const fh = f32(height);
  const fw = f32(width);
  const ratio = Math.max(f32(fw / f32(targetWidth)), f32(fh / f32(targetHeight)));
  const resizedHeightFloat = f32(fh / ratio);
  const resizedWidthFloat = f32(fw / ratio);
  // TensorFlow refuses a 0-pixel side (an image over 224 times wider than tall); keep one row.
  const resizedHeight = Math.max(1, Math.floor(resizedHeightFloat));
  const resizedWidth = Math.max(1, Math.floor(resizedWidthFloat));
  const padTop = Math.max(0, Math.floor(f32(f32(targetHeight - resizedHeightFloat) / 2)));
  const padLeft = Math.max(0, Math.floor(f32(f32(targetWidth - resizedWidthFloat) / 2)));
  return {
    top: Math.min(padTop, targetHeight - resizedHeight),
    left: Math.min(padLeft, targetWidth - resizedWidth),
    height: resizedHeight,
    width: resizedWidth,
  };
}

/** Per output index: the two source indices and the weight of the second (the kernel's cache). */
function interpolationWeights(outSize: number, inSize: number, inOffset: number): Weights {
  const lower = new Int32Array(outSize);
  const upper = new Int32Array(outSize);
  const lerp = new Float32Array(outSize);
  const scale = f32(inSize / outSize);
  for (let i = 0; i < outSize; i++) {
    const at = f32(f32((i + 0.5) * scale) - 0.5);
    const floor = Math.floor(at);
    lower[i] = inOffset + Math.max(floor, 0);
    upper[i] = inOffset + Math.min(Math.ceil(at), inSize - 1);
    lerp[i] = at - floor;
  }
  return { lower, upper, lerp };
}

/**
 * tf.image.resize(bilinear) of the `from` window of `src` (h x w x channels, row-major) to
 * `to.height` x `to.width`, written into `out` (outHeight x outWidth x channels) at `to`'s
 * offset. Same size in and out copies the window (TensorFlow's no-op shortcut).
 */
export function resizeBilinearInto(src: ArrayLike<number>, srcWidth: number, channels: number, from: Box, out: Float32Array, outWidth: number, to: Box): void {
  const ys = interpolationWeights(to.height, from.height, from.top);
  const xs = interpolationWeights(to.width, from.width, from.left);
  interpolateInto(src, srcWidth, channels, ys, xs, out, outWidth, to);
}

type Weights = { lower: Int32Array; upper: Int32Array; lerp: Float32Array };

function interpolateInto(
  src: ArrayLike<number>,
  srcWidth: number,
  channels: number,
  ys: Weights,
  xs: Weights,
  out: Float32Array,
  outWidth: number,
  to: Box,
): void {
  const rowStride = srcWidth * channels;
  if (channels === 3 && src instanceof Uint8Array) {
    rgbBytesInto(src, rowStride, ys, xs, out, ((to.top * outWidth + to.left) * 3) | 0, outWidth * 3, to.height, to.width);
    return;
  }
  for (let y = 0; y < to.height; y++) {
    const top = ys.lower[y] * rowStride;
    const bottom = ys.upper[y] * rowStride;
    const yLerp = ys.lerp[y];
    let o = ((to.top + y) * outWidth + to.left) * channels;
    for (let x = 0; x < to.width; x++) {
      const left = xs.lower[x] * channels;
      const right = xs.upper[x] * channels;
      const xLerp = xs.lerp[x];
      for (let c = 0; c < channels; c++) {
        const tl = src[top + left + c];
        const tr = src[top + right + c];
        const bl = src[bottom + left + c];
        const br = src[bottom + right + c];
        const t = f32(tl + f32(f32(tr - tl) * xLerp));
        const b = f32(bl + f32(f32(br - bl) * xLerp));
        out[o++] = t + f32(f32(b - t) * yLerp);
      }
    }
  }
}

/** The same arithmetic for the common case (8-bit RGB), monomorphic and unrolled. */
function rgbBytesInto(
  src: Uint8Array,
  rowStride: number,
  ys: Weights,
  xs: Weights,
  out: Float32Array,
  start: number,
  outRowStride: number,
  height: number,
  width: number,
): void {
  const xl = new Int32Array(width);
  const xr = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    xl[x] = xs.lower[x] * 3;
    xr[x] = xs.upper[x] * 3;
  }
  const xLerps = xs.lerp;
  for (let y = 0; y < height; y++) {
    const top = ys.lower[y] * rowStride;
    const bottom = ys.upper[y] * rowStride;
    const yLerp = ys.lerp[y];
    let o = start + y * outRowStride;
    for (let x = 0; x < width; x++) {
      const l = xl[x];
      const r = xr[x];
      const k = xLerps[x];
      // Byte differences are exact in float32; each product and sum is rounded as TensorFlow's.
      let tl = src[top + l];
      let bl = src[bottom + l];
      let t = f32(tl + f32((src[top + r] - tl) * k));
      let b = f32(bl + f32((src[bottom + r] - bl) * k));
      out[o] = t + f32(f32(b - t) * yLerp);
      tl = src[top + l + 1];
      bl = src[bottom + l + 1];
      t = f32(tl + f32((src[top + r + 1] - tl) * k));
      b = f32(bl + f32((src[bottom + r + 1] - bl) * k));
      out[o + 1] = t + f32(f32(b - t) * yLerp);
      tl = src[top + l + 2];
      bl = src[bottom + l + 2];
      t = f32(tl + f32((src[top + r + 2] - tl) * k));
      b = f32(bl + f32((src[bottom + r + 2] - bl) * k));
      out[o + 2] = t + f32(f32(b - t) * yLerp);
      o += 3;
    }
  }
}

/**
 * The same resize when the source is somewhere else (a tensor): which source rows and columns
 * it reads (sorted, each once: at most two per output row or column), and the resize of just
 * those, `sampled` being rows.length x cols.length x channels. Gives kerasResize's values.
 */
export function kerasSampling(
  height: number,
  width: number,
  targetHeight: number,
  targetWidth: number,
  mode: KerasResizeMode,
): { rows: Int32Array; cols: Int32Array; resize(sampled: ArrayLike<number>, channels: number): Float32Array } {
  const whole: Box = { top: 0, left: 0, height, width };
  const full: Box = { top: 0, left: 0, height: targetHeight, width: targetWidth };
  const from = mode === 'crop-to-aspect-ratio' ? cropToAspectRatioBox(height, width, targetHeight, targetWidth) : whole;
  const to = mode === 'pad-to-aspect-ratio' ? padToAspectRatioBox(height, width, targetHeight, targetWidth) : full;
  const ys = interpolationWeights(to.height, from.height, from.top);
  const xs = interpolationWeights(to.width, from.width, from.left);
  /** The indices a weight table reads, and the table rewritten to positions among them. */
  const compact = (w: Weights): { used: Int32Array; local: Weights } => {
    const used = Int32Array.from(new Set([...w.lower, ...w.upper])).sort();
    const at = new Map(Array.from(used, (v, i) => [v, i] as const));
    return { used, local: { lower: w.lower.map((v) => at.get(v)!), upper: w.upper.map((v) => at.get(v)!), lerp: w.lerp } };
  };
  const r = compact(ys);
  const c = compact(xs);
  return {
    rows: r.used,
    cols: c.used,
    resize(sampled, channels) {
      const out = new Float32Array(targetHeight * targetWidth * channels);
      interpolateInto(sampled, c.used.length, channels, r.local, c.local, out, targetWidth, to);
      return out;
    },
  };
}

/**
 * Decoded pixels (height x width x channels, 0..255) -> float32 pixels at the target size,
 * as Keras's image_dataset_from_directory produces them for `mode`.
 */
export function kerasResize(
  src: ArrayLike<number>,
  height: number,
  width: number,
  channels: number,
  targetHeight: number,
  targetWidth: number,
  mode: KerasResizeMode,
): Float32Array {
  const out = new Float32Array(targetHeight * targetWidth * channels);
  const whole: Box = { top: 0, left: 0, height, width };
  const full: Box = { top: 0, left: 0, height: targetHeight, width: targetWidth };
  switch (mode) {
    case 'squash':
      resizeBilinearInto(src, width, channels, whole, out, targetWidth, full);
      break;
    case 'crop-to-aspect-ratio':
      resizeBilinearInto(src, width, channels, cropToAspectRatioBox(height, width, targetHeight, targetWidth), out, targetWidth, full);
      break;
    case 'pad-to-aspect-ratio':
      resizeBilinearInto(src, width, channels, whole, out, targetWidth, padToAspectRatioBox(height, width, targetHeight, targetWidth));
      break;
  }
  return out;
}
