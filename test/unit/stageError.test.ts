// A failure inside TensorFlow.js reaches the user as what we were doing, on which layer, and
// what to try; the internal message and stack are in log.txt only. A backbone with a layer
// whose call throws TensorFlow.js's own "Cannot read properties of undefined (reading
// 'dataId')" fails a run while the frozen base runs (feature extraction) and while the base
// trains (fine-tuning); a shape mismatch and a system error are explained the same way.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { runExperiment, explainFailure } from '../../src/engine/runExperiment';
import { LayerFailure, StageError, internalDetail } from '../../src/engine/stageError';
import type { ExperimentFile } from '../../src/core/experiment';
import type { RunEvent } from '../../src/core/runEvents';
import { saveLayersModel } from '../fixtures/layersModel';

const installRoot = path.resolve(__dirname, '../../..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-stage-'));
const INTERNAL = "Cannot read properties of undefined (reading 'dataId')";
let modelJson = '';

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  const t = tf();
  /** A layer TensorFlow.js can build and load, whose call fails the way TensorFlow.js's own bugs do. */
  class Boom extends t.layers.Layer {
    static className = 'Boom';
    override computeOutputShape(shape: tfTypes.Shape | tfTypes.Shape[]) {
      return shape;
    }
    override call(): tfTypes.Tensor {
      throw new TypeError(INTERNAL);
    }
  }
  t.serialization.registerClass(Boom);
  const input = t.input({ shape: [12, 12, 3], name: 'input_1' });
  let x = t.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tfTypes.SymbolicTensor;
  x = t.layers.reLU({ name: 'r1' }).apply(x) as tfTypes.SymbolicTensor;
  x = new Boom({ name: 'boom' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c2' }).apply(x) as tfTypes.SymbolicTensor;
  x = t.layers.reLU({ name: 'r2' }).apply(x) as tfTypes.SymbolicTensor;
  const model = t.model({ inputs: input, outputs: x });
  modelJson = await saveLayersModel(model, path.join(work, 'boom'));
  model.dispose();
});

async function failingRun(name: string, strategy: ExperimentFile['strategy']) {
  const exp: ExperimentFile = {
    name,
    data: { dir: path.join(installRoot, 'media/datasets/fashion-target'), seed: 1 },
    backbone: { path: modelJson },
    strategy,
    train: { epochs: 1, batchSize: 16 },
  };
  const file = path.join(work, `${name}.tlexp.json`);
  fs.writeFileSync(file, JSON.stringify(exp));
  const events: RunEvent[] = [];
  const outcome = await runExperiment({
    experimentFile: file,
    runsDir: path.join(work, 'runs'),
    cacheDir: path.join(work, 'cache'),
    installRoot,
    backend: 'test',
    onEvent: (e) => events.push(e),
    shouldStop: () => false,
  });
  assert.equal(outcome.status, 'failed');
  const finished = events.at(-1) as Extract<RunEvent, { type: 'finished'; status: 'failed' }>;
  assert.equal(finished.type, 'finished');
  const seen = `${finished.message}\n${finished.hint ?? ''}`;
  assert.doesNotMatch(seen, /Cannot read properties|dataId|TypeError/, 'no internal message reaches the user');
  assert.equal(outcome.error?.message, finished.message);
  const log = fs.readFileSync(path.join(outcome.runDir, 'log.txt'), 'utf8');
  assert.ok(log.includes(INTERNAL), 'the internal message is in log.txt');
  assert.match(log, /\n\s+at /, 'with its stack');
  const record = JSON.parse(fs.readFileSync(path.join(outcome.runDir, 'run.json'), 'utf8'));
  assert.doesNotMatch(JSON.stringify(record.failure), /Cannot read properties/);
  return { message: finished.message, hint: finished.hint ?? '', failure: record.failure as { step: string; layer?: string } };
}

test('a layer that fails inside TensorFlow.js in the frozen base: the message says what ran, which layer, what to try', async () => {
  const { message, hint, failure } = await failingRun('boom-frozen', { kind: 'feature-extraction' });
  assert.match(message, /^Running the frozen base on the images failed at layer 'boom' \(Boom\) with an internal error\.$/);
  assert.match(hint, /backbone\.cutAt/);
  assert.match(hint, /log/);
  assert.deepEqual(failure, { message, hint, step: 'featurizing', layer: 'boom' });
});

test('a layer that fails inside TensorFlow.js while the base trains: named too, with what to change', async () => {
  const { message, hint, failure } = await failingRun('boom-trained', { kind: 'fine-tune', unfreezeLast: 3 });
  assert.match(message, /^Training failed at layer 'boom' \(Boom\) with an internal error\.$/);
  assert.match(hint, /unfreeze/);
  assert.equal(failure.step, 'training');
  assert.equal(failure.layer, 'boom');
});

test('a shape mismatch inside TensorFlow.js and a system error are explained by stage; the detail keeps the internal message', () => {
  const t = tf();
  let mismatch: unknown;
  try {
    t.matMul(t.zeros([2, 3]), t.zeros([4, 5]));
  } catch (e) {
    mismatch = e;
  }
  assert.ok(mismatch instanceof Error);
  const inLayer = new LayerFailure('dense_7', 'Dense', mismatch);
  const explained = explainFailure(inLayer, 'evaluating');
  assert.equal(explained.message, "Evaluating the trained model failed at layer 'dense_7' (Dense) with an internal error.");
  assert.equal(explained.layer, 'dense_7');
  // The native backend says 'Matrix size-incompatible' (TF_Status 3), the others 'inner dimensions'.
  assert.doesNotMatch(explained.message + explained.hint, /size-incompatible|inner dimensions|TF_Status/i);
  assert.match(internalDetail(new StageError('evaluating', inLayer)), /dense_7[\s\S]*(size-incompatible|inner dimensions)[\s\S]*\n\s+at /i);
  // A file that cannot be written says so: that one a user can act on.
  const denied = Object.assign(new Error("EACCES: permission denied, open '/runs/x/model/weights.bin'"), { code: 'EACCES', syscall: 'open' });
  assert.equal(explainFailure(denied, 'exporting').message, "Exporting the trained model failed: EACCES: permission denied, open '/runs/x/model/weights.bin'.");
  // Out of memory and a full disk keep their own messages, whatever the stage.
  assert.match(
    explainFailure(new LayerFailure('conv', 'Conv2D', new Error('OOM when allocating tensor')), 'training').message,
    /^out of memory at layer 'conv'/,
  );
});
