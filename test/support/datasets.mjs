// Small split datasets for tests, copied from the one that ships (media/datasets/fashion-target:
// 5 Fashion-MNIST classes, train/val/test): the first `per[split]` images of each class.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shipped dataset of the repository at `repo`. */
export const shippedDataset = (repo) => path.join(repo, 'media/datasets/fashion-target');

/**
 * Copies per = { train, val, test } images of each class into dest/<split>/<class>/. `repo`: the
 * repository root (default: found from this file; bundled unit tests pass theirs).
 */
export function copyShippedDataset(dest, per, repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')) {
  const src = shippedDataset(repo);
  for (const [split, n] of Object.entries(per))
    for (const cls of fs.readdirSync(path.join(src, split))) {
      fs.mkdirSync(path.join(dest, split, cls), { recursive: true });
      for (const f of fs
        .readdirSync(path.join(src, split, cls))
        .sort()
        .slice(0, n))
        fs.copyFileSync(path.join(src, split, cls, f), path.join(dest, split, cls, f));
    }
}

/**
 * Writes a small experiment on ./data with the shipped backbone to `file`: feature extraction,
 * one epoch of batch 4 unless `fields` say otherwise (top-level fields replace whole sections).
 */
export function writeTinyExperiment(file, fields = {}) {
  const experiment = {
    name: 'tiny',
    data: { dir: 'data' },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 1, batchSize: 4 },
    ...fields,
  };
  fs.writeFileSync(file, JSON.stringify(experiment));
  return file;
}
