// Measures how well a backbone transfers to the shipped target task (media/datasets/fashion-target):
// scratch / feature extraction / fine-tuning at a few images per class x seeds, each cell an
// ordinary `transfer-lab run` of the CLI as built (node esbuild.mjs first). The settings are the
// demo's (src/cli/demoCommand.ts), so the model card's table means what the demo shows.
// Subsets are stratified and nested: for one seed, the 5-per-class set is part of the 20-per-class set.
//
//   node scripts/pretrain-backbone/transfer-grid.mjs --model DIR/model.json --label new [--per-class 5,20] [--seeds 3] [--work DIR]
//   ... --summarise results.json [--baseline old-results.json] [--ablation other.json --ablation-label TEXT] --card media/backbones/fmnist-mini
// The second form measures nothing: it writes the table into the model card (card.json + README.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { option, REPO_ROOT as root } from '../scriptOptions.mjs';
import { transferTable } from './transferTable.mjs';
import { writeCard } from './modelCard.mjs';

const model = path.resolve(option('model', path.join(root, 'media/backbones/fmnist-mini/model.json')));
const label = option('label', path.basename(path.dirname(model)));
const perClassList = String(option('per-class', '5,20')).split(',').map(Number);
const seeds = Number(option('seeds', 3));
const work = path.resolve(option('work', path.join(root, '.transferlab/transfer-grid', label)));
const dataset = path.join(root, 'media/datasets/fashion-target');
const strategies = String(option('strategies', 'scratch,feature-extraction,fine-tune')).split(',');

/** A seeded shuffle (mulberry32), so subsets are the same on every machine. */
function shuffled(list, seed) {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** <work>/data/s<seed>-n<perClass>/{train,val,test}: train a nested prefix of one seeded order per class; val and test whole. */
function subsetDir(seed, perClass) {
  const dir = path.join(work, 'data', `s${seed}-n${perClass}`);
  if (fs.existsSync(dir)) return dir;
  for (const split of ['val', 'test']) fs.cpSync(path.join(dataset, split), path.join(dir, split), { recursive: true });
  for (const cls of fs.readdirSync(path.join(dataset, 'train')).sort()) {
    const files = shuffled(fs.readdirSync(path.join(dataset, 'train', cls)).sort(), seed * 1000 + cls.length);
    if (files.length < perClass) throw new Error(`${cls} has ${files.length} training images, fewer than --per-class ${perClass}`);
    fs.mkdirSync(path.join(dir, 'train', cls), { recursive: true });
    for (const f of files.slice(0, perClass)) fs.copyFileSync(path.join(dataset, 'train', cls, f), path.join(dir, 'train', cls, f));
  }
  return dir;
}

function experiment(name, dir, seed, strategy) {
  const train = { epochs: 40, batchSize: 16, optimizer: 'adam', learningRate: 0.003, earlyStopping: { patience: 8, monitor: 'val_loss' } };
  const kinds = {
    scratch: { kind: 'scratch' },
    'feature-extraction': { kind: 'feature-extraction' },
    'fine-tune': { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 3e-4, warmupEpochs: 10 },
  };
  return {
    name,
    data: { dir, seed },
    backbone: { path: model },
    strategy: kinds[strategy],
    head: { pooling: 'avg', dense: [], dropout: 0.2 },
    train: strategy === 'scratch' ? { ...train, earlyStopping: undefined } : train,
  };
}

/** One run's test accuracy, best val accuracy, epochs (to 70% val) and training time, from the CLI's --json event lines. */
function runCell(file) {
  const r = spawnSync(process.execPath, [path.join(root, 'dist/cli.js'), 'run', file, '--json', '--runs-dir', path.join(work, 'runs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  const { metrics } = events.find((e) => e.type === 'finished');
  const reached = events.find((e) => e.type === 'epoch' && e.valAccuracy >= 0.7);
  return {
    testAccuracy: metrics.accuracy,
    bestValAccuracy: metrics.bestValAccuracy,
    epochs: metrics.epochs,
    epochsTo70: reached?.epoch ?? null,
    trainSeconds: metrics.trainSeconds,
  };
}

const SETUP = `Target task: media/datasets/fashion-target (Coat, Sandal, Shirt, Sneaker, Ankle boot), test split 50 images per class,
val 10 per class; training subsets stratified and nested (seeds 1-3 pick them; 20 per class is the whole train split).
The demo's settings: 40 epochs, batch 16, Adam 0.003, avg pooling + dropout 0.2 + softmax head, early stopping on
val_loss (patience 8) except for scratch; fine-tune unfreezes from block_5_dw at 3e-4 after 10 head-only epochs.
Scratch is the same architecture with random weights, so its row changes with the architecture. Each cell is
\`transfer-lab run\` (native backend), measured by scripts/pretrain-backbone/transfer-grid.mjs. Heads are not seeded
by the CLI yet, so a rerun moves each cell by a few points. Train times are wall-clock seconds on a 2-core machine
shared with other work, and the two backbones' grids ran at different times: compare times within a column.`;

const summarise = option('summarise', '');
if (summarise) {
  const read = (f) => JSON.parse(fs.readFileSync(path.resolve(f), 'utf8'));
  const baseline = option('baseline', '');
  const dir = path.resolve(option('card', path.dirname(model)));
  const card = read(path.join(dir, 'card.json'));
  const ablation = option('ablation', '');
  const variant = ablation ? { label: option('ablation-label', path.basename(ablation)), results: read(ablation) } : undefined;
  card.transfer = transferTable(read(summarise), baseline ? read(baseline) : undefined, SETUP, variant);
  writeCard(dir, card);
  console.log(card.transfer.summary);
  process.exit(0);
}

fs.mkdirSync(work, { recursive: true });
const results = [];
for (const perClass of perClassList)
  for (let seed = 1; seed <= seeds; seed++) {
    const dir = subsetDir(seed, perClass);
    for (const strategy of strategies) {
      const file = path.join(work, `${strategy}-n${perClass}-s${seed}.tlexp.json`);
      fs.writeFileSync(file, `${JSON.stringify(experiment(`${label}-${strategy}-n${perClass}-s${seed}`, dir, seed, strategy), null, 2)}\n`);
      const started = Date.now();
      const cell = runCell(file);
      results.push({ label, perClass, seed, strategy, seconds: (Date.now() - started) / 1000, ...cell });
      console.log(JSON.stringify(results[results.length - 1]));
    }
  }
fs.writeFileSync(path.join(work, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
