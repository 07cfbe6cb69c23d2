// The layer tree in a real extension host: the real trainer lists fmnist-mini's layers, the
// panel shows them under the file's strategy, and the webview's own message handler edits
// the experiment file as one undoable edit; the panel follows the file, also hand edits.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LAYER_TREE_PROTOCOL as protocol, type LayerItem, type LayerTreeState } from '../../src/core/layerTreeMessages';
import { layerTreeReceive, layerTreeShown, layerTreeState, note, repo, test, waitFor, workspace } from './harness';
import { fixturePath, loadKerasFixtures } from '../support/kerasFixtures';

const layers = (s: LayerTreeState): LayerItem[] => s.groups.flatMap((g) => g.layers);

/** Opens the file and its layer panel; the panel opens beside the code. */
async function openWithPanel(file: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  assert.equal(await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file)), file);
  const tab = await waitFor(
    `a "Layers: layers" tab`,
    () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'Layers: layers'),
    5_000,
  ).catch(() => {
    throw new Error(`no "Layers: layers" tab among ${JSON.stringify(vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label)))}`);
  });
  assert.ok(tab.input instanceof vscode.TabInputWebview);
  assert.notEqual(tab.group.viewColumn, vscode.window.activeTextEditor?.viewColumn, 'beside the code');
  return doc;
}

/** The real trainer's layer table, shown under feature extraction: everything frozen. */
async function checkAllFrozen(file: string): Promise<LayerTreeState> {
  const before = await layerTreeShown(file, 'the layer tree', () => true, 90_000);
  const all = layers(before);
  note(`fmnist-mini: ${all.length} layers in ${before.groups.length} rows; cut at ${before.cutAt}; frozen ${before.frozenParams}`);
  assert.equal(before.kind, 'layers');
  assert.ok(all.some((l) => l.name === 'block_5_dw'));
  assert.ok(
    before.groups.some((g) => g.block === 'block_5' && g.layers.length === 6),
    'block_5_* is one group of six',
  );
  assert.ok(before.groups.some((g) => g.block === 'stem'));
  assert.equal(all.filter((l) => l.state === 'trainable').length, 0);
  assert.ok(before.frozenParams > 0);
  assert.equal(before.trainableParams, 0);
  assert.deepEqual(
    all.filter((l) => l.isCut).map((l) => l.name),
    [before.cutAt],
  );
  return before;
}

/** Refused messages leave the file alone; "Train from here" edits it in the editor, unsaved. */
async function checkTrainFromHere(file: string, doc: vscode.TextDocument, original: string, before: LayerTreeState): Promise<void> {
  // Messages naming layers the backbone does not have never reach the file.
  assert.equal(await layerTreeReceive(file, { type: 'train-from', protocol, layer: 'block_99_dw' }), 'refused');
  assert.equal(await layerTreeReceive(file, { type: 'delete-file', protocol }), 'refused');
  assert.equal(doc.getText(), original);

  // The same handler the webview's "Train from here" button posts to.
  assert.equal(await layerTreeReceive(file, { type: 'train-from', protocol, layer: 'block_5_dw' }), 'changed');
  const edited = JSON.parse(doc.getText());
  assert.deepEqual(edited.strategy, { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' });
  assert.deepEqual(edited.train, { epochs: 2 }, 'other fields untouched');
  assert.ok(doc.isDirty, 'an edit in the editor, not a hidden write');
  assert.equal(fs.readFileSync(file, 'utf8'), original, 'not saved behind the user');
  const after = await layerTreeShown(file, 'the boundary at block_5_dw', (s) => s.boundary === 'block_5_dw');
  const trainable = layers(after)
    .filter((l) => l.state === 'trainable')
    .map((l) => l.name);
  assert.equal(trainable[0], 'block_5_dw');
  assert.ok(trainable.includes(after.cutAt), 'trainable up to the cut');
  assert.ok(after.trainableParams > 0 && after.frozenParams > 0);
  assert.equal(after.trainableParams + after.frozenParams, before.frozenParams, 'the same base, split differently');
}

/** Undo in the file's editor restores it, and the panel follows. */
async function checkUndo(file: string, doc: vscode.TextDocument, original: string): Promise<void> {
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('undo');
  assert.equal(doc.getText(), original);
  await layerTreeShown(file, 'everything frozen again', (s) => s.strategy === 'feature-extraction' && s.trainableParams === 0);
}

/** "Cut here", a hand edit, "freeze all", then broken JSON: the panel follows each. */
async function checkCutHandEditAndBrokenJson(file: string, doc: vscode.TextDocument): Promise<void> {
  // "Cut here" sets backbone.cutAt; a hand edit of the JSON re-renders the panel too.
  assert.equal(await layerTreeReceive(file, { type: 'cut-at', protocol, layer: 'block_3_pw_relu' }), 'changed');
  assert.equal(JSON.parse(doc.getText()).backbone.cutAt, 'block_3_pw_relu');
  const cut = await layerTreeShown(file, 'the cut at block_3_pw_relu', (s) => s.cutAt === 'block_3_pw_relu');
  assert.equal(layers(cut).find((l) => l.name === 'block_5_dw')!.state, 'after-cut');
  const editor = await vscode.window.showTextDocument(doc);
  const text = doc.getText();
  const start = text.indexOf('"feature-extraction"');
  await editor.edit((b) => b.replace(new vscode.Range(doc.positionAt(start), doc.positionAt(start + '"feature-extraction"'.length)), '"scratch"'));
  const scratch = await layerTreeShown(file, 'scratch after a hand edit', (s) => s.strategy === 'scratch');
  assert.equal(scratch.reinitialized, true);
  assert.match(scratch.strategyText, /re-initialised/);
  assert.equal(await layerTreeReceive(file, { type: 'freeze-all', protocol }), 'changed');
  assert.deepEqual(JSON.parse(doc.getText()).strategy, { kind: 'feature-extraction' });

  // Broken JSON: the panel says what is wrong instead of showing a stale tree.
  await editor.edit((b) => b.insert(doc.positionAt(0), 'x'));
  await waitFor('an error for the broken file', async () => ((await layerTreeState(file))?.type === 'error' ? true : undefined));
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

test('layer tree: "train from here" edits the experiment file, the panel follows, and undo restores it', async () => {
  const file = path.join(workspace(), 'layers.tlexp.json');
  const original = `${JSON.stringify({ name: 'layers', data: { dir: path.join(repo, 'media/datasets/fashion-target') }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' }, train: { epochs: 2 } }, null, 2)}\n`;
  fs.writeFileSync(file, original);
  const doc = await openWithPanel(file);
  const before = await checkAllFrozen(file);
  await checkTrainFromHere(file, doc, original, before);
  await checkUndo(file, doc, original);
  await checkCutHandEditAndBrokenJson(file, doc);
}, 150_000);

test('layer tree: a backbone that cannot load is an error that says which and why', async () => {
  const file = path.join(workspace(), 'missing.tlexp.json');
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        name: 'missing',
        data: { dir: path.join(repo, 'media/datasets/fashion-target') },
        backbone: { path: 'no/such/model.json' },
        strategy: { kind: 'feature-extraction' },
      },
      null,
      2,
    ),
  );
  assert.equal(await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file)), file);
  const m = await waitFor(
    'an error',
    async () => {
      const s = await layerTreeState(file);
      return s?.type === 'error' ? s : undefined;
    },
    60_000,
  );
  note(`error shown: ${m.message}`);
  assert.match(m.message, /missing\.tlexp\.json/);
  assert.match(m.message, /model\.json/);
  assert.equal(m.retry, true);
}, 90_000);

test('layer tree: a Keras ResNet50 shows its stages and blocks; "Train from here" on a block header trains from its first layer', async () => {
  const fx = loadKerasFixtures();
  const resnet = fx.models.find((m) => m.id === 'resnet50')!;
  fs.mkdirSync(path.join(workspace(), 'models'), { recursive: true });
  fs.copyFileSync(fixturePath(fx, resnet.files.keras), path.join(workspace(), 'models', 'resnet50.keras'));
  const file = path.join(workspace(), 'resnet.tlexp.json');
  fs.writeFileSync(
    file,
    `${JSON.stringify({ name: 'resnet', data: { dir: path.join(repo, 'media/datasets/fashion-target') }, backbone: { path: 'models/resnet50.keras' }, strategy: { kind: 'feature-extraction' } }, null, 2)}\n`,
  );
  const doc = await vscode.workspace.openTextDocument(file);
  await vscode.window.showTextDocument(doc);
  assert.equal(await vscode.commands.executeCommand('transferLab.showLayers', vscode.Uri.file(file)), file);
  const tree = await layerTreeShown(file, 'the ResNet50 layer tree', () => true, 120_000);
  note(
    `resnet50: ${tree.layerCount} layers in ${tree.groups.length} rows, stages ${tree.stages.map((s) => `${s.name} (${s.blocks})`).join(', ')}; cut ${tree.cutAt} ${tree.cutNote}`,
  );
  assert.equal(tree.scheme, 'resnet');
  assert.deepEqual(
    tree.stages.map((s) => [s.name, s.blocks]),
    [
      ['stem', 1],
      ['conv2', 3],
      ['conv3', 4],
      ['conv4', 6],
      ['conv5', 3],
    ],
  );
  const block = tree.groups.find((g) => g.block === 'conv4_block3')!;
  assert.equal(block.stage, 'conv4');
  assert.equal(block.layers.length, 10);
  assert.doesNotMatch(tree.cutNote, /usual cut/, "a user's file is not a catalog entry");
  assert.equal(block.trainFrom, 'conv4_block3_1_conv');
  assert.equal(await layerTreeReceive(file, { type: 'train-from', protocol, layer: block.trainFrom }), 'changed');
  assert.deepEqual(JSON.parse(doc.getText()).strategy, { kind: 'fine-tune', unfreezeFrom: 'conv4_block3_1_conv' });
  const after = await layerTreeShown(file, 'the boundary at conv4_block3', (s) => s.boundary === 'conv4_block3_1_conv');
  assert.equal(
    after.groups.find((g) => g.block === 'conv4_block2')!.layers.every((l) => l.state === 'frozen'),
    true,
  );
  assert.equal(
    after.groups.find((g) => g.block === 'conv5_block3')!.layers.every((l) => l.state === 'trainable'),
    true,
  );
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}, 180_000);
