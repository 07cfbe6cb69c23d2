// Export Model as TFLite: a run trained here (fmnist-mini on the shipped data) is converted by
// the bundled CLI with the Python transferLab.pythonPath names (the bench's Keras venv), and the
// command returns export.json with the converted model's test accuracy beside the run's own; with
// the setting on a Python that does not exist, it refuses and writes no model. Without the venv,
// only the refusal is checked (a note says so).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import type { ConvertedOutcome } from '../../src/extension/commands/exportConverted';
import { note, test, waitFor } from './harness';

const repo = path.resolve(__dirname, '../../..');
const workspace = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
const venv = process.env.TL_KERAS_PYTHON ?? path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python');

test("Export Model as TFLite: converted with transferLab.pythonPath, accuracy next to the run's; a missing Python is refused", async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  const file = path.join(workspace(), 'tflite-run.tlexp.json');
  const exp = {
    name: 'tflite-run',
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 2, batchSize: 16, learningRate: 0.01 },
  };
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  assert.ok(await vscode.commands.executeCommand('transferLab.runExperiment', vscode.Uri.file(file)));
  await waitFor('the run to finish', () => !tl.runs.running(file), 120_000);
  await tl.runIndex.refresh();
  const [run] = tl.runIndex.forExperiment(file);
  assert.equal(run?.record.status, 'succeeded');
  const config = vscode.workspace.getConfiguration('transferLab');
  try {
    const missing = path.join(workspace(), 'no-such-python');
    await config.update('pythonPath', missing, vscode.ConfigurationTarget.Global);
    const refusedDir = path.join(workspace(), 'tflite-refused');
    const refused = await vscode.commands.executeCommand('transferLab.exportModel', vscode.Uri.file(run.dir), refusedDir, true, 'tflite');
    assert.equal(refused, undefined);
    assert.ok(!fs.existsSync(path.join(refusedDir, 'model.tflite')), 'no model without a Python');
    if (!fs.existsSync(venv)) return note(`no Keras venv at ${venv}: the conversion half is not checked`);
    await config.update('pythonPath', venv, vscode.ConfigurationTarget.Global);
    const target = path.join(workspace(), 'tflite-out');
    const outcome = await vscode.commands.executeCommand<ConvertedOutcome | undefined>(
      'transferLab.exportModel',
      vscode.Uri.file(run.dir),
      target,
      true,
      'tflite',
    );
    assert.ok(outcome, 'exported');
    assert.deepEqual(outcome.files, ['model.tflite', 'labels.json', 'preprocessing.json', 'export.json']);
    assert.equal(fs.readFileSync(path.join(target, 'model.tflite')).subarray(4, 8).toString('latin1'), 'TFL3');
    const a = outcome.record.accuracy;
    assert.equal(a.original, run.record.metrics.accuracy);
    assert.ok(Math.abs(a.converted! - a.original!) <= 0.01, JSON.stringify(a));
    assert.equal(outcome.record.python, venv);
    note(`TFLite float32 from VS Code: ${(a.converted! * 100).toFixed(1)}% vs the run's ${(a.original! * 100).toFixed(1)}% on ${a.testCount} test images`);
  } finally {
    await config.update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
  }
}, 300_000);
