// The workflow commands in a real VS Code: Scaffold Dataset (both modes), New Experiment
// (scripted answers, and the wizard driven through its quick picks), then a real run on the
// shipped dataset whose model predicts a shipped test image and is exported, and Compare Runs
// of two runs rendering in its webview.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { Prediction } from '../../src/core/layerSummary';
import type { CompareSnapshot } from '../../src/extension/comparePanel';
import { COMPARE_PROTOCOL } from '../../src/core/compareMessages';
import { loadExperimentText } from '../../src/core/experimentValidation';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
const shipped = path.join(repo, 'media/datasets/fashion-target');
const CLASSES = ['ankle-boot', 'coat', 'sandal', 'shirt', 'sneaker'];
const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const PNG = fs.readFileSync(path.join(shipped, 'train/coat', fs.readdirSync(path.join(shipped, 'train/coat'))[0]));

async function api(): Promise<TransferLabApi> {
  return vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
}

/** The shipped dataset, copied into the workspace once (so experiments can point at it relatively). */
function datasetInWorkspace(): string {
  const dir = path.join(workspace(), 'datasets', 'fashion-target');
  if (!fs.existsSync(dir)) fs.cpSync(shipped, dir, { recursive: true });
  return dir;
}

async function runToEnd(tl: TransferLabApi, file: string): Promise<string> {
  await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file));
  await waitFor('the run to finish', () => !tl.runs.running(file), 150_000);
  await tl.runIndex.refresh();
  const [run] = tl.runIndex.forExperiment(file);
  assert.equal(run?.record.status, 'succeeded', run?.record.failure?.message);
  return run.dir;
}

function setEpochs(file: string, epochs: number): void {
  const exp = JSON.parse(fs.readFileSync(file, 'utf8'));
  exp.train.epochs = epochs;
  exp.train.batchSize = 16;
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
}

test('workflows: Scaffold Dataset creates class folders and a README, and refuses a folder with files', async () => {
  await api();
  const result = (await vscode.commands.executeCommand('transferLab.scaffoldDataset', {
    mode: 'new',
    dir: 'scaffolded/pets',
    classes: ['cats', 'dogs', 'birds'],
    splits: true,
  })) as { dir: string; readme?: string } | undefined;
  const dir = path.join(workspace(), 'scaffolded/pets');
  assert.equal(result?.dir, dir);
  for (const split of ['train', 'val', 'test'])
    for (const c of ['cats', 'dogs', 'birds']) assert.ok(fs.statSync(path.join(dir, split, c)).isDirectory(), `${split}/${c}`);
  assert.match(fs.readFileSync(path.join(dir, 'README.md'), 'utf8'), /\| birds \| 0 \| 0 \| 0 \|/);

  const taken = path.join(workspace(), 'scaffolded/notes');
  fs.mkdirSync(taken, { recursive: true });
  fs.writeFileSync(path.join(taken, 'todo.txt'), 'mine');
  assert.equal(await vscode.commands.executeCommand('transferLab.scaffoldDataset', { mode: 'new', dir: taken, classes: ['a', 'b'] }), undefined);
  assert.deepEqual(fs.readdirSync(taken), ['todo.txt'], 'nothing added next to the user file');
});

test('workflows: Scaffold Dataset splits a folder-per-class dataset by copying, leaving the source untouched', async () => {
  await api();
  const src = path.join(workspace(), 'flat');
  for (const c of ['red', 'green']) {
    fs.mkdirSync(path.join(src, c), { recursive: true });
    for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(src, c, `${i}.png`), PNG);
  }
  const before = fs.readdirSync(path.join(src, 'red')).length;
  const result = (await vscode.commands.executeCommand('transferLab.scaffoldDataset', {
    mode: 'split',
    source: src,
    dest: 'flat-split',
    val: 0.2,
    test: 0.2,
  })) as { dir: string; counts: Record<string, { train: number; val: number; test: number }> } | undefined;
  assert.ok(result, 'split done');
  assert.equal(result.dir, path.join(workspace(), 'flat-split'));
  assert.deepEqual(result.counts.red, { train: 6, val: 2, test: 2 });
  assert.equal(fs.readdirSync(path.join(result.dir, 'val', 'green')).length, 2);
  assert.equal(fs.readdirSync(path.join(src, 'red')).length, before, 'copy leaves the source as it was');
  assert.match(fs.readFileSync(path.join(result.dir, 'README.md'), 'utf8'), /\| red \| 2 \| 6 \| 2 \|/, 'README columns: test, train, val');
  // A second split into the same (now non-empty) destination is refused.
  assert.equal(await vscode.commands.executeCommand('transferLab.scaffoldDataset', { mode: 'split', source: src, dest: 'flat-split' }), undefined);
});

test('workflows: New Experiment with scripted answers writes a valid experiment with relative paths and opens it', async () => {
  await api();
  const dataset = datasetInWorkspace();
  const uri = (await vscode.commands.executeCommand('transferLab.newExperiment', {
    dataset: 'datasets/fashion-target',
    backbone: 'fmnist-mini',
    strategy: { advise: 'different' },
    name: 'scripted',
  })) as vscode.Uri | undefined;
  assert.ok(uri, 'a Uri');
  assert.equal(uri.fsPath, path.join(workspace(), 'scripted.tlexp.json'));
  const text = fs.readFileSync(uri.fsPath, 'utf8');
  const loaded = loadExperimentText(text, uri.fsPath);
  assert.ok(loaded.ok, JSON.stringify(loaded));
  assert.equal(loaded.value.data.dir, dataset);
  const raw = JSON.parse(text);
  assert.equal(raw.data.dir, 'datasets/fashion-target', 'relative path');
  // 20 training images per class and different data: feature extraction from an earlier layer.
  assert.deepEqual(raw.strategy, { kind: 'feature-extraction' });
  assert.equal(raw.backbone.cutAt, 'block_3_pw_relu');
  // 100 training images: more epochs in smaller batches than Keras's 10 x 32, and the file says why.
  assert.deepEqual([raw.train.epochs, raw.train.batchSize], [43, 16]);
  assert.match(raw.description, /Training: 43 epochs of batch 16/);
  assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath, 'opened');
  // The same name again is refused, and the file is not overwritten.
  assert.equal(
    await vscode.commands.executeCommand('transferLab.newExperiment', {
      dataset: 'datasets/fashion-target',
      backbone: 'fmnist-mini',
      strategy: { kind: 'scratch' },
      name: 'scripted',
    }),
    undefined,
  );
  assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), text);
});

test('workflows: the New Experiment wizard goes through its four steps (with Back) and writes the file', async () => {
  await api();
  datasetInWorkspace();
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  let finished = false;
  const created = (vscode.commands.executeCommand('transferLab.newExperiment') as Thenable<vscode.Uri | undefined>).then((u) => {
    finished = true;
    return u;
  });
  const accept = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  await pause(800);
  await accept(); // 1: the dataset found in the workspace
  await pause(500);
  await accept(); // 2: the first catalog entry (fmnist-mini)
  await pause(500);
  await vscode.commands.executeCommand('workbench.action.quickInputBack'); // back to 2
  await pause(500);
  await accept(); // 2 again
  await pause(500);
  await accept(); // 3: the recommended strategy
  await pause(500);
  // Had Back not gone back, this would be the fifth answer of four and the wizard would be done.
  assert.equal(finished, false, 'Back went back a step, so the name step is still open');
  await accept(); // 4: the suggested name
  const uri = await Promise.race([created, pause(15_000).then(() => undefined)]);
  assert.ok(uri, 'the wizard finished with a file');
  const raw = JSON.parse(fs.readFileSync(uri.fsPath, 'utf8'));
  note(`wizard wrote ${path.basename(uri.fsPath)}: ${JSON.stringify(raw.strategy)}`);
  assert.equal(raw.backbone.catalog, 'fmnist-mini');
  assert.equal(raw.strategy.kind, 'feature-extraction');
  assert.equal(raw.data.dir, 'datasets/fashion-target');
  assert.match(path.basename(uri.fsPath), /^fashion-target-fmnist-mini-features(-\d+)?\.tlexp\.json$/);
  assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, uri.fsPath);
});

test('workflows: a real run: Predict Image classifies a shipped test image, Export Model copies the model, Compare Runs renders two runs', async () => {
  const tl = await api();
  datasetInWorkspace();
  const fe = (await vscode.commands.executeCommand('transferLab.newExperiment', {
    dataset: 'datasets/fashion-target',
    backbone: 'fmnist-mini',
    strategy: { kind: 'feature-extraction' },
    name: 'flow-features',
  })) as vscode.Uri;
  setEpochs(fe.fsPath, 3);
  const runA = await runToEnd(tl, fe.fsPath);

  // Predict: one shipped test image; the labels are the dataset's classes.
  const image = path.join(shipped, 'test/sneaker', fs.readdirSync(path.join(shipped, 'test/sneaker'))[0]);
  const predictions = (await vscode.commands.executeCommand('transferLab.predictImage', vscode.Uri.file(image), { runDir: runA })) as Prediction[] | undefined;
  assert.ok(predictions && predictions.length === 1, 'one prediction');
  assert.equal(predictions[0].error, undefined);
  assert.ok(predictions[0].top.length >= 3);
  for (const t of predictions[0].top) assert.ok(CLASSES.includes(t.label), t.label);
  note(
    `${path.basename(image)} (a sneaker): ${predictions[0].top
      .slice(0, 3)
      .map((t) => `${t.label} ${(t.probability * 100).toFixed(1)}%`)
      .join(', ')}`,
  );
  // Several images, one not decodable: an error for that one, labels for the others.
  const broken = path.join(workspace(), 'broken.png');
  fs.writeFileSync(broken, 'not a png');
  const several = (await vscode.commands.executeCommand('transferLab.predictImage', { runDir: runA, images: [image, broken] })) as Prediction[];
  await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  assert.equal(several.length, 2);
  assert.equal(several[0].error, undefined);
  assert.ok(several[1].error, 'the broken image has an error');

  // Export to an empty folder: every model file is copied.
  const target = path.join(workspace(), 'exported');
  const exported = (await vscode.commands.executeCommand('transferLab.exportModel', runA, target)) as { targetDir: string; files: string[] } | undefined;
  assert.ok(exported);
  for (const f of ['model.json', 'weights.bin', 'labels.json', 'preprocessing.json']) {
    assert.ok(exported.files.includes(f), f);
    assert.deepEqual(fs.readFileSync(path.join(target, f)), fs.readFileSync(path.join(runA, 'model', f)), `${f} identical`);
  }
  assert.deepEqual([...JSON.parse(fs.readFileSync(path.join(target, 'labels.json'), 'utf8'))].sort(), [...CLASSES].sort());

  // A second run with another strategy, then compare the two as the tree would pass them.
  const ft = (await vscode.commands.executeCommand('transferLab.newExperiment', {
    dataset: 'datasets/fashion-target',
    backbone: 'fmnist-mini',
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' },
    name: 'flow-finetune',
  })) as vscode.Uri;
  setEpochs(ft.fsPath, 2);
  const runB = await runToEnd(tl, ft.fsPath);
  const nodes = [runA, runB].map((dir) => ({ kind: 'run', dir, experiment: fe }));
  const snapshot = (await vscode.commands.executeCommand('transferLab.compareRuns', nodes[0], nodes)) as CompareSnapshot | undefined;
  assert.ok(snapshot, 'a panel');
  assert.deepEqual(snapshot.runDirs, [runA, runB]);
  const rendered = await waitFor('the compare view to render', () => snapshot.received.find((m) => m.type === 'rendered'), 30_000);
  assert.deepEqual(rendered, {
    type: 'rendered',
    protocol: COMPARE_PROTOCOL,
    runs: 2,
    charts: 3,
    differenceRows: snapshot.posted.at(-1)!.differences.length,
    metricRows: 7,
  });
  const state = snapshot.posted.at(-1)!;
  assert.deepEqual(
    state.runs.map((r) => r.points.length),
    [3, 2],
    'epochs per run',
  );
  const fields = state.differences.map((d) => d.field);
  assert.ok(fields.includes('strategy') && fields.includes('unfreeze from') && fields.includes('epochs (planned)'), fields.join(', '));
  assert.ok(!fields.includes('backbone'), 'equal fields are not listed');
  note(`compare: differences ${fields.join(', ')}; test accuracy ${state.metrics[0].values.join(' vs ')}`);
  const again = (await vscode.commands.executeCommand('transferLab.compareRuns.snapshot')) as CompareSnapshot;
  assert.equal(again.visible, true);
}, 420_000);
