// Fashion-MNIST (Zalando Research, MIT licence) from Debian's dataset-fashion-mnist package,
// read from its IDX files and written out as real PNG class folders. Used by the backbone
// pretraining script, the demo dataset generator and the tests, so all see the same images.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { createRequire } from 'node:module';

export const FASHION_MNIST_DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
export const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
/** Folder-safe names: t-shirt-top, trouser, ... */
export const CLASS_SLUGS = CLASS_NAMES.map((n) => n.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
/** Classes the shipped backbone is pretrained on (the source task). */
export const SOURCE_CLASSES = [0, 1, 2, 3, 8];
/** Classes it never sees: the demo's and the tests' target task. */
export const TARGET_CLASSES = [4, 5, 6, 7, 9];

function readIdx(file) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new Error(`${file} is missing: install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or set FASHION_MNIST_DIR`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  const dims = bytes[3];
  const shape = Array.from({ length: dims }, (_, i) => bytes.readUInt32BE(4 + i * 4));
  return {
    shape,
    data: new Uint8Array(
      bytes.buffer,
      bytes.byteOffset + 4 + dims * 4,
      shape.reduce((a, b) => a * b, 1),
    ),
  };
}

const cache = new Map();
/** { images: Uint8Array (n*28*28), labels: Uint8Array, n } for 'train' (60,000) or 'test' (10,000). */
export function readFashionMnist(split) {
  if (cache.has(split)) return cache.get(split);
  const prefix = split === 'test' ? 't10k' : 'train';
  const find = (kind) => {
    for (const name of [`${prefix}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte.gz`, `${prefix}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte`]) {
      const f = path.join(FASHION_MNIST_DIR, name);
      if (fs.existsSync(f)) return f;
    }
    return path.join(FASHION_MNIST_DIR, `${prefix}-${kind}-idx${kind === 'images' ? 3 : 1}-ubyte.gz`);
  };
  const images = readIdx(find('images'));
  const labels = readIdx(find('labels'));
  const result = { images: images.data, labels: labels.data, n: labels.shape[0] };
  cache.set(split, result);
  return result;
}

/** Indices of `perClass` images of each class, taken in file order after `offset` per class. */
export function pickIndices(split, classes, perClass, offset = 0) {
  const { labels, n } = readFashionMnist(split);
  const picked = new Map(classes.map((c) => [c, []]));
  const skipped = new Map(classes.map((c) => [c, 0]));
  for (let i = 0; i < n; i++) {
    const list = picked.get(labels[i]);
    if (!list || list.length >= perClass) continue;
    if (skipped.get(labels[i]) < offset) {
      skipped.set(labels[i], skipped.get(labels[i]) + 1);
      continue;
    }
    list.push(i);
  }
  return picked;
}

function sharpFrom(root) {
  return createRequire(path.join(root, 'noop.js'))('sharp');
}

/**
 * Writes real grayscale PNGs: <dir>/<class-slug>/<split>-<index>.png.
 * Returns the number of files per class.
 */
export async function writePngClassFolders(dir, { classes, perClass, split = 'train', offset = 0, root = process.cwd() }) {
  const sharp = sharpFrom(root);
  const { images } = readFashionMnist(split);
  const picked = pickIndices(split, classes, perClass, offset);
  const counts = {};
  for (const [c, indices] of picked) {
    const folder = path.join(dir, CLASS_SLUGS[c]);
    fs.mkdirSync(folder, { recursive: true });
    await Promise.all(
      indices.map((i) =>
        sharp(Buffer.from(images.subarray(i * 784, (i + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
          .png({ compressionLevel: 9 })
          .toFile(path.join(folder, `${split}-${String(i).padStart(5, '0')}.png`)),
      ),
    );
    counts[CLASS_SLUGS[c]] = indices.length;
  }
  return counts;
}
