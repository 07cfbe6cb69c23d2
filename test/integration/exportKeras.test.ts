// Export Model as Keras 3: the command, given the format, has the bundled CLI write
// model.keras, labels.json, preprocessing.json and preprocess.py beside each other, from a
// real (tiny) TF.js layers model in a run folder; a run whose model Keras cannot take
// (a graph-model base) is refused with the CLI's message and writes nothing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { ExportOutcome } from '../../src/extension/commands/exportModel';
import { test } from './harness';
import { succeededRun } from './runFixtures';
import { pixelTransform } from '../../src/core/preprocessing';
import { preprocessingFile } from '../../src/core/preprocessingFile';

const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

/** input [2, 2, 3] -> Flatten -> Dense(2, softmax): a layers model tf.loadLayersModel reads, 26 weights. */
const TOPOLOGY = {
  class_name: 'Model',
  config: {
    name: 'tiny',
    layers: [
      {
        name: 'pixels',
        class_name: 'InputLayer',
        config: { batch_input_shape: [null, 2, 2, 3], dtype: 'float32', sparse: false, name: 'pixels' },
        inbound_nodes: [],
      },
      { name: 'flat', class_name: 'Flatten', config: { name: 'flat', trainable: true }, inbound_nodes: [[['pixels', 0, 0, {}]]] },
      {
        name: 'out',
        class_name: 'Dense',
        config: { name: 'out', trainable: true, units: 2, activation: 'softmax', use_bias: true },
        inbound_nodes: [[['flat', 0, 0, {}]]],
      },
    ],
    input_layers: [['pixels', 0, 0]],
    output_layers: [['out', 0, 0]],
  },
  keras_version: 'tfjs-layers 4.22.0',
  backend: 'tensor_flow.js',
};

function runWithModel(name: string, graphBase: boolean): string {
  return succeededRun(name, (dir) => {
    const model = path.join(dir, 'model');
    fs.mkdirSync(model);
    const weights = [
      { name: 'out/kernel', shape: [12, 2], dtype: 'float32' },
      { name: 'out/bias', shape: [2], dtype: 'float32' },
    ];
    const data = Float32Array.from({ length: 26 }, (_, i) => (i % 5) / 10 - 0.2);
    fs.writeFileSync(
      path.join(model, 'model.json'),
      JSON.stringify({ format: 'layers-model', modelTopology: TOPOLOGY, weightsManifest: [{ paths: ['weights.bin'], weights }] }),
    );
    fs.writeFileSync(path.join(model, 'weights.bin'), Buffer.from(data.buffer));
    fs.writeFileSync(path.join(model, 'labels.json'), JSON.stringify(['cat', 'dog']));
    const pre = {
      ...preprocessingFile(pixelTransform('tf'), 'squash', [2, 2]),
      ...(graphBase ? { graphBase: { path: 'base/model.json', outputNode: 'x' } } : {}),
    };
    fs.writeFileSync(path.join(model, 'preprocessing.json'), JSON.stringify(pre, null, 2));
  });
}

test('Export Model as Keras 3: the CLI writes model.keras with labels, preprocessing and preprocess.py; a graph base is refused', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const run = runWithModel('export-keras', false);
  const refused = runWithModel('export-keras-graph', true);
  await tl.runIndex.refresh();
  const target = path.join(ws(), 'export-keras-out');
  const outcome = await vscode.commands.executeCommand<ExportOutcome | undefined>('transferLab.exportModel', vscode.Uri.file(run), target, true, 'keras');
  assert.ok(outcome, 'exported');
  assert.deepEqual(outcome.files, ['model.keras', 'labels.json', 'preprocessing.json', 'preprocess.py']);
  for (const f of outcome.files) assert.ok(fs.existsSync(path.join(target, f)), f);
  const zip = fs.readFileSync(path.join(target, 'model.keras'));
  assert.equal(zip.subarray(0, 4).toString('hex'), '504b0304', 'a zip archive');
  assert.ok(zip.includes(Buffer.from('"class_name":"Dense"')), 'config.json holds the Dense layer');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(target, 'labels.json'), 'utf8')), ['cat', 'dog']);

  const graphTarget = path.join(ws(), 'export-keras-graph-out');
  const none = await vscode.commands.executeCommand<ExportOutcome | undefined>('transferLab.exportModel', vscode.Uri.file(refused), graphTarget, true, 'keras');
  assert.equal(none, undefined);
  assert.ok(!fs.existsSync(path.join(graphTarget, 'model.keras')));
}, 120_000);
