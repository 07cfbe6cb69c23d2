// The tree the layer panel shows, computed from a layer table and the experiment's cut and
// strategy; and the validation of what the webview asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLayerTree, groupKeyOf, groupLayers, LAYER_TREE_PROTOCOL, parseLayerTreeRequest, type LayerItem } from '../../src/core/layerTreeMessages';
import type { LayerRow, LayerSummary } from '../../src/core/layerSummary';
import { PROBE_FORMAT, type ProbeFile } from '../../src/core/probeFile';

const names = [
  'input_1',
  'stem_conv',
  'stem_bn',
  'stem_relu',
  'block_1_dw',
  'block_1_dw_bn',
  'block_1_pw',
  'block_2_dw',
  'block_2_pw',
  'top_conv',
  'top_bn',
  'out_relu',
  'predictions',
];
const rows: LayerRow[] = names.map((name, index) => ({
  index,
  name,
  className: index === 0 ? 'InputLayer' : name === 'predictions' ? 'Dense' : 'Conv2D',
  outputShape: [null, 8, 8, 4],
  params: index === 0 ? 0 : 10,
  trainable: true,
  inbound: index === 0 ? [] : [names[index - 1]],
  isCut: name === 'out_relu',
  afterCut: name === 'predictions',
}));
const summary: LayerSummary = { kind: 'layers', cutAt: 'out_relu', inputShape: [32, 32, 1], rows, source: 'catalog fmnist-mini', fineTunable: true };
const flat = (groups: { layers: LayerItem[] }[]) => groups.flatMap((g) => g.layers);
const base = { file: '/w/a.tlexp.json', experiment: 'a', summary };

test('layers group into blocks by name prefix; a layer without a group stands alone', () => {
  assert.equal(groupKeyOf('block_13_expand_relu'), 'block_13');
  assert.equal(groupKeyOf('conv2_block1_1_conv'), 'conv2_block1');
  assert.equal(groupKeyOf('stem_bn'), 'stem');
  assert.equal(groupKeyOf('conv1_bn'), 'conv1');
  assert.equal(groupKeyOf('predictions'), undefined);
  const groups = groupLayers(names.map((name) => ({ name })));
  assert.deepEqual(
    groups.map((g) => [g.block ?? null, g.layers.length]),
    [
      [null, 1],
      ['stem', 3],
      ['block_1', 3],
      ['block_2', 2],
      ['top', 2],
      [null, 1],
      [null, 1],
    ],
  );
});

test('feature extraction: the whole base frozen, the classifier cut away, the cut marked', () => {
  const t = buildLayerTree({ ...base, strategy: { kind: 'feature-extraction' } });
  const items = flat(t.groups);
  assert.equal(items.length, names.length);
  assert.deepEqual(
    items.filter((l) => l.state === 'trainable'),
    [],
  );
  assert.equal(items.find((l) => l.name === 'predictions')!.state, 'after-cut');
  assert.deepEqual(
    items.filter((l) => l.isCut).map((l) => l.name),
    ['out_relu'],
  );
  assert.equal(t.trainableParams, 0);
  assert.equal(t.frozenParams, 110);
  assert.equal(t.cutAwayParams, 10);
  assert.equal(t.cutIsDefault, true);
  assert.ok(!flat(t.groups).some((l) => l.isBoundary), 'no boundary line when nothing trains');
  assert.match(t.strategyText, /whole base is frozen/);
  assert.deepEqual(t.warnings, []);
});

test('fine-tune from a layer, the last N, scratch: the frozen/trainable boundary follows the strategy', () => {
  const from = buildLayerTree({ ...base, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_2_dw' } });
  const items = flat(from.groups);
  assert.deepEqual(
    items.filter((l) => l.state === 'trainable').map((l) => l.name),
    ['block_2_dw', 'block_2_pw', 'top_conv', 'top_bn', 'out_relu'],
  );
  assert.deepEqual(
    items.filter((l) => l.isBoundary).map((l) => l.name),
    ['block_2_dw'],
  );
  assert.equal(from.trainableParams, 50);
  assert.equal(from.frozenParams, 60);
  const last = flat(buildLayerTree({ ...base, strategy: { kind: 'fine-tune', unfreezeLast: 2 } }).groups);
  assert.deepEqual(
    last.filter((l) => l.state === 'trainable').map((l) => l.name),
    ['top_bn', 'out_relu'],
  );
  const cut = buildLayerTree({ ...base, cutAt: 'block_1_pw', strategy: { kind: 'scratch' } });
  assert.equal(cut.reinitialized, true);
  assert.match(cut.strategyText, /re-initialised/);
  assert.equal(cut.cutIsDefault, false);
  assert.deepEqual(
    flat(cut.groups)
      .filter((l) => l.state === 'trainable')
      .map((l) => l.name),
    ['stem_conv', 'stem_bn', 'stem_relu', 'block_1_dw', 'block_1_dw_bn', 'block_1_pw'],
  );
  assert.equal(flat(cut.groups).filter((l) => l.isBoundary).length, 0, 'scratch has no boundary line');
});

test('names the file gets wrong are warned about, with what to do', () => {
  const away = buildLayerTree({ ...base, cutAt: 'block_1_pw', strategy: { kind: 'fine-tune', unfreezeFrom: 'top_conv' } });
  assert.match(away.warnings.join('\n'), /unfreezeFrom "top_conv" is cut away.*Train from here/);
  const unknown = buildLayerTree({ ...base, cutAt: 'nope', strategy: { kind: 'fine-tune', unfreezeFrom: 'nada' } });
  assert.match(unknown.warnings.join('\n'), /cutAt "nope" is not a layer/);
  assert.match(unknown.warnings.join('\n'), /unfreezeFrom "nada" is not a layer/);
});

test('requests from the webview are validated; unknown layers are refused', () => {
  const known = new Set(['block_5_dw']);
  const protocol = LAYER_TREE_PROTOCOL;
  assert.deepEqual(parseLayerTreeRequest({ type: 'train-from', protocol, layer: 'block_5_dw' }, known), {
    ok: true,
    value: { type: 'train-from', protocol, layer: 'block_5_dw' },
  });
  assert.deepEqual(parseLayerTreeRequest({ type: 'cut-at', protocol, layer: 'block_5_dw', extra: 1 }, known), {
    ok: true,
    value: { type: 'cut-at', protocol, layer: 'block_5_dw' },
  });
  assert.deepEqual(parseLayerTreeRequest({ type: 'freeze-all', protocol }, known), { ok: true, value: { type: 'freeze-all', protocol } });
  assert.equal(parseLayerTreeRequest({ type: 'train-from', protocol, layer: 'block_9_dw' }, known).ok, false);
  assert.equal(parseLayerTreeRequest({ type: 'cut-at', protocol }, known).ok, false);
  assert.equal(parseLayerTreeRequest({ type: 'cut-at', protocol, layer: 3 }, known).ok, false);
  assert.equal(parseLayerTreeRequest({ type: 'writeFile', protocol, path: '/etc/passwd' }, known).ok, false);
  assert.equal(parseLayerTreeRequest(null, known).ok, false);
  assert.equal(parseLayerTreeRequest([{ type: 'ready', protocol }], known).ok, false);
  assert.equal(parseLayerTreeRequest('ready', known).ok, false);
});

test('the cut says where it comes from: the file, the catalog, or the layer before a user model’s own head', () => {
  const note = (s: Partial<LayerSummary>, cutAt?: string) =>
    buildLayerTree({ ...base, summary: { ...summary, ...s }, cutAt, strategy: { kind: 'feature-extraction' } });
  assert.equal(note({ source: 'catalog:fmnist-mini media/backbones/fmnist-mini/model.json' }).cutNote, '(the backbone’s usual cut)');
  assert.equal(note({ cutFrom: 'catalog' }).cutOrigin, 'catalog');
  const head = note({ source: '/w/my_inception.keras', cutFrom: 'classifier head removed' });
  assert.equal(head.cutOrigin, 'classifier head removed');
  assert.doesNotMatch(head.cutNote, /usual/);
  assert.match(head.cutNote, /classifier head/);
  assert.match(note({ source: '/w/model.json', cutFrom: 'model output' }).cutNote, /output layer/);
  // A trainer that does not say (older): a file of the user's is not called the usual cut either.
  assert.doesNotMatch(note({ source: '/w/model.json' }).cutNote, /usual/);
  assert.equal(note({}, 'block_1_pw').cutNote, '(backbone.cutAt)');
});

test('helper layers of a Keras rewrite show as part of their layer; training from that layer includes them', () => {
  const mk = (name: string, className: string, params: number, inbound: string[]): LayerRow => ({
    index: 0,
    name,
    className,
    outputShape: [null, 4, 4, 8],
    params,
    trainable: true,
    inbound,
    isCut: false,
    afterCut: false,
  });
  const r = [
    mk('input_1', 'InputLayer', 0, []),
    mk('conv1', 'Conv2D', 10, ['input_1']),
    mk('conv2__linear', 'Conv2D', 20, ['conv1']),
    mk('conv2__hsig__gate', 'Rescaling', 0, ['conv2__linear']),
    mk('conv2__hsig', 'ReLU', 0, ['conv2__hsig__gate']),
    mk('conv2', 'Multiply', 0, ['conv2__linear', 'conv2__hsig']),
    mk('out', 'ReLU', 0, ['conv2']),
  ];
  const s: LayerSummary = { ...summary, cutAt: 'out', rows: r };
  const fe = buildLayerTree({ ...base, summary: s, strategy: { kind: 'feature-extraction' } });
  const items = flat(fe.groups);
  assert.deepEqual(
    items.map((l) => l.name),
    ['input_1', 'conv1', 'conv2', 'out'],
  );
  const conv2 = items.find((l) => l.name === 'conv2')!;
  assert.equal(conv2.params, 20);
  assert.equal(conv2.className, 'Conv2D + Rescaling + ReLU + Multiply');
  assert.deepEqual(
    conv2.parts?.map((p) => p.name),
    ['conv2__linear', 'conv2__hsig__gate', 'conv2__hsig'],
  );
  assert.equal(fe.layerCount, 4);
  // A file naming conv2 (the Keras name) trains all of conv2, the helper holding its weights too.
  const named = buildLayerTree({ ...base, summary: s, strategy: { kind: 'fine-tune', unfreezeFrom: 'conv2' } });
  assert.equal(flat(named.groups).find((l) => l.name === 'conv2')!.isBoundary, true);
  assert.equal(named.trainableParams, 20);
  assert.deepEqual(named.warnings, []);
  const whole = buildLayerTree({ ...base, summary: s, strategy: { kind: 'fine-tune', unfreezeFrom: 'conv2__linear' } });
  assert.equal(flat(whole.groups).find((l) => l.name === 'conv2')!.isBoundary, true);
  assert.equal(whole.trainableParams, 20);
  assert.deepEqual(whole.warnings, []);
  // A boundary inside conv2 (unfreezeLast counting its parts): said, with what to do.
  const split = buildLayerTree({ ...base, summary: s, strategy: { kind: 'fine-tune', unfreezeLast: 2 } });
  assert.match(
    split.warnings.join('\n'),
    /boundary falls inside conv2, which runs as conv2__linear \+ .*: conv2__linear, conv2__hsig__gate, conv2__hsig stay frozen.*Train from here/,
  );
});

test('block headers: "Train from here" picks the block’s first layer, "Cut here" its last', () => {
  const fe = buildLayerTree({ ...base, strategy: { kind: 'feature-extraction' } });
  const block1 = fe.groups.find((g) => g.block === 'block_1')!;
  assert.equal(block1.trainFrom, 'block_1_dw');
  assert.equal(block1.cutAt, 'block_1_pw');
  // The block the boundary starts at offers no "Train from here"; the block with the cut no "Cut here".
  const ft = buildLayerTree({ ...base, strategy: { kind: 'fine-tune', unfreezeFrom: 'block_2_dw' } });
  assert.equal(ft.groups.find((g) => g.block === 'block_2')!.trainFrom, undefined);
  const top = ft.groups.find((g) => g.block === 'top')!;
  assert.equal(top.trainFrom, 'top_conv');
  assert.equal(fe.scheme, undefined, 'fmnist-mini is no Keras family: blocks by name prefix, no stages');
  assert.deepEqual(fe.stages, []);
});

test('a Keras family: blocks grouped by stage even where its automatic names interleave, the stages listed with their params', () => {
  const names = [
    'input_layer',
    'conv1_conv',
    'conv1_relu',
    'conv2_block1_1_conv',
    'conv2_block1_out',
    'conv2_block2_1_conv',
    'conv2_block2_out',
    'conv3_block1_1_conv',
    'max_pooling2d',
    'conv3_block1_out',
  ];
  const r: LayerRow[] = names.map((name, index) => ({
    index,
    name,
    className: index === 0 ? 'InputLayer' : 'Conv2D',
    outputShape: [null, 4, 4, 8],
    params: index === 0 ? 0 : 5,
    trainable: true,
    inbound: index === 0 ? [] : [names[index - 1]],
    isCut: false,
    afterCut: false,
  }));
  const t = buildLayerTree({ ...base, summary: { ...summary, rows: r, cutAt: 'conv3_block1_out' }, strategy: { kind: 'feature-extraction' } });
  assert.equal(t.scheme, 'resnet');
  assert.deepEqual(
    t.groups.map((g) => [g.block ?? null, g.stage ?? null, g.layers.length]),
    [
      [null, null, 1],
      ['stem', 'stem', 2],
      ['conv2_block1', 'conv2', 2],
      ['conv2_block2', 'conv2', 2],
      ['conv3_block1', 'conv3', 3],
    ],
  );
  assert.deepEqual(t.stages, [
    { name: 'stem', kind: 'stem', blocks: 1, params: 10 },
    { name: 'conv2', kind: 'stage', blocks: 2, params: 20 },
    { name: 'conv3', kind: 'stage', blocks: 1, params: 15 },
  ]);
});

test('ConvNeXt blocks show a short name under their stage heading; the full name stays the key', () => {
  const names = [
    'input_layer',
    'convnext_tiny_stem_conv',
    'convnext_tiny_stage_0_block_0_depthwise_conv',
    'convnext_tiny_stage_0_block_0_identity',
    'add',
    'convnext_tiny_downsampling_layernorm_0',
    'convnext_tiny_downsampling_conv_0',
    'convnext_tiny_stage_1_block_0_depthwise_conv',
    'convnext_tiny_stage_1_block_0_identity',
    'add_1',
  ];
  const r: LayerRow[] = names.map((name, index) => ({
    index,
    name,
    className: index === 0 ? 'InputLayer' : name.startsWith('add') ? 'Add' : 'Conv2D',
    outputShape: [null, 4, 4, 8],
    params: 1,
    trainable: true,
    inbound: index === 0 ? [] : [names[index - 1]],
    isCut: false,
    afterCut: false,
  }));
  const t = buildLayerTree({ ...base, summary: { ...summary, rows: r, cutAt: 'add_1' }, strategy: { kind: 'feature-extraction' } });
  assert.deepEqual(
    t.groups.filter((g) => g.block).map((g) => [g.block, g.title ?? null, g.layers.length]),
    [
      ['stem', null, 1],
      ['convnext_tiny_stage_0_block_0', 'block_0', 3],
      ['convnext_tiny_downsampling_block_0', 'downsampling_block_0', 2],
      ['convnext_tiny_stage_1_block_0', 'block_0', 3],
    ],
  );
});

test('the probe request is validated; a probe.json given to the tree travels in its state, and none leaves the field out', () => {
  const protocol = LAYER_TREE_PROTOCOL;
  assert.deepEqual(parseLayerTreeRequest({ type: 'probe', protocol }, new Set()), { ok: true, value: { type: 'probe', protocol } });
  assert.equal(parseLayerTreeRequest({ type: 'probe' }, new Set()).ok, false);
  const probe = {
    format: PROBE_FORMAT,
    experiment: 'e',
    experimentFile: '/w/e.tlexp.json',
    backbone: 'fmnist-mini',
    cutAt: 'out_relu',
    createdAt: '2026-01-01T00:00:00.000Z',
    backend: 'tensorflow',
    dataset: { root: '/w/data', classes: ['a', 'b'], train: 10, val: 4, imagesPerClass: 5 },
    blocks: [],
    score: { logme: -0.5, block: 'stem' },
    advice: { situation: 'small-similar', strategy: { kind: 'feature-extraction' }, title: 'Feature extraction', reason: 'r', measured: 'm', lowScore: false },
    timings: { loadMs: 1, featurizeMs: 2, probeMs: 3, totalMs: 6 },
    skipped: 0,
  } satisfies ProbeFile;
  assert.equal(buildLayerTree({ ...base, strategy: { kind: 'feature-extraction' }, probe }).probe, probe);
  assert.equal('probe' in buildLayerTree({ ...base, strategy: { kind: 'feature-extraction' } }), false);
});
