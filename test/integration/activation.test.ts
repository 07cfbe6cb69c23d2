// Activation stays light: the extension host never loads TensorFlow.js (training, inspecting
// and predicting happen in trainer processes), and activate() is quick. The time is printed,
// not asserted (timing belongs to benchmarks); loading TensorFlow would be a failure.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TransferLabApi } from '../../src/extension/extension';
import { note, test } from './harness';

test('activation: no TensorFlow in the extension host, and how long activate() took', async () => {
  const tl = await vscode.extensions.getExtension<TransferLabApi>('transfer-lab.transfer-lab')!.activate();
  // Commands that run jobs have been used by the other tests in this host by now, or not:
  // either way nothing of TensorFlow.js may be loaded in this process.
  const loaded = Object.keys(require.cache).filter((m) => /[\\/]@tensorflow[\\/]|tfjs_binding|[\\/]sharp[\\/]/.test(m));
  assert.deepEqual(loaded, [], 'modules the extension host must not load');
  assert.ok(Number.isFinite(tl.activationMs));
  note(`activate() took ${tl.activationMs.toFixed(1)} ms; ${Object.keys(require.cache).length} modules in the extension host, none of TensorFlow.js or sharp`);
});
