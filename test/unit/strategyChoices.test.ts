// The wizard's choices for a user's own model.json: the items say which old head layers the
// default cut leaves out, the written cutAt is that cut (or the chosen earlier layer), and the
// layer step offers the model's block ends (cut) or block starts (fine-tune), the advised one starred.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { kerasTopologyLayers, shippedTopologyLayers } from '../../src/extension/shippedTopology';
import { findCatalogEntry } from '../../src/core/backboneCatalog';
import { cutToWrite, droppedHeadNote, layerItems, withLayer } from '../../src/extension/commands/strategyChoices';
import { allSituations } from '../../src/core/strategyAdvisor';
import { smallCnnModelJson } from '../fixtures/smallCnnTopology';

const layers = kerasTopologyLayers(smallCnnModelJson());
const situations = allSituations({ imagesPerClass: 24, format: 'layers', layers }).map((s) => s.advice);
const bySituation = (s: string) => situations.find((a) => a.situation === s)!;

test('plain feature extraction on a user model: the detail names the dropped head and cutAt is written before it', () => {
  const plain = bySituation('small-similar');
  assert.equal(plain.cutAt, undefined);
  assert.equal(droppedHeadNote(plain, layers), 'Leaves out the old classifier head (flatten, fc1, drop1, predictions); the new head reads pool3.');
  assert.equal(cutToWrite(plain, layers), 'pool3');
  // A catalog backbone (no local layers): nothing added, the catalog's cut stays.
  assert.equal(droppedHeadNote(plain, undefined), undefined);
  assert.equal(cutToWrite(plain, undefined), undefined);
});

test('the earlier cut offers the block ends before the default cut, and the chosen one is written', () => {
  const earlier = bySituation('small-different');
  assert.equal(earlier.cutAt, 'pool2');
  assert.equal(droppedHeadNote(earlier, layers), undefined, 'an earlier cut says nothing about the head');
  const asked = layerItems(earlier, layers)!;
  assert.deepEqual(
    asked.items.map((i) => [i.label, i.description]),
    [
      ['pool1', 'end of block 1'],
      ['$(star-full) pool2', 'end of block 2 · suggested'],
    ],
  );
  assert.equal(asked.active?.layer, 'pool2');
  assert.equal(asked.cut, true);
  const chosen = withLayer(earlier, 'pool1');
  assert.equal(cutToWrite(chosen, layers), 'pool1');
  assert.match(chosen.title, /earlier layer \(pool1\)/);
  assert.equal(withLayer(earlier, 'pool2'), earlier, 'the suggested layer keeps the advice as it was');
});

test('fine-tuning offers the block starts and writes unfreezeFrom', () => {
  const late = bySituation('large-similar');
  assert.deepEqual(late.strategy, { kind: 'fine-tune', unfreezeFrom: 'conv3a' });
  const asked = layerItems(late, layers)!;
  assert.deepEqual(
    asked.items.map((i) => i.layer),
    ['conv2a', 'conv3a'],
  );
  assert.equal(asked.cut, false);
  assert.deepEqual(withLayer(late, 'conv2a').strategy, { kind: 'fine-tune', unfreezeFrom: 'conv2a' });
  // Plain feature extraction names no layer: no layer step.
  assert.equal(layerItems(bySituation('small-similar'), layers), undefined);
});

test("the advised layer is offered even where it ends no block (a Keras family's point), in model order", () => {
  const earlier = { ...bySituation('small-different'), cutAt: 'conv2b' };
  const asked = layerItems(earlier, layers)!;
  assert.deepEqual(
    asked.items.map((i) => i.layer),
    ['pool1', 'conv2b', 'pool2'],
  );
  assert.equal(asked.active?.layer, 'conv2b', 'accepting keeps the advice');
});

test("Keras's own MobileNetV2 (a no-top export) as a user's model: no head to leave out, and the advised earlier cut is the active layer choice", async () => {
  const entry = findCatalogEntry('mobilenet_v2')!;
  const keras = (await shippedTopologyLayers(path.resolve(__dirname, '../../..'), entry))!;
  const advice = allSituations({ imagesPerClass: 24, format: 'layers', layers: keras }).map((s) => s.advice);
  const plain = advice.find((a) => a.situation === 'small-similar')!;
  assert.equal(cutToWrite(plain, keras), undefined, 'the run cuts at its output');
  assert.equal(droppedHeadNote(plain, keras), undefined);
  const earlier = advice.find((a) => a.situation === 'small-different')!;
  assert.equal(earlier.cutAt, 'block_13_expand_relu', 'an earlier cut from its stages');
  const asked = layerItems(earlier, keras)!;
  assert.equal(asked.active?.layer, earlier.cutAt);
  assert.ok(asked.items.length > 5, `${asked.items.length} layers offered`);
});
