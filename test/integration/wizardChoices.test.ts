// New Experiment with a user's own model.json (its earlier cut and the cut before its old
// classifier head are written as backbone.cutAt), and Run Experiment refusing, before a run
// exists, a catalog backbone that is not downloaded while its host cannot be reached (the
// Keras mirror pointed at a host that never resolves simulates being offline: ENOTFOUND).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import { note, test } from './harness';
import { writeSmallCnnModelJson } from '../fixtures/smallCnnTopology';
import { fixturePath, loadKerasFixtures } from '../support/kerasFixtures';

const repo = path.resolve(__dirname, '../../..');
const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

async function api(): Promise<TransferLabApi> {
  return vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
}

function dataset(): string {
  const dir = path.join(workspace(), 'datasets', 'fashion-target');
  if (!fs.existsSync(dir)) fs.cpSync(path.join(repo, 'media/datasets/fashion-target'), dir, { recursive: true });
  return 'datasets/fashion-target';
}

async function newExperiment(name: string, backbone: unknown, strategy: unknown): Promise<{ uri: vscode.Uri; raw: Record<string, any> }> {
  const uri = (await vscode.commands.executeCommand('transferLab.newExperiment', { dataset: dataset(), backbone, strategy, name })) as vscode.Uri | undefined;
  assert.ok(uri, `${name} written`);
  return { uri, raw: JSON.parse(fs.readFileSync(uri.fsPath, 'utf8')) };
}

test('wizard choices: a local model.json gets its own earlier cut, and its default cut leaves out the old Flatten/Dense head', async () => {
  await api();
  writeSmallCnnModelJson(path.join(workspace(), 'models', 'small-cnn'));
  const model = { path: 'models/small-cnn/model.json' };
  // 20 images per class, different data: feature extraction from the end of the block before the last.
  const earlier = await newExperiment('local-earlier-cut', model, { advise: 'different' });
  assert.deepEqual(earlier.raw.strategy, { kind: 'feature-extraction' });
  assert.equal(earlier.raw.backbone.cutAt, 'pool2', 'the earlier cut is written for a local model');
  assert.equal(earlier.raw.backbone.path, 'models/small-cnn/model.json');
  // Similar data: plain feature extraction, cut before the old head (flatten, fc1, drop1, predictions).
  const plain = await newExperiment('local-default-cut', model, { advise: 'similar' });
  assert.equal(plain.raw.backbone.cutAt, 'pool3', 'the old classifier head is not kept as frozen backbone');
  note(`local model: earlier cut ${earlier.raw.backbone.cutAt}, default cut ${plain.raw.backbone.cutAt}`);
});

test('wizard choices: a Keras .keras file gets layer choices from its own layers (read by a trainer), and a damaged one says why and still writes the experiment', async () => {
  await api();
  const fx = loadKerasFixtures();
  const resnet = fx.models.find((m) => m.id === 'resnet50')!;
  fs.mkdirSync(path.join(workspace(), 'models'), { recursive: true });
  fs.copyFileSync(fixturePath(fx, resnet.files.keras), path.join(workspace(), 'models', 'wizard-resnet50.keras'));
  const earlier = await newExperiment('keras-earlier-cut', { path: 'models/wizard-resnet50.keras' }, { advise: 'different' });
  assert.deepEqual(earlier.raw.strategy, { kind: 'feature-extraction' });
  // Different data and few images: the end of the ResNet block before the last, a layer of this file.
  assert.match(earlier.raw.backbone.cutAt ?? '', /^conv\d_block\d+_out$/, `an earlier cut at a block end of the file: ${JSON.stringify(earlier.raw.backbone)}`);
  assert.notEqual(earlier.raw.backbone.cutAt, 'conv5_block3_out', 'earlier than the last block');

  // A file that is not Keras: the experiment is still written, without a cut, and the user is told why.
  fs.writeFileSync(path.join(workspace(), 'models', 'broken.keras'), 'not a zip');
  const broken = await newExperiment('keras-broken', { path: 'models/broken.keras' }, { advise: 'different' });
  assert.equal(broken.raw.backbone.cutAt, undefined, 'no cut guessed for a file that cannot be read');
  note(`keras file: earlier cut ${earlier.raw.backbone.cutAt}; a damaged .keras gets no cut`);
}, 180_000);

test('wizard choices: Run Experiment refuses an offline, not-downloaded catalog backbone before a run exists, saying what to do', async () => {
  const tl = await api();
  const { uri } = await newExperiment('offline-convnext', 'convnext_xlarge', { kind: 'feature-extraction' });
  const before = process.env.TRANSFER_LAB_KERAS_MIRROR;
  process.env.TRANSFER_LAB_KERAS_MIRROR = 'https://transfer-lab-offline.invalid/'; // .invalid never resolves
  await vscode.commands.executeCommand('transferLab.offlinePrompts', undefined); // the modal is dismissed
  try {
    const started = await vscode.commands.executeCommand('transferLab.runExperiment', uri);
    assert.equal(started, undefined, 'no run started');
  } finally {
    if (before === undefined) delete process.env.TRANSFER_LAB_KERAS_MIRROR;
    else process.env.TRANSFER_LAB_KERAS_MIRROR = before;
  }
  const asked = (await vscode.commands.executeCommand('transferLab.offlinePrompts', null)) as { message: string; detail: string }[];
  assert.equal(asked.length, 1, 'asked once');
  assert.match(
    asked[0].message,
    /convnext_xlarge is not downloaded yet .*transfer-lab-offline\.invalid, where it downloads from, cannot be reached now \(.+\)/,
  );
  assert.match(asked[0].detail, /online/);
  assert.match(asked[0].detail, /transferLab\.cacheFolder/);
  assert.match(asked[0].detail, /fmnist-mini ships with Transfer Lab/);
  assert.ok(!tl.runs.running(uri.fsPath), 'nothing running');
  await tl.runIndex.refresh();
  assert.deepEqual(tl.runIndex.forExperiment(uri.fsPath), [], 'no run folder was created');
  note(`offline: ${asked[0].message}`);
});
