// What the layer probe recommends (core/probeAdvice.ts) for the shapes a probe curve takes,
// the sentence of what was measured, and probe.json's parsing (core/probeFile.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviseFromProbe, asStrategyAdvice, measuredSentence, probeSecondsEstimate, type ProbePoint } from '../../src/core/probeAdvice';
import { parseProbeFile, probeFileName, PROBE_FORMAT, type ProbeFile } from '../../src/core/probeFile';

const curve = (accuracies: number[], logmes?: number[]): ProbePoint[] =>
  accuracies.map((accuracy, i) => {
    const block = i === accuracies.length - 1 ? 'out_relu' : `block_${i + 1}`;
    return { block, layer: `${block}_last`, firstLayer: `${block}_first`, accuracy, logme: logmes?.[i] ?? accuracy - 1 };
  });
const base = { classes: 5, valCount: 50, backbone: 'mobilenet_v2', fineTunable: true };

test('the sentence says where accuracy rises, peaks and falls, where LogME peaks, and the images per class', () => {
  assert.equal(
    measuredSentence(curve([0.41, 0.6, 0.83, 0.79], [-1, -0.8, -0.5, -0.6]), 24),
    'probe accuracy rises from 41% at block_1 to 83% at block_3 and falls to 79% at out_relu; LogME peaks at block_3; 24 images per class',
  );
  assert.equal(
    measuredSentence(curve([0.4, 0.6, 0.9]), 1),
    'probe accuracy rises from 40% at block_1 to 90% at out_relu; LogME peaks at out_relu; 1 image per class',
  );
  assert.match(measuredSentence(curve([0.9, 0.6, 0.5]), 10), /^probe accuracy is highest at block_1 \(90%\) and falls to 50% at out_relu/);
});

test('a peak before the last block: cut at the peak (small data: feature extraction)', () => {
  const a = adviseFromProbe({ ...base, blocks: curve([0.41, 0.6, 0.83, 0.7]), imagesPerClass: 24 });
  assert.equal(a.situation, 'small-different');
  assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
  assert.equal(a.cutAt, 'block_3_last');
  assert.equal(a.block, 'block_3');
  assert.match(a.measured, /83% at block_3 and falls to 70% at out_relu/);
  assert.equal(a.lowScore, false);
});

test('a peak within one validation image of the last block is noise: the usual cut stays', () => {
  const a = adviseFromProbe({ ...base, valCount: 20, blocks: curve([0.41, 0.84, 0.8]), imagesPerClass: 24 });
  assert.equal(a.cutAt, undefined);
  assert.equal(a.situation, 'small-similar');
  assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
});

test('the last block best and little data: feature extraction at the usual cut', () => {
  const a = adviseFromProbe({ ...base, blocks: curve([0.4, 0.6, 0.9]), imagesPerClass: 20 });
  assert.equal(a.situation, 'small-similar');
  assert.deepEqual(a.strategy, { kind: 'feature-extraction' });
  assert.equal(a.cutAt, undefined);
});

test('much data and a high score: fine-tune from the last block', () => {
  const a = adviseFromProbe({ ...base, blocks: curve([0.4, 0.6, 0.95]), imagesPerClass: 500 });
  assert.equal(a.situation, 'large-similar');
  assert.deepEqual(a.strategy, { kind: 'fine-tune', unfreezeFrom: 'out_relu_first' });
  // A moderate last block: more of the network adapts (from two thirds of the depth).
  const b = adviseFromProbe({ ...base, blocks: curve([0.4, 0.5, 0.6, 0.65]), imagesPerClass: 500 });
  assert.equal(b.situation, 'large-different');
  assert.deepEqual(b.strategy, { kind: 'fine-tune', unfreezeFrom: 'block_3_first' });
});

test('low everywhere: transfer may not pay; a study or scratch baseline is recommended', () => {
  const small = adviseFromProbe({ ...base, blocks: curve([0.22, 0.3, 0.25]), imagesPerClass: 20 });
  assert.equal(small.lowScore, true);
  assert.match(small.title, /Transfer may not pay/);
  assert.match(small.reason, /study against scratch/);
  const large = adviseFromProbe({ ...base, blocks: curve([0.22, 0.3, 0.25]), imagesPerClass: 800 });
  assert.deepEqual(large.strategy, { kind: 'scratch' });
  // A graph model never gets fine-tuning or scratch.
  const graph = adviseFromProbe({ ...base, fineTunable: false, blocks: curve([0.4, 0.9]), imagesPerClass: 800 });
  assert.deepEqual(graph.strategy, { kind: 'feature-extraction' });
});

const file = (blocks: ProbeFile['blocks']): ProbeFile => ({
  format: PROBE_FORMAT,
  experiment: 'e',
  experimentFile: '/w/e.tlexp.json',
  backbone: 'fmnist-mini',
  cutAt: 'out_relu',
  createdAt: '2026-01-01T00:00:00.000Z',
  backend: 'tensorflow',
  dataset: { root: '/w/data', classes: ['a', 'b'], train: 10, val: 4, imagesPerClass: 5 },
  blocks,
  score: { logme: -0.5, block: 'stem' },
  advice: adviseFromProbe({ ...base, classes: 2, blocks: curve([0.6, 0.9]), imagesPerClass: 5 }),
  timings: { loadMs: 1, featurizeMs: 2, probeMs: 3, totalMs: 6 },
  skipped: 0,
});
const block = { block: 'stem', layer: 'stem_relu', firstLayer: 'stem_conv', shape: [32, 32, 16], features: 16, accuracy: 0.5 };
const measuredBlock = { ...block, accuracyOn: 'val' as const, trainAccuracy: 0.7, logme: -0.5, lambda: 0.1, ms: 3 };

test('probe.json: a written file parses back; a wrong field is named', () => {
  const good = file([measuredBlock]);
  const parsed = parseProbeFile(JSON.stringify(good), 'p.json');
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.value, good);
  const bad = parseProbeFile(JSON.stringify(file([{ ...measuredBlock, accuracy: 1.5 }])), 'p.json');
  assert.ok(!bad.ok);
  assert.match(bad.error, /^p\.json: blocks\.0\.accuracy: /);
  const notJson = parseProbeFile('{', 'p.json');
  assert.ok(!notJson.ok);
  assert.match(notJson.error, /p\.json: not JSON/);
});

test('probe file names are file-safe and name the experiment and backbone', () => {
  assert.equal(probeFileName('flowers', 'fmnist-mini'), 'flowers-fmnist-mini.json');
  assert.equal(probeFileName('my exp', '/models/mobilenet_v2/model.keras'), 'my-exp-mobilenet_v2-model.json');
  assert.equal(probeFileName('e', 'https://x.org/m/model.json'), 'e-x.org-m.json');
});

test('the wizard gets the probe advice with what was measured first, and a time that grows with the images probed', () => {
  const advice = file([measuredBlock]).advice;
  const w = asStrategyAdvice(advice);
  assert.equal(w.title, advice.title);
  assert.deepEqual(w.strategy, advice.strategy);
  assert.ok(w.reason.startsWith(`Measured: ${advice.measured}. `), w.reason);
  assert.equal('cutAt' in asStrategyAdvice({ ...advice, cutAt: undefined }), false);
  assert.equal(asStrategyAdvice({ ...advice, cutAt: 'block_3_add' }).cutAt, 'block_3_add');
  assert.equal(probeSecondsEstimate(20, 5, 60, 0.02), 10);
  assert.ok(probeSecondsEstimate(1000, 10, 60, 0.2) > probeSecondsEstimate(20, 10, 60, 0.2));
  assert.equal(probeSecondsEstimate(1000, 10, 60, 0.2), probeSecondsEstimate(60, 10, 60, 0.2), 'capped at maxPerClass');
  assert.equal(probeSecondsEstimate(undefined, undefined, 60, 0) % 5, 0);
});
