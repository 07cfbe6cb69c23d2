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
