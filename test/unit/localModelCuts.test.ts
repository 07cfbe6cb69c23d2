// A user's own model: the default cut leaves out its old classifier head (and agrees with the
// engine's cut of the loaded model), its conv/pool blocks give the earlier cut and fine-tune
// points, and the layers the wizard offers are real layers of the model.json it reads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../../src/engine/tf';
import { loadBackend } from '../../src/engine/backend';
import { findClassifierCut } from '../../src/engine/backbone/classifierCut';
import { defaultLocalCut, featureBlocks, localLayerChoices, localPoints } from '../../src/core/localModelCuts';
import { adviseStrategy } from '../../src/core/strategyAdvisor';
import type { LayerRef } from '../../src/core/layerBlocks';
import { localModelLayers } from '../../src/extension/localModelLayers';
import { saveLayersModel } from '../fixtures/layersModel';
import { SMALL_CNN_LAYERS, writeSmallCnnModelJson } from '../fixtures/smallCnnTopology';

const dirs: string[] = [];
const tmp = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-localcuts-'));
  dirs.push(dir);
  return dir;
};
before(() => loadBackend({ preference: 'cpu', installRoot: path.resolve(__dirname, '../../..') }));
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const refs = (pairs: readonly [string, string][]): LayerRef[] => pairs.map(([name, className]) => ({ name, className }));

/** The fixture's model, built and saved by TensorFlow.js itself. */
async function savedSmallCnn() {
  const t = tf();
  const conv = (name: string, inputShape?: number[]) => t.layers.conv2d({ name, filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', inputShape });
  const pool = (name: string) => t.layers.maxPooling2d({ name, poolSize: 2 });
  const model = t.sequential({
    layers: [
      conv('conv1a', [16, 16, 3]),
      conv('conv1b'),
      pool('pool1'),
      conv('conv2a'),
      conv('conv2b'),
      pool('pool2'),
      conv('conv3a'),
      pool('pool3'),
      t.layers.flatten({ name: 'flatten' }),
      t.layers.dense({ name: 'fc1', units: 8, activation: 'relu' }),
      t.layers.dropout({ name: 'drop1', rate: 0.5 }),
      t.layers.dense({ name: 'predictions', units: 3, activation: 'softmax' }),
    ],
  });
  return { model, file: await saveLayersModel(model, tmp()) };
}

test('the default cut of a user CNN leaves out Flatten/Dense/Dropout/Dense, as the engine cuts the loaded model', async () => {
  const { model, file } = await savedSmallCnn();
  try {
    const layers = await localModelLayers(file);
    assert.ok(layers, 'the saved model.json is read');
    assert.deepEqual(
      layers.filter((l) => l.className !== 'InputLayer').map((l) => [l.name, l.className]),
      SMALL_CNN_LAYERS,
      'the fixture topology is what TF.js saves',
    );
    const cut = defaultLocalCut(layers);
    assert.deepEqual(cut, { cutAt: 'pool3', dropped: ['flatten', 'fc1', 'drop1', 'predictions'] });
    assert.equal(findClassifierCut(model).cutAt, cut.cutAt, 'the wizard writes the cut the run would choose');
  } finally {
    model.dispose();
  }
});

test('the fixture model.json gives blocks, points and layer choices that name its own layers', async () => {
  const layers = (await localModelLayers(writeSmallCnnModelJson(tmp())))!;
  assert.deepEqual(
    featureBlocks(layers, 'pool3').map((b) => b.layers),
    [
      ['conv1a', 'conv1b', 'pool1'],
      ['conv2a', 'conv2b', 'pool2'],
      ['conv3a', 'pool3'],
    ],
  );
  assert.deepEqual(localPoints(layers), {
    earlierCut: 'pool2',
    lateBlock: 'conv3a',
    earlyBlock: 'conv2a',
    stages: { cut: 'block 2', late: 'block 3', early: 'block 2' },
  });
  const choices = localLayerChoices(layers);
  assert.deepEqual(
    choices.cuts.map((c) => `${c.layer} (${c.where})`),
    ['pool1 (end of block 1)', 'pool2 (end of block 2)', 'pool3 (end of block 3)'],
  );
  assert.deepEqual(
    choices.unfreezes.map((c) => c.layer),
    ['conv2a', 'conv3a'],
  );
  // The advisor now proposes the model's own layers: an earlier cut, and fine-tuning from the last block.
  const different = adviseStrategy({ imagesPerClass: 24, similarity: 'different', format: 'layers', layers });
  assert.equal(different.cutAt, 'pool2');
  assert.match(different.title, /earlier layer \(pool2, the end of block 2\)/);
  const similar = adviseStrategy({ imagesPerClass: 500, similarity: 'similar', format: 'layers', layers });
  assert.deepEqual(similar.strategy, { kind: 'fine-tune', unfreezeFrom: 'conv3a' });
});

test('a Keras family model (MobileNetV2-like names) cuts before its pooling + Dense head, keeping out_relu', () => {
  const layers = refs([
    ['input_1', 'InputLayer'],
    ['Conv1', 'Conv2D'],
    ['block_16_project_BN', 'BatchNormalization'],
    ['Conv_1', 'Conv2D'],
    ['Conv_1_bn', 'BatchNormalization'],
    ['out_relu', 'ReLU'],
    ['global_average_pooling2d', 'GlobalAveragePooling2D'],
    ['predictions', 'Dense'],
  ]);
  assert.deepEqual(defaultLocalCut(layers), { cutAt: 'out_relu', dropped: ['global_average_pooling2d', 'predictions'] });
});

/** "c1:Conv2D p1:MaxPooling2D" -> layers. */
const chain = (spec: string): LayerRef[] => spec.split(' ').map((x) => ({ name: x.split(':')[0], className: x.split(':')[1] }));

test('no cut is guessed where there is no head to leave out, or none this can tell', () => {
  const unguessed = {
    'a "no-top" export, ending in its features': 'c1:Conv2D p1:MaxPooling2D',
    'pooling with no Dense after it': 'c1:Conv2D gap:GlobalAveragePooling2D',
    "MobileNet v1's 1x1-conv classifier (the run sees shapes)": 'c1:Conv2D conv_preds:Conv2D act_softmax:Activation',
    'an MLP, with no flattening layer': 'in:InputLayer d1:Dense d2:Dense',
    'a head right on the input': 'in:InputLayer f:Flatten d:Dense',
  };
  for (const [what, spec] of Object.entries(unguessed)) assert.equal(defaultLocalCut(chain(spec)), undefined, what);
  // Dropout before the Flatten goes with the head.
  assert.deepEqual(defaultLocalCut(chain('c1:Conv2D sd:SpatialDropout2D f:Flatten d:Dense')), { cutAt: 'c1', dropped: ['sd', 'f', 'd'] });
  // One block only: no earlier cut to offer.
  assert.equal(localPoints(chain('c1:Conv2D p1:MaxPooling2D f:Flatten d:Dense')), undefined);
});
