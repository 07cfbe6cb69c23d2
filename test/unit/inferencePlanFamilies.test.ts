// The fast frozen path on every Keras Applications family (and the two user models), against
// Keras's own outputs: each fixture (scripts/keras-fixtures/, made by Keras itself, 96x96,
// random but realistic weights) loaded from its .keras file as a run loads it, compiled into
// an inference plan at the default cut, run on the fixture's pixels and compared with what
// Keras predicted, within kerasFamilies.test.ts's tolerance. Every layer of every family is
// planned (none runs as a plain TensorFlow.js layer), and the plan frees what it makes.
// Prints one row per family.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone } from '../../src/engine/backboneLoader';
import { tf } from '../../src/engine/tf';
import { preprocessPixels, pixelTransform } from '../../src/core/preprocessing';
import { compileInferencePlan, describeInferencePlan } from '../../src/engine/inferencePlan';
import { KERAS_PIXEL_TOLERANCE, loadKerasFixtures, fixturePath, readFloat32, readUint8, maxRelativeDiff, type KerasFixtures } from '../support/kerasFixtures';

const installRoot = path.resolve(__dirname, '../../..');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-plan-families-'));
let fx: KerasFixtures;
const rows: string[] = [];

const PIXEL_TOLERANCE = KERAS_PIXEL_TOLERANCE;

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  fx = loadKerasFixtures();
});

after(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  if (rows.length)
    console.log(
      ['', 'family                  cut                     layers  steps  BN folded  fused conv  plain  plan vs Keras  predict vs Keras', ...rows].join('\n'),
    );
});

test('every family: the inference plan at the default cut gives what Keras gives, every layer planned', async (t) => {
  const pixels = readUint8(fx, fx.pixels);
  for (const m of fx.models) {
    await t.test(m.id, async (st) => {
      const loaded = await loadBackbone({ path: fixturePath(fx, m.files.keras) }, { installRoot, cacheDir });
      assert.equal(loaded.kind, 'layers');
      if (loaded.kind !== 'layers') return;
      const before = tf().memory().numTensors;
      // The application fixtures' output is the default cut; the user models' recorded cut output.
      const expectedRef = m.variant === 'application' ? m.outputs.pixels : m.cutOutputs?.pixels;
      assert.ok(expectedRef, `${m.id}: the fixture records the output at the cut`);
      const cut = m.variant === 'application' ? undefined : loaded.cutAt;
      // (A nested base is inlined: its recorded output is that of its last layer, the default cut.)
      if (m.cutOutputs && m.variant === 'head') assert.equal(loaded.cutAt, m.cutOutputs.layer);
      const started = performance.now();
      const plan = compileInferencePlan(loaded.model, { upTo: cut });
      const compileMs = performance.now() - started;
      try {
        const x = tf().tensor4d(preprocessPixels(pixels, pixelTransform(loaded.preprocessing.mode)), fx.pixels.shape as [number, number, number, number]);
        const y = plan.run(x);
        const ours = y.dataSync();
        const byPredict = tf().tidy(() => {
          const model = cut ? tf().model({ inputs: loaded.model.inputs, outputs: loaded.model.getLayer(cut).output as tfTypes.SymbolicTensor }) : loaded.model;
          return (model.predict(x) as tfTypes.Tensor).dataSync();
        });
        tf().dispose([x, y]);
        const expected = readFloat32(fx, expectedRef!);
        const diff = maxRelativeDiff(ours, expected);
        const predictDiff = maxRelativeDiff(byPredict, expected);
        const s = plan.stats;
        st.diagnostic(
          `${m.id}: plan vs Keras ${diff.toExponential(2)} of the output scale (model.predict vs Keras ${predictDiff.toExponential(2)}); compiled in ${compileMs.toFixed(0)} ms; ${describeInferencePlan(s)}`,
        );
        rows.push(
          `${m.id.padEnd(24)}${loaded.cutAt.padEnd(24)}${String(s.layers).padEnd(8)}${String(s.steps).padEnd(7)}${String(s.folded).padEnd(11)}${String(s.nativeFused).padEnd(12)}${String(s.generic).padEnd(7)}${diff.toExponential(2).padEnd(15)}${predictDiff.toExponential(2)}`,
        );
        assert.ok(diff <= PIXEL_TOLERANCE, `${m.id}: the plan differs from Keras by ${diff.toExponential(2)} of the output scale (target ${PIXEL_TOLERANCE})`);
        // Planned: no layer of the family runs as a plain TensorFlow.js layer.
        assert.equal(s.generic, 0, `${m.id}: ${describeInferencePlan(s)}`);
        assert.ok(s.steps <= s.layers, `${m.id}: ${s.steps} steps for ${s.layers} layers`);
        // Every BatchNorm that reads a convolution nothing else reads is folded into it.
        const convLike = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense']);
        const foldable = loaded.model.layers.filter((l) => {
          const p = l.getClassName() === 'BatchNormalization' ? l.inboundNodes[0]?.inboundLayers[0] : undefined;
          return (
            p && convLike.has(p.getClassName()) && p.outboundNodes.length === 1 && ((p.getConfig().activation as string | undefined) ?? 'linear') === 'linear'
          );
        }).length;
        assert.ok(
          s.folded >= foldable && s.folded <= m.batchNormLayers,
          `${m.id}: ${s.folded} BatchNorm folded, ${foldable} follow a convolution of their own`,
        );
      } finally {
        plan.dispose();
        assert.equal(tf().memory().numTensors, before, `${m.id}: the plan frees its weights and every intermediate`);
        loaded.model.dispose();
      }
    });
  }
});

test("with oneDNN's kernels off (Eigen's fused convolution, or TensorFlow.js ops), the plan gives the same outputs", async (t) => {
  const pixels = readUint8(fx, fx.pixels);
  const saved = process.env.TF_ENABLE_ONEDNN_OPTS;
  // What backend.ts sets where oneDNN would crash; the plan then uses only _FusedConv2D.
  process.env.TF_ENABLE_ONEDNN_OPTS = '0';
  try {
    for (const id of ['resnet50', 'mobilenet_v3_small', 'efficientnet_b0', 'convnext_tiny']) {
      const m = fx.models.find((x) => x.id === id);
      if (!m) continue;
      await t.test(id, async (st) => {
        const loaded = await loadBackbone({ path: fixturePath(fx, m.files.keras) }, { installRoot, cacheDir });
        if (loaded.kind !== 'layers') throw new Error(`${id} loaded as ${loaded.kind}`);
        const plan = compileInferencePlan(loaded.model);
        try {
          const x = tf().tensor4d(preprocessPixels(pixels, pixelTransform(loaded.preprocessing.mode)), fx.pixels.shape as [number, number, number, number]);
          const y = plan.run(x);
          const diff = maxRelativeDiff(y.dataSync(), readFloat32(fx, m.outputs.pixels));
          tf().dispose([x, y]);
          st.diagnostic(`${id} without oneDNN's kernels: plan vs Keras ${diff.toExponential(2)}; ${describeInferencePlan(plan.stats)}`);
          assert.ok(diff <= PIXEL_TOLERANCE, `${id}: ${diff.toExponential(2)}`);
        } finally {
          plan.dispose();
          loaded.model.dispose();
        }
      });
    }
  } finally {
    if (saved === undefined) delete process.env.TF_ENABLE_ONEDNN_OPTS;
    else process.env.TF_ENABLE_ONEDNN_OPTS = saved;
  }
});
