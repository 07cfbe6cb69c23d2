// Data augmentation on decoded RGB pixels (flip, rotation, zoom/crop, brightness,
// contrast). Plain JavaScript on small images: identical on every backend and, with the
// same seed, identical on every run, which is what lets augmented views be cached.
// Bytes in, bytes out (center-crop); floats in, floats out (the Keras resize modes, whose
// pixels are never rounded): values stay in 0..255 either way, as Keras's layers clip them.
import type { AugmentSpec } from '../core/experiment';

export function augmentRgb<T extends Uint8Array | Float32Array>(src: T, height: number, width: number, spec: Required<AugmentSpec>, random: () => number): T {
  const flip = spec.flip && random() < 0.5;
  const angle = spec.rotate > 0 ? ((random() * 2 - 1) * spec.rotate * Math.PI) / 180 : 0;
  // zoom > 0 crops in (scale < 1 samples a smaller region), like Keras RandomZoom.
  const scale = spec.zoom > 0 ? 1 - random() * spec.zoom : 1;
  const maxShift = (1 - scale) / 2;
  const shiftX = (random() * 2 - 1) * maxShift * width;
  const shiftY = (random() * 2 - 1) * maxShift * height;
  const brightness = spec.brightness > 0 ? (random() * 2 - 1) * spec.brightness * 255 : 0;
  const contrast = spec.contrast > 0 ? 1 + (random() * 2 - 1) * spec.contrast : 1;

  const round = src instanceof Uint8Array;
  const out = (round ? new Uint8Array(src.length) : new Float32Array(src.length)) as T;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // Mean per channel for contrast (around the image's own mean, like tf.image.adjust_contrast).
  const mean = [0, 0, 0];
  if (contrast !== 1) {
    for (let i = 0; i < src.length; i++) mean[i % 3] += src[i];
    for (let c = 0; c < 3; c++) mean[c] /= height * width;
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      // Inverse map: output pixel -> source coordinate (flip, then scale+shift, then rotate).
      const ox = flip ? width - 1 - x : x;
      let dx = (ox - cx) * scale + shiftX;
      let dy = (y - cy) * scale + shiftY;
      const rx = cos * dx - sin * dy;
      const ry = sin * dx + cos * dy;
      dx = Math.min(width - 1, Math.max(0, rx + cx)); // nearest-edge fill, no black corners
      dy = Math.min(height - 1, Math.max(0, ry + cy));
      const x0 = Math.floor(dx);
      const y0 = Math.floor(dy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const fx = dx - x0;
      const fy = dy - y0;
      for (let c = 0; c < 3; c++) {
        const p00 = src[(y0 * width + x0) * 3 + c];
        const p01 = src[(y0 * width + x1) * 3 + c];
        const p10 = src[(y1 * width + x0) * 3 + c];
        const p11 = src[(y1 * width + x1) * 3 + c];
        let v = (p00 * (1 - fx) + p01 * fx) * (1 - fy) + (p10 * (1 - fx) + p11 * fx) * fy;
        if (contrast !== 1) v = (v - mean[c]) * contrast + mean[c];
        v += brightness;
        out[(y * width + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : round ? Math.round(v) : v;
      }
    }
  }
  return out;
}
