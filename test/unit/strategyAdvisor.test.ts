// The strategy advisor: the four classic situations map to the strategies of the seeds'
// rules of thumb, graph models only ever get feature extraction, and the layer names it
// proposes exist in the real backbones they name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  adviseStrategy,
  allSituations,
  datasetSize,
  describeSituation,
  familyPoints,
  FIXED_FAMILY_POINTS,
  MAX_SUGGESTED_EPOCHS,
  SMALL_DATASET_PER_CLASS,
  suggestTraining,
  VERY_LARGE_DATASET_PER_CLASS,
} from '../../src/core/strategyAdvisor';
import { validateExperiment } from '../../src/core/experimentValidation';
import { BACKBONE_CATALOG } from '../../src/core/backboneCatalog';
import type { LayerRef } from '../../src/core/layerBlocks';
import { kerasTopologyLayers, shippedTopologyLayers } from '../../src/extension/shippedTopology';
import { fixturePath, loadKerasFixtures } from '../support/kerasFixtures';

const repo = path.resolve(__dirname, '../../..');

test('small datasets get feature extraction; similar data keeps the default cut', () => {
  const a = adviseStrategy({ imagesPerClass: 20, similarity: 'similar', format: 'layers', family: 'mobilenet_v2' });
  assert.equal(a.situation, 'small-similar');
  assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
  assert.equal(a.cutAt, undefined);
  assert.match(a.reason, /about 20 training images per class/);
});

test('small and different data cuts earlier (a named layer for known families, a hint otherwise)', () => {
  const known = adviseStrategy({ imagesPerClass: 50, similarity: 'different', format: 'layers', family: 'mobilenet_v2' });
  assert.equal(known.situation, 'small-different');
  assert.deepEqual(known.strategy, { kind: 'feature-extraction' });
  assert.equal(known.cutAt, 'block_13_expand_relu');
  const unknown = adviseStrategy({ imagesPerClass: 50, similarity: 'different', format: 'layers' });
  assert.equal(unknown.cutAt, undefined);
  assert.match(unknown.reason, /backbone\.cutAt/);
});

test('large datasets fine-tune: a late block for similar data, most of the network for different data', () => {
  const similar = adviseStrategy({ imagesPerClass: 400, similarity: 'similar', format: 'layers', family: 'mobilenet_v1' });
  assert.equal(similar.situation, 'large-similar');
  assert.deepEqual(similar.strategy, { kind: 'fine-tune', unfreezeFrom: 'conv_dw_12' });
  const different = adviseStrategy({ imagesPerClass: 400, similarity: 'different', format: 'layers', family: 'mobilenet_v1' });
  assert.deepEqual(different.strategy, { kind: 'fine-tune', unfreezeFrom: 'conv_dw_2' });
  assert.doesNotMatch(different.reason, /scratch/);
  const huge = adviseStrategy({ imagesPerClass: VERY_LARGE_DATASET_PER_CLASS, similarity: 'different', format: 'layers' });
  assert.deepEqual(huge.strategy, { kind: 'fine-tune', unfreezeLast: 100 });
  assert.match(huge.reason, /scratch baseline/);
});

test('the threshold between small and large, and unknown counts count as small', () => {
  assert.equal(datasetSize(SMALL_DATASET_PER_CLASS - 1), 'small');
  assert.equal(datasetSize(SMALL_DATASET_PER_CLASS), 'large');
  assert.equal(datasetSize(undefined), 'small');
  assert.match(adviseStrategy({ imagesPerClass: undefined, similarity: 'similar', format: 'layers' }).reason, /unknown number/);
});

test('graph models only ever get feature extraction', () => {
  for (const similarity of ['similar', 'different'] as const) {
    for (const n of [10, 500, 5000]) {
      const a = adviseStrategy({ imagesPerClass: n, similarity, format: 'graph', family: 'mobilenet_v3' });
      assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
      assert.equal(a.cutAt, undefined);
      assert.match(a.reason, /graph model/);
    }
  }
});

test('allSituations lists the four situations, the ones matching the dataset size first and recommended', () => {
  const list = allSituations({ imagesPerClass: 20, format: 'layers', family: 'fmnist-mini' });
  assert.deepEqual(
    list.map((s) => s.advice.situation),
    ['small-similar', 'small-different', 'large-similar', 'large-different'],
  );
  assert.deepEqual(
    list.map((s) => s.recommended),
    [true, true, false, false],
  );
  const large = allSituations({ imagesPerClass: 300, format: 'layers' });
  assert.deepEqual(
    large.map((s) => s.advice.situation),
    ['large-similar', 'large-different', 'small-similar', 'small-different'],
  );
  assert.match(describeSituation('small-different'), /Small dataset .* different from/);
});

test('every advised strategy makes a valid experiment', () => {
  for (const family of ['mobilenet_v1', 'mobilenet_v2', 'fmnist-mini', undefined] as const) {
    for (const { advice } of allSituations({ imagesPerClass: 2000, format: 'layers', family })) {
      const exp = {
        name: 'x',
        data: { dir: 'd' },
        backbone: { catalog: 'fmnist-mini', ...(advice.cutAt ? { cutAt: advice.cutAt } : {}) },
        strategy: advice.strategy,
      };
      const checked = validateExperiment(exp);
      assert.ok(checked.ok, JSON.stringify(checked));
    }
  }
});

test('the layer names proposed for the shipped fmnist-mini backbone exist in its model.json', () => {
  const modelJson = fs.readFileSync(path.join(repo, 'media/backbones/fmnist-mini/model.json'), 'utf8');
  const names = new Set([...modelJson.matchAll(/"name":\s*"([^"]+)"/g)].map((m) => m[1]));
  for (const { advice } of allSituations({ imagesPerClass: 20, format: 'layers', family: 'fmnist-mini' })) {
    if (advice.cutAt) assert.ok(names.has(advice.cutAt), `${advice.cutAt} in model.json`);
    if (advice.strategy.kind === 'fine-tune' && advice.strategy.unfreezeFrom)
      assert.ok(names.has(advice.strategy.unfreezeFrom), `${advice.strategy.unfreezeFrom} in model.json`);
  }
});

test('small datasets train longer in smaller batches; large ones keep the Keras defaults', () => {
  const D = { epochs: 10, batchSize: 32 };
  // 5 classes x 20 images: 7 steps per epoch of 16, so 43 epochs reach ~300 steps.
  const tiny = suggestTraining(100, D);
  assert.deepEqual([tiny.epochs, tiny.batchSize], [43, 16]);
  assert.match(tiny.reason, /43 epochs of batch 16: about 301 steps for 100 training images/);
  // 280 images: 18 steps per epoch, 17 epochs.
  assert.deepEqual([suggestTraining(280, D).epochs, suggestTraining(280, D).batchSize], [17, 16]);
  // Very few images hit the ceiling rather than memorising for hundreds of epochs.
  assert.equal(suggestTraining(10, D).epochs, MAX_SUGGESTED_EPOCHS);
  // Thousands of images: Keras's defaults, never fewer epochs than them.
  assert.deepEqual(suggestTraining(5000, D), { epochs: 10, batchSize: 32, reason: 'the usual Keras defaults suit 5000 training images' });
  assert.deepEqual([suggestTraining(undefined, D).epochs, suggestTraining(undefined, D).batchSize], [10, 32]);
});

/** A Keras fixture's layers as its TF.js model.json names them (Keras's own names; no TensorFlow.js needed). */
function fixtureLayers(id: string): LayerRef[] {
  const fx = loadKerasFixtures();
  const m = fx.models.find((x) => x.id === id);
  assert.ok(m, `a Keras fixture '${id}'`);
  return kerasTopologyLayers(JSON.parse(fs.readFileSync(fixturePath(fx, m.files.tfjsFromKeras), 'utf8')));
}

const advise = (layers: LayerRef[], imagesPerClass: number, similarity: 'similar' | 'different') =>
  adviseStrategy({ imagesPerClass, similarity, format: 'layers', layers });

test('each Keras family gets its own earlier cut and unfreeze points, found from its stages', () => {
  // [fixture, earlier cut (end of the last stage before the final resolution), start of the last stage, start of the second stage]
  const cases: [string, string, string, string][] = [
    ['resnet50', 'conv4_block6_out', 'conv5_block1_1_conv', 'conv3_block1_1_conv'],
    ['resnet50_v2', 'conv4_block6_out', 'conv5_block1_preact_bn', 'conv3_block1_preact_bn'],
    ['efficientnet_b0', 'block5c_add', 'block7a_expand_conv', 'block2a_expand_conv'],
    ['efficientnet_v2_b0', 'block5e_add', 'block6a_expand_conv', 'block2a_expand_conv'],
    ['convnext_tiny', 'add_14', 'convnext_tiny_downsampling_layernorm_2', 'convnext_tiny_downsampling_layernorm_0'],
    // Keras's own InceptionV3 fine-tuning example trains "the top 2 inception blocks": layers[249:], from conv2d_80.
    ['inception_v3', 'mixed7', 'conv2d_80', 'conv2d_27'],
    ['inception_resnet_v2', 'block17_20_ac', 'conv2d_164', 'conv2d_73'],
    ['densenet121', 'pool4_pool', 'conv5_block1_0_bn', 'conv3_block1_0_bn'],
    ['vgg16', 'block4_pool', 'block5_conv1', 'block2_conv1'],
    ['xception', 'add_10', 'block13_sepconv1_act', 'block5_sepconv1_act'],
    ['mobilenet', 'conv_pw_11_relu', 'conv_dw_12', 'conv_dw_2'],
    ['mobilenet_v2', 'block_13_expand_relu', 'block_13_expand', 'block_1_expand'],
    ['mobilenet_v3_small', 'activation_11', 'expanded_conv_8_expand', 'expanded_conv_1_expand'],
    ['nasnet_mobile', 'normal_concat_8', 'adjust_avg_pool_1_9', 'activation_70'],
  ];
  for (const [id, cut, late, early] of cases) {
    const layers = fixtureLayers(id);
    const names = new Set(layers.map((l) => l.name));
    const small = advise(layers, 30, 'different');
    assert.equal(small.cutAt, cut, `${id}: earlier cut`);
    assert.deepEqual(small.strategy, { kind: 'feature-extraction' });
    assert.deepEqual(advise(layers, 400, 'similar').strategy, { kind: 'fine-tune', unfreezeFrom: late }, `${id}: late block`);
    assert.deepEqual(advise(layers, 400, 'different').strategy, { kind: 'fine-tune', unfreezeFrom: early }, `${id}: early block`);
    for (const n of [cut, late, early]) assert.ok(names.has(n), `${id}: ${n} is a layer of the model`);
  }
  const resnet = advise(fixtureLayers('resnet50'), 30, 'different');
  assert.equal(resnet.title, 'Feature extraction from an earlier layer (conv4_block6_out, the end of stage conv4)');
  assert.match(advise(fixtureLayers('xception'), 400, 'similar').title, /block13_sepconv1_act, the start of the exit flow/);
});

test('the fixed points of the TF.js-hosted MobileNets are the ones their Keras models’ stages give', () => {
  for (const [family, id] of [
    ['mobilenet_v1', 'mobilenet'],
    ['mobilenet_v2', 'mobilenet_v2'],
  ] as const) {
    const fixed = FIXED_FAMILY_POINTS[family]!;
    const found = familyPoints({ layers: fixtureLayers(id) })!;
    assert.deepEqual({ ...found, scheme: undefined }, { ...fixed, scheme: undefined }, family);
  }
  // A model of no Keras family with the family's layers keeps the fixed points; without them, none.
  assert.equal(
    familyPoints({ family: 'fmnist-mini', layers: [{ name: 'block_3_pw_relu' }, { name: 'block_5_dw' }, { name: 'block_1_dw' }] })?.earlierCut,
    'block_3_pw_relu',
  );
  assert.equal(familyPoints({ family: 'fmnist-mini', layers: [{ name: 'conv' }, { name: 'dense' }] }), undefined);
});

test('every Keras Applications catalog entry gets layers of its own shipped topology', async () => {
  const keras = BACKBONE_CATALOG.filter((e) => e.source.kind === 'keras-application');
  for (const e of keras) {
    const layers = await shippedTopologyLayers(repo, e);
    assert.ok(layers, `${e.id}: its shipped topology reads`);
    const names = new Set(layers.map((l) => l.name));
    const points = familyPoints({ family: e.family, layers });
    assert.ok(points, `${e.id}: cut and unfreeze points`);
    for (const n of [points.earlierCut, points.lateBlock, points.earlyBlock]) assert.ok(names.has(n), `${e.id}: ${n}`);
    assert.ok(names.has(e.defaultCut!), `${e.id}: its default cut ${e.defaultCut}`);
  }
  console.log(`${keras.length} Keras Applications entries checked`);
});

test("the other size's choices speak of the user's own count, not of a representative one", () => {
  const small = allSituations({ imagesPerClass: 24, format: 'layers', family: 'mobilenet_v2' });
  for (const { advice, recommended } of small) {
    assert.doesNotMatch(advice.reason, /about 500|about 50\b/, advice.title);
    if (recommended) assert.match(advice.reason, /^With about 24 (training )?images per class/, advice.title);
    else assert.match(advice.reason, /^You have 24 images per class; this needs 100 or more\. .*with 100 or more images per class/i, advice.title);
  }
  const large = allSituations({ imagesPerClass: 640, format: 'layers', family: 'mobilenet_v2' }).filter((x) => !x.recommended);
  assert.equal(large.length, 2);
  for (const { advice } of large) assert.match(advice.reason, /^You have 640 images per class; this is for fewer than 100\. With fewer than 100/, advice.title);
  // The advice itself is still the other size's (fine-tuning for large data).
  assert.equal(small.find((x) => x.advice.situation === 'large-similar')!.advice.strategy.kind, 'fine-tune');
});
