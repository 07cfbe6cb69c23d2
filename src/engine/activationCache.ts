// On-disk cache of what the frozen part of a model produces for an image, so a frozen
// backbone runs once per image, not once per epoch or per run. Keyed by everything that
// changes the numbers: backbone identity, cut and boundary layers, preprocessing, the
// augmentation of the view, and the image file's content hash.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { AugmentSpec } from '../core/experiment';
import type { PixelTransform, ResizeMode } from '../core/preprocessing';

export interface ActivationKey {
  /** Identity of the backbone weights (content hash or catalog id + hash). */
  backbone: string;
  cutAt: string;
  boundary: string[];
  inputSize: [number, number];
  /** The explicit affine map (not just the mode's name), so a changed constant is a new key. */
  preprocessing: PixelTransform;
  resize: ResizeMode;
  /** Who decodes JPEGs for the Keras resize modes (TensorFlow's fast IDCT or libvips's accurate one): different pixels. */
  jpegDecoder?: 'tensorflow' | 'libvips';
  augment: Required<AugmentSpec> | null;
  seed: number;
}

/** 2: the key names preprocessing (a PixelTransform) instead of a value range. */
const FORMAT = 2;

export class ActivationCache {
  readonly dir: string;
  hits = 0;
  misses = 0;

  constructor(
    root: string,
    key: ActivationKey,
    private readonly floatsPerItem: number,
  ) {
    const digest = createHash('sha256')
      .update(JSON.stringify({ FORMAT, ...key }))
      .digest('hex')
      .slice(0, 32);
    this.dir = path.join(root, 'activations', digest);
    fs.mkdirSync(this.dir, { recursive: true });
    const about = path.join(this.dir, 'key.json');
    if (!fs.existsSync(about)) fs.writeFileSync(about, JSON.stringify({ format: FORMAT, ...key }, null, 2));
  }

  private file(contentHash: string, view: number): string {
    return path.join(this.dir, contentHash.slice(0, 2), `${contentHash}.v${view}.f32`);
  }

  /** The cached floats, or undefined (missing or the wrong size: a torn write is a miss). */
  get(contentHash: string, view: number): Float32Array | undefined {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.file(contentHash, view));
    } catch {
      this.misses++;
      return undefined;
    }
    if (bytes.byteLength !== this.floatsPerItem * 4) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }

  put(contentHash: string, view: number, floats: Float32Array): void {
    const target = this.file(contentHash, view);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(tmp, new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength));
      fs.renameSync(tmp, target);
    } catch {
      // A cache that cannot be written (disk full, read-only) only costs speed.
      fs.rmSync(tmp, { force: true });
    }
  }
}

export function hashFileContent(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
