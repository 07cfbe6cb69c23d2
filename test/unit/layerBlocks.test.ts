// Stages and blocks of every Keras Applications family, on the real layer tables: each Keras
// fixture (made by Keras itself, scripts/keras-fixtures/) loaded by Transfer Lab's loader
// and listed as the trainer lists it for Show Layers, then grouped. The counts are the
// architectures' own (ResNet50's 3-4-6-3 blocks, DenseNet121's 6-12-24-16 plus transitions,
// EfficientNetB0's 1-2-2-3-3-4-1, ...), and no layer of a backbone is left outside a block.
// The same names read from the fixtures' TF.js model.json without TensorFlow.js (as the
// wizard reads a shipped topology) give the same places.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone } from '../../src/engine/backboneLoader';
import { summarizeLayers } from '../../src/engine/modelSummary';
import { backboneBlocks, detectBlockScheme, transferPoints, type BlockScheme } from '../../src/core/layerBlocks';
import { buildLayerTree } from '../../src/core/layerTreeMessages';
import type { LayerRow } from '../../src/core/layerSummary';
import { kerasTopologyLayers } from '../../src/extension/shippedTopology';
import { loadKerasFixtures, fixturePath, type KerasFixtures } from '../support/kerasFixtures';

const installRoot = path.resolve(__dirname, '../../..');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-blocks-'));
let fx: KerasFixtures;
const tables = new Map<string, LayerRow[]>();

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  fx = loadKerasFixtures();
});

async function rowsOf(id: string): Promise<LayerRow[]> {
  const cached = tables.get(id);
  if (cached) return cached;
  const m = fx.models.find((x) => x.id === id);
  assert.ok(m, `a Keras fixture '${id}'`);
  const loaded = await loadBackbone({ path: fixturePath(fx, m.files.keras) }, { installRoot, cacheDir });
  assert.equal(loaded.kind, 'layers');
  const rows = summarizeLayers(loaded.model as never, { cutAt: loaded.cutAt });
  tables.set(id, rows);
  return rows;
}

/** Stage name -> its number of blocks, in order: what each family's architecture has. */
const EXPECTED: Record<string, { scheme: BlockScheme; stages: [string, number][]; block?: [string, number] }> = {
  resnet50: {
    scheme: 'resnet',
    stages: [
      ['stem', 1],
      ['conv2', 3],
      ['conv3', 4],
      ['conv4', 6],
      ['conv5', 3],
    ],
    block: ['conv4_block3', 10],
  },
  resnet50_v2: {
    scheme: 'resnet',
    stages: [
      ['stem', 1],
      ['conv2', 3],
      ['conv3', 4],
      ['conv4', 6],
      ['conv5', 3],
      ['top', 1],
    ],
    block: ['conv4_block3', 11],
  },
  vgg16: {
    scheme: 'vgg',
    stages: [
      ['block1', 1],
      ['block2', 1],
      ['block3', 1],
      ['block4', 1],
      ['block5', 1],
    ],
    block: ['block3', 4],
  },
  // 6, 12, 24, 16 dense blocks; the transitions pool2-pool4 close stages conv2-conv4.
  densenet121: {
    scheme: 'densenet',
    stages: [
      ['stem', 1],
      ['conv2', 7],
      ['conv3', 13],
      ['conv4', 25],
      ['conv5', 16],
      ['top', 1],
    ],
    block: ['conv4_block12', 7],
  },
  efficientnet_b0: {
    scheme: 'efficientnet',
    stages: [
      ['stem', 1],
      ['block1', 1],
      ['block2', 2],
      ['block3', 2],
      ['block4', 3],
      ['block5', 3],
      ['block6', 4],
      ['block7', 1],
      ['top', 1],
    ],
  },
  efficientnet_v2_b0: {
    scheme: 'efficientnet',
    stages: [
      ['stem', 1],
      ['block1', 1],
      ['block2', 2],
      ['block3', 2],
      ['block4', 3],
      ['block5', 5],
      ['block6', 8],
      ['top', 1],
    ],
  },
  mobilenet: {
    scheme: 'mobilenet_v1',
    stages: [
      ['stem', 1],
      ['stage 1', 1],
      ['stage 2', 2],
      ['stage 3', 2],
      ['stage 4', 6],
      ['stage 5', 2],
    ],
    block: ['conv_dw_5 + conv_pw_5', 6],
  },
  mobilenet_v2: {
    scheme: 'mobilenet_v2',
    stages: [
      ['stem', 1],
      ['stage 1', 1],
      ['stage 2', 2],
      ['stage 3', 3],
      ['stage 4', 7],
      ['stage 5', 4],
      ['top', 1],
    ],
    block: ['block_13', 9],
  },
  mobilenet_v3_small: {
    scheme: 'mobilenet_v3',
    stages: [
      ['stem', 1],
      ['stage 1', 1],
      ['stage 2', 2],
      ['stage 3', 5],
      ['stage 4', 3],
      ['top', 1],
    ],
  },
  inception_v3: {
    scheme: 'inception_v3',
    stages: [
      ['stem', 1],
      ['mixed0-mixed2', 3],
      ['mixed3', 1],
      ['mixed4-mixed7', 4],
      ['mixed8', 1],
      ['mixed9-mixed10', 2],
    ],
    block: ['stem', 17],
  },
  inception_resnet_v2: {
    scheme: 'inception_resnet_v2',
    stages: [
      ['stem', 1],
      ['block35', 11],
      ['mixed_6a', 1],
      ['block17', 20],
      ['mixed_7a', 1],
      ['block8', 10],
      ['top', 1],
    ],
  },
  xception: {
    scheme: 'xception',
    stages: [
      ['entry flow', 4],
      ['middle flow', 8],
      ['exit flow', 2],
    ],
    block: ['block7', 10],
  },
  nasnet_mobile: {
    scheme: 'nasnet',
    stages: [
      ['stem', 3],
      ['normal_cells_0-3', 4],
      ['reduction_cell_reduce_4', 1],
      ['normal_cells_5-8', 4],
      ['reduction_cell_reduce_8', 1],
      ['normal_cells_9-12', 4],
      ['top', 1],
    ],
  },
  convnext_tiny: {
    scheme: 'convnext',
    stages: [
      ['stem', 1],
      ['convnext_tiny_stage_0', 3],
      ['convnext_tiny_stage_1', 4],
      ['convnext_tiny_stage_2', 10],
      ['convnext_tiny_stage_3', 4],
      ['top', 1],
    ],
    block: ['convnext_tiny_stage_0_block_1', 8],
  },
};

/** Name patterns whose layers must all sit in one block: the families' own block prefixes. */
const PREFIXES: Partial<Record<BlockScheme, RegExp>> = {
  resnet: /^(conv\d_block\d+)_/,
  densenet: /^(conv\d_block\d+|pool\d)_/,
  efficientnet: /^(block\d+[a-z])_/,
  mobilenet_v2: /^(block_\d+)_/,
  mobilenet_v3: /^(expanded_conv_\d+)_/,
  xception: /^(block\d+)_/,
  vgg: /^(block\d+)_/,
  inception_resnet_v2: /^(block(?:35|17|8)_\d+)_/,
  convnext: /^(convnext_tiny_stage_\d+_block_\d+)_/,
};

for (const [id, want] of Object.entries(EXPECTED)) {
  test(`${id}: every layer falls into its ${want.scheme} stage and block`, async () => {
    const rows = await rowsOf(id);
    const blocks = backboneBlocks(rows);
    assert.equal(blocks.scheme, want.scheme);
    assert.deepEqual(
      blocks.stages.map((s) => [s.name, s.blocks.length]),
      want.stages,
    );
    // Nothing of the backbone is left outside a block (only the input stands alone).
    const outside = rows.filter((r, i) => !blocks.places[i].block && r.className !== 'InputLayer').map((r) => r.name);
    assert.deepEqual(outside, []);
    assert.equal(
      blocks.stages.flatMap((s) => s.blocks).reduce((n, b) => n + b.layers.length, 0),
      rows.length - 1,
      'each layer in exactly one block',
    );
    if (want.block) {
      const b = blocks.stages.flatMap((s) => s.blocks).find((x) => x.name === want.block![0]);
      assert.equal(b?.layers.length, want.block[1], `${want.block[0]} has ${want.block[1]} layers`);
    }
    const prefix = PREFIXES[want.scheme];
    if (prefix) {
      rows.forEach((r, i) => {
        const m = prefix.exec(r.name);
        if (m) assert.equal(blocks.places[i].block, m[1], `${r.name} in block ${m[1]}`);
      });
    }
    // Helpers of Transfer Lab's Keras rewrites belong to the layer they came from.
    rows.forEach((r, i) => {
      if (!r.name.includes('__')) return;
      const origin = r.name.slice(0, r.name.indexOf('__'));
      assert.equal(blocks.places[i].helperOf, origin);
      assert.equal(blocks.places[i].block, blocks.places[rows.findIndex((x) => x.name === origin)].block);
    });
    // The wizard's reading of the same model (its TF.js model.json, no TensorFlow.js) agrees.
    const m = fx.models.find((x) => x.id === id)!;
    const fromFile = kerasTopologyLayers(JSON.parse(fs.readFileSync(fixturePath(fx, m.files.tfjsFromKeras), 'utf8')));
    const own = rows.filter((r) => !r.name.includes('__'));
    assert.deepEqual(
      fromFile.map((l) => l.name),
      own.map((r) => r.name),
    );
    const fileBlocks = backboneBlocks(fromFile);
    const placeOf = new Map(own.map((r) => [r.name, blocks.places[rows.indexOf(r)]]));
    assert.deepEqual(
      fromFile.map((l, i) => `${l.name}:${fileBlocks.places[i].block}`),
      fromFile.map((l) => `${l.name}:${placeOf.get(l.name)!.block}`),
    );
    assert.deepEqual(transferPoints(fromFile), transferPoints(rows));
  });
}

test("a user's model: the classifier head it carries stands alone, the backbone is still grouped", async () => {
  for (const id of ['inception_v3_head', 'mobilenet_v2_nested']) {
    const rows = await rowsOf(id);
    const blocks = backboneBlocks(rows);
    const outside = rows.filter((r, i) => !blocks.places[i].block && r.className !== 'InputLayer');
    assert.ok(outside.length >= 2, `${id}: its head stands alone`);
    assert.ok(
      outside.every((r) => ['GlobalAveragePooling2D', 'Dense', 'Dropout'].includes(r.className)),
      `${id}: only head layers outside: ${outside.map((r) => r.name)}`,
    );
    assert.equal(blocks.scheme, id.startsWith('inception') ? 'inception_v3' : 'mobilenet_v2');
  }
});

test('Show Layers on a real table: blocks in their stages, rewrite helpers folded into their layer, a block header trains from its first layer', async () => {
  const rows = await rowsOf('mobilenet_v3_small');
  const summary = {
    kind: 'layers' as const,
    cutAt: 'activation_17',
    cutFrom: 'model output' as const,
    inputShape: [96, 96, 3] as [number, number, number],
    rows,
    source: '/w/m.keras',
    fineTunable: true,
  };
  const t = buildLayerTree({ file: '/w/m.tlexp.json', experiment: 'm', summary, strategy: { kind: 'feature-extraction' } });
  const items = t.groups.flatMap((g) => g.layers);
  assert.equal(items.filter((l) => l.name.includes('__')).length, 0, 'no helper is shown as a layer of its own');
  const hs = items.find((l) => l.name === 'activation_11')!;
  assert.deepEqual(
    hs.parts?.map((p) => p.name),
    ['activation_11__hsig__gate', 'activation_11__hsig'],
  );
  assert.equal(t.layerCount, rows.length - 45);
  assert.equal(t.scheme, 'mobilenet_v3');
  assert.deepEqual(
    t.stages.map((s) => s.name),
    ['stem', 'stage 1', 'stage 2', 'stage 3', 'stage 4', 'top'],
  );
  const block8 = t.groups.find((g) => g.block === 'expanded_conv_8')!;
  assert.equal(block8.stage, 'stage 4');
  assert.equal(block8.trainFrom, 'expanded_conv_8_expand');
  assert.equal(block8.cutAt, 'expanded_conv_8_project_bn');
  assert.deepEqual(
    t.groups.filter((g) => !g.block).map((g) => g.layers[0].name),
    ['input_layer'],
  );
  assert.match(t.cutNote, /model’s output/);
  assert.doesNotMatch(t.cutNote, /usual cut/);
});

test('the scheme is recognised from names alone, and a model of no Keras family gets none', () => {
  assert.equal(detectBlockScheme(['input', 'conv1_conv', 'conv2_block1_out']), 'resnet');
  assert.equal(detectBlockScheme(['stem_conv', 'block_1_dw', 'block_1_pw', 'top_conv']), undefined);
  assert.equal(detectBlockScheme(['dense', 'dense_1']), undefined);
});
