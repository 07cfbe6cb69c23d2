// Writes the small target dataset that ships with Transfer Lab: five Fashion-MNIST classes
// the shipped backbone never saw, already split (train/ val/ test/), as real PNG files.
//
//   node scripts/make-demo-dataset.mjs [--out DIR] [--train N] [--val N] [--test N]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { option, REPO_ROOT as root } from './scriptOptions.mjs';
import { writePngClassFolders, TARGET_CLASSES, CLASS_NAMES } from './fashionMnist.mjs';

const out = path.resolve(option('out', path.join(root, 'media/datasets/fashion-target')));
const perSplit = { train: Number(option('train', 20)), val: Number(option('val', 10)), test: Number(option('test', 50)) };

fs.rmSync(out, { recursive: true, force: true });
// train and val come from Fashion-MNIST's train split (disjoint: val starts after train's
// images of each class); test from its test split.
const counts = {
  train: await writePngClassFolders(path.join(out, 'train'), { classes: TARGET_CLASSES, perClass: perSplit.train, split: 'train', root }),
  val: await writePngClassFolders(path.join(out, 'val'), { classes: TARGET_CLASSES, perClass: perSplit.val, split: 'train', offset: perSplit.train, root }),
  test: await writePngClassFolders(path.join(out, 'test'), { classes: TARGET_CLASSES, perClass: perSplit.test, split: 'test', root }),
};
let bytes = 0;
const walk = (d) =>
  fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : (bytes += fs.statSync(path.join(d, e.name)).size)));
walk(out);
fs.writeFileSync(
  path.join(out, 'README.md'),
  `# fashion-target: the demo's dataset

Five Fashion-MNIST classes that the shipped backbone (\`fmnist-mini\`) never saw during
pretraining: ${TARGET_CLASSES.map((c) => CLASS_NAMES[c]).join(', ')}. Real 28x28 grayscale PNGs.

| split | images per class | from |
|---|---|---|
| train | ${perSplit.train} | Fashion-MNIST train split, first images of each class |
| val | ${perSplit.val} | Fashion-MNIST train split, the next images |
| test | ${perSplit.test} | Fashion-MNIST test split |

Fashion-MNIST is by Zalando Research, MIT licence. Regenerate with
\`node scripts/make-demo-dataset.mjs\` (needs Debian's dataset-fashion-mnist).
`,
);
console.log(`[demo-dataset] ${out}: ${JSON.stringify(counts)}; ${bytes} bytes`);
