// The Keras job folder's README.md and requirements.txt: how to run it on a GPU box or a
// cluster, and the versions it was checked with (the Keras Applications catalog's).
import { KERAS_APPLICATIONS } from '../kerasApplications';
import type { KerasJob, KerasSplits } from './jobFile';

export function jobRequirements(): string {
  const { keras, tensorflow } = KERAS_APPLICATIONS.versions;
  return [
    '# The versions train.py was checked with; on a machine without a GPU, tensorflow-cpu works the same.',
    `tensorflow==${tensorflow ?? '2.21.0'}`,
    `keras==${keras}`,
    'numpy',
    '',
  ].join('\n');
}

export function jobReadme(job: KerasJob, splits: KerasSplits): string {
  const n = (s: keyof KerasSplits['splits']) => splits.splits[s].length;
  const e = job.config;
  const strategy =
    e.strategy.kind === 'fine-tune' ? `fine-tune (from ${e.strategy.unfreezeFrom ?? `the last ${e.strategy.unfreezeLast ?? 'all'} layers`})` : e.strategy.kind;
  return `# ${job.experiment.name} as a Keras job

Written by Transfer Lab ("Export Experiment as Keras Script", \`transfer-lab export-script\`) from
\`${job.experiment.file}\`. It trains the same experiment in Keras 3 and writes a Transfer Lab run
folder, so the run shows in the Experiments view and in Compare next to the ones trained in VS Code.

| | |
|---|---|
| data | \`${job.dataDir}\`: ${splits.classes.length} classes, ${n('train')} train / ${n('val')} val / ${n('test')} test images (splits.json: the exact files Transfer Lab's split gave) |
| backbone | ${job.notes[0] ?? JSON.stringify(job.backbone)}, cut at \`${job.cutAt ?? 'the layer before its classifier'}\` |
| strategy | ${strategy} |
| preprocessing | resize \`${job.resize}\`, preprocess_input \`${job.pixels.mode}\` (x * scale + offset per channel, job.json \`pixels\`) |
| training | ${e.train.epochs} epochs, batch ${e.train.batchSize}, ${e.train.optimizer} at ${e.train.learningRate}, schedule ${e.train.schedule.kind}, seed ${e.train.seed} |

## Run it

\`\`\`sh
pip install -r requirements.txt
python train.py                       # one machine: MirroredStrategy over its GPUs (or the CPU)
python train.py --data /mnt/data/set  # the dataset mounted elsewhere (splits.json paths are relative to it)
python train.py --runs-dir runs       # the run folder somewhere else (default: ${job.runsDir})
\`\`\`

A cluster: the same folder and dataset on every worker, and on each one
\`TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": I}}'\`
with its own index, then \`python train.py\` on all of them. MultiWorkerMirroredStrategy splits each
batch of ${e.train.batchSize} (the global batch) across the workers; worker 0 writes the run folder.

## What it writes

\`<runs-dir>/<yyyyMMdd-HHmmss>-${job.slug}-<hex>/\`: run.json, metrics.jsonl (one line per epoch),
eval.json (on the test split, or val when there is none), log.txt and model/ (model.keras, a plain
functional model that \`keras.models.load_model\` opens; labels.json; preprocessing.json). The model
takes preprocessed pixels (preprocessing.json says how). Copy the run folder into the project's
\`.transferlab/runs/\` to see it in VS Code. Transfer Lab's Predict runs TF.js models: for this run,
predict in Python with model.keras.

## Where it can differ from a run in VS Code

The split, preprocessing, architecture, freeze policy, optimizer, schedule, checkpoint choice and
early-stopping rule are the same. Random draws (initial head weights, batch order, dropout,
augmentation) come from Keras's generators seeded with train.seed, not TF.js's, so accuracy agrees
within the spread of seeds, not bit for bit; resize \`center-crop\` (libvips in Transfer Lab) is
approximated with TensorFlow's crop and bilinear resize.
`;
}
