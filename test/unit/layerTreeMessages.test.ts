// The tree the layer panel shows, computed from a layer table and the experiment's cut and
// strategy; and the validation of what the webview asks for.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLayerTree, groupKeyOf, groupLayers, parseLayerTreeRequest, type LayerItem } from '../../src/core/layerTreeMessages';
import type { LayerRow, LayerSummary } from '../../src/core/layerSummary';

const names = ['input_1', 'stem_conv', 'stem_bn', 'stem_relu', 'block_1_dw', 'block_1_dw_bn', 'block_1_pw', 'block_2_dw', 'block_2_pw', 'top_conv', 'top_bn', 'out_relu', 'predictions'];
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
    [[null, 1], ['stem', 3], ['block_1', 3], ['block_2', 2], ['top', 2], [null, 1], [null, 1]],
  );
});

test('feature extraction: the whole base frozen, the classifier cut away, the cut marked', () => {
  const t = buildLayerTree({ ...base, strategy: { kind: 'feature-extraction' } });
  const items = flat(t.groups);
  assert.equal(items.length, names.length);
  assert.deepEqual(items.filter((l) => l.state === 'trainable'), []);
  assert.equal(items.find((l) => l.name === 'predictions')!.state, 'after-cut');
  assert.deepEqual(items.filter((l) => l.isCut).map((l) => l.name), ['out_relu']);
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
  assert.deepEqual(items.filter((l) => l.state === 'trainable').map((l) => l.name), ['block_2_dw', 'block_2_pw', 'top_conv', 'top_bn', 'out_relu']);
  assert.deepEqual(items.filter((l) => l.isBoundary).map((l) => l.name), ['block_2_dw']);
  assert.equal(from.trainableParams, 50);
  assert.equal(from.frozenParams, 60);
  const last = flat(buildLayerTree({ ...base, strategy: { kind: 'fine-tune', unfreezeLast: 2 } }).groups);
  assert.deepEqual(last.filter((l) => l.state === 'trainable').map((l) => l.name), ['top_bn', 'out_relu']);
  const cut = buildLayerTree({ ...base, cutAt: 'block_1_pw', strategy: { kind: 'scratch' } });
  assert.equal(cut.reinitialized, true);
  assert.match(cut.strategyText, /re-initialised/);
  assert.equal(cut.cutIsDefault, false);
  assert.deepEqual(flat(cut.groups).filter((l) => l.state === 'trainable').map((l) => l.name), ['stem_conv', 'stem_bn', 'stem_relu', 'block_1_dw', 'block_1_dw_bn', 'block_1_pw']);
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
  assert.deepEqual(parseLayerTreeRequest({ type: 'trainFrom', layer: 'block_5_dw' }, known), { type: 'trainFrom', layer: 'block_5_dw' });
  assert.deepEqual(parseLayerTreeRequest({ type: 'cutAt', layer: 'block_5_dw', extra: 1 }, known), { type: 'cutAt', layer: 'block_5_dw' });
  assert.deepEqual(parseLayerTreeRequest({ type: 'freezeAll' }, known), { type: 'freezeAll' });
  assert.equal(parseLayerTreeRequest({ type: 'trainFrom', layer: 'block_9_dw' }, known), undefined);
  assert.equal(parseLayerTreeRequest({ type: 'cutAt' }, known), undefined);
  assert.equal(parseLayerTreeRequest({ type: 'cutAt', layer: 3 }, known), undefined);
  assert.equal(parseLayerTreeRequest({ type: 'writeFile', path: '/etc/passwd' }, known), undefined);
  assert.equal(parseLayerTreeRequest(null, known), undefined);
  assert.equal(parseLayerTreeRequest([{ type: 'ready' }], known), undefined);
  assert.equal(parseLayerTreeRequest('ready', known), undefined);
});
