// Lean fine-tuning on every Keras Applications family: each fixture (made by Keras itself,
// 96x96, random but realistic weights; scripts/keras-fixtures/) loaded from its .keras file,
// split as a fine-tuning run splits it (unfreezeLast 6, and 25: about a block or stage, with
// squeeze-excite, hard-swish, SeparableConv2D, LayerNorm, LayerScale, Concatenate where the
// family has them), its frozen prefix run on the fixture's pixels, and the gradients of the
// training plan for every trainable variable compared with TensorFlow.js autodiff through
// the same layers, within trainingPlan.test.ts's tolerance. Where a family has normalisations
// TensorFlow.js's layers cannot differentiate (InceptionV3's BatchNorm scale=False), autodiff
// runs on a twin of the trainable part whose normalisations have gamma = 1 and beta = 0.
// Nothing falls back to autodiff in any family. Prints one row per family and cut.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { loadBackbone } from '../../src/engine/backboneLoader';
import { tf } from '../../src/engine/tf';
import { splitModel } from '../../src/engine/modelSurgery';
import { preprocessPixels, pixelTransform } from '../../src/core/preprocessing';
import { compileTrainingPlan, describeTrainingPlan } from '../../src/engine/trainingPlan';
import { compareGradients } from '../support/gradientCheck';
import { loadKerasFixtures, fixturePath, maxRelativeDiff, readUint8, type KerasFixtures } from '../support/kerasFixtures';

const installRoot = path.resolve(__dirname, '../../..');
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-lean-families-'));
let fx: KerasFixtures;
const rows: string[] = [];

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
  fx = loadKerasFixtures();
});

after(() => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  if (rows.length)
    console.log(['', 'family                  unfreeze  variables  blocks  block layers  plain ops  autodiff  worst gradient diff', ...rows].join('\n'));
});

const isNormalization = (c: { class_name: string }) => c.class_name === 'BatchNormalization' || c.class_name === 'LayerNormalization';

/**
 * The model with every BatchNormalization and LayerNormalization given gamma and beta (1 and
 * 0 where the model has none), the rest of its weights shared by value: what TensorFlow.js's
 * autodiff can differentiate. Null when the model needs no twin.
 */
async function completeTwin(model: tfTypes.LayersModel): Promise<tfTypes.LayersModel | null> {
  const t = tf();
  const topology = model.toJSON(null, false) as unknown as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } };
  const incomplete = topology.config.layers.filter((l) => isNormalization(l) && (l.config.scale === false || l.config.center === false));
  if (incomplete.length === 0) return null;
  for (const l of incomplete) Object.assign(l.config, { scale: true, center: true });
  const twin = await t.models.modelFromJSON({ modelTopology: topology as never });
  for (const layer of twin.layers) {
    const own = model.getLayer(layer.name).weights;
    for (const w of layer.weights) {
      const role = w.originalName.split('/').pop();
      const match = own.find((o) => o.originalName.split('/').pop() === role);
      const v = match ? match.read().clone() : t.fill(w.shape as number[], role === 'gamma' ? 1 : 0);
      w.write(v);
      v.dispose();
    }
  }
  return twin;
}

test('every family, partly unfrozen: the lean blocks give the gradients of autodiff, nothing falls back', async (t) => {
  const pixels = readUint8(fx, fx.pixels);
  const head = { pooling: 'avg' as const, dense: [], dropout: 0 };
  for (const m of fx.models.filter((x) => x.variant === 'application')) {
    // VGG16 has 18 layers after its input: 25 would leave no frozen prefix.
    for (const unfreezeLast of [6, Math.min(25, m.layers - 4)]) {
      await t.test(`${m.id}, unfreezeLast ${unfreezeLast}`, async (st) => {
        const loaded = await loadBackbone({ path: fixturePath(fx, m.files.keras) }, { installRoot, cacheDir });
        assert.equal(loaded.kind, 'layers');
        if (loaded.kind !== 'layers') return;
        const strategy = { kind: 'fine-tune' as const, unfreezeLast, baseLearningRate: 1e-4, warmupEpochs: 0 };
        const split = await splitModel(loaded.model, loaded.cutAt, strategy, head, 3);
        assert.ok(split.prefix && split.suffix, `${m.id}: a frozen prefix and a trainable base`);
        // The trainable base's inputs: the frozen prefix on the fixture's pixels (two images).
        const x = tf().tensor4d(preprocessPixels(pixels, pixelTransform(loaded.preprocessing.mode)), fx.pixels.shape as [number, number, number, number]);
        const two = tf().slice(x, 0, 2);
        const boundary = split.prefix!.predict(two);
        const inputs = Array.isArray(boundary) ? boundary : [boundary];
        const twin = await completeTwin(split.suffix!);
        try {
          if (split.suffix!.trainableWeights.length === 0) {
            // Nothing to differentiate (NASNet's last 6: adds, concatenations, an activation): the same outputs.
            const plan = compileTrainingPlan(split.suffix!);
            const [a, b] = [plan.apply(inputs), split.suffix!.apply(inputs.length === 1 ? inputs[0] : inputs) as tfTypes.Tensor];
            const diff = maxRelativeDiff(a.dataSync(), b.dataSync());
            st.diagnostic(
              `${m.id} unfreezeLast ${unfreezeLast}: no trainable variables; outputs differ by ${diff.toExponential(2)}; ${describeTrainingPlan(plan.stats)}`,
            );
            rows.push(
              `${m.id.padEnd(24)}${String(unfreezeLast).padEnd(10)}${'0'.padEnd(11)}${String(plan.stats.blocks).padEnd(8)}${String(plan.stats.blockLayers).padEnd(14)}${String(plan.stats.ops).padEnd(11)}${String(plan.stats.generic).padEnd(10)}(outputs ${diff.toExponential(2)})`,
            );
            assert.ok(diff < 1e-5, `${m.id}: outputs differ by ${diff}`);
            assert.equal(plan.stats.generic, 0);
            tf().dispose([a, b]);
            plan.dispose();
            return;
          }
          const check = compareGradients(split.suffix!, inputs, `${m.id} unfreezeLast ${unfreezeLast}`, {
            reference: twin ?? undefined,
            report: (line) => st.diagnostic(line),
          });
          const s = check.stats;
          st.diagnostic(describeTrainingPlan(s));
          rows.push(
            `${m.id.padEnd(24)}${String(unfreezeLast).padEnd(10)}${String(check.variables).padEnd(11)}${String(s.blocks).padEnd(8)}${String(s.blockLayers).padEnd(14)}${String(s.ops).padEnd(11)}${String(s.generic).padEnd(10)}${check.worst.rel.toExponential(2)} (${check.worst.name || 'all equal'})`,
          );
          assert.equal(s.generic, 0, `${m.id}: ${describeTrainingPlan(s)}`);
          assert.ok(s.blocks > 0, `${m.id}: ${describeTrainingPlan(s)}`);
        } finally {
          tf().dispose([x, two, ...inputs]);
          twin?.dispose();
          split.head.dispose();
          loaded.model.dispose();
        }
      });
    }
  }
});
