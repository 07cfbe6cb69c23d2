// Lean fine-tuning gives autodiff's gradients: for every trainable variable of a Keras-built
// MobileNet v2 (random weights and BatchNorm statistics) and of the shipped backbone's upper
// blocks, the custom-gradient blocks' gradients equal TensorFlow.js autodiff through the model
// in inference mode (the Keras rule), on real images; and they keep fewer tensors alive.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import { loadBackend } from '../../src/engine/backend';
import { tf } from '../../src/engine/tf';
import { decodeImageFile } from '../../src/engine/imageDecode';
import { buildMobileNetV2 } from '../../src/engine/referenceNets';
import { compileTrainingPlan } from '../../src/engine/trainingPlan';

const installRoot = path.resolve(__dirname, '../../..');

before(async () => {
  await loadBackend({ preference: 'auto', installRoot });
});

async function realBatch(n: number, size: number): Promise<tfTypes.Tensor4D> {
  const dir = path.join(installRoot, 'media/datasets/fashion-target/train');
  const files = fs.readdirSync(dir).flatMap((c) => fs.readdirSync(path.join(dir, c)).slice(0, 1).map((f) => path.join(dir, c, f))).slice(0, n);
  const px = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const d = await decodeImageFile(files[i], { height: size, width: size });
    for (let j = 0; j < d.rgb.length; j++) px[i * d.rgb.length + j] = d.rgb[j] / 127.5 - 1;
  }
  return tf().tensor4d(px, [n, size, size, 3]);
}

function compareGradients(model: tfTypes.LayersModel, x: tfTypes.Tensor4D, label: string) {
  const t = tf();
  const plan = compileTrainingPlan(model);
  const vars = model.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const outShape = model.outputs[0].shape.slice(1) as number[];
  const r = t.randomNormal([x.shape[0], ...outShape], 0, 1, 'float32', 7);
  const lossOf = (y: tfTypes.Tensor) => t.sum(t.mul(y, r)) as tfTypes.Scalar;
  const auto = t.variableGrads(() => lossOf(model.apply(x, { training: false }) as tfTypes.Tensor), vars);
  const lean = t.variableGrads(() => lossOf(plan.apply([x])), vars);
  assert.ok(Math.abs(auto.value.dataSync()[0] - lean.value.dataSync()[0]) <= 1e-4 * Math.max(1, Math.abs(auto.value.dataSync()[0])), 'same loss');
  let worst = { name: '', rel: 0 };
  for (const v of vars) {
    const a = auto.grads[v.name];
    const b = lean.grads[v.name];
    assert.ok(b, `a gradient for ${v.name}`);
    const scale = Math.max(1e-8, t.max(t.abs(a)).dataSync()[0]);
    const rel = t.max(t.abs(t.sub(a, b))).dataSync()[0] / scale;
    if (rel > worst.rel) worst = { name: v.name, rel };
  }
  console.log(`# ${label}: ${vars.length} variables, ${plan.stats.blocks} custom-gradient blocks, ${plan.stats.generic} plain layers; worst gradient difference ${worst.rel.toExponential(2)} of its scale (${worst.name})`);
  assert.ok(worst.rel < 1e-3, `${worst.name}: ${worst.rel}`);
  t.dispose([auto.value, lean.value, ...Object.values(auto.grads), ...Object.values(lean.grads), r]);
  plan.dispose();
}

test('MobileNet v2: the lean blocks give autodiff gradients for every variable', async () => {
  const model = buildMobileNetV2({ inputSize: 64, seed: 9 });
  const x = await realBatch(3, 64);
  compareGradients(model, x, 'MobileNetV2 64');
  x.dispose();
  model.dispose();
});

test('the shipped backbone: the lean blocks give autodiff gradients', async () => {
  const model = await tf().loadLayersModel(`file://${path.join(installRoot, 'media/backbones/fmnist-mini/model.json')}`);
  const base = tf().model({ inputs: model.inputs, outputs: model.getLayer('out_relu').output as tfTypes.SymbolicTensor });
  const x = await realBatch(4, model.inputs[0].shape[1] as number);
  compareGradients(base, x, 'fmnist-mini');
  x.dispose();
  model.dispose();
});

test('a lean step holds fewer bytes than autodiff, after the forward pass and at its peak', async () => {
  const t = tf();
  const model = buildMobileNetV2({ inputSize: 64, seed: 2 });
  const plan = compileTrainingPlan(model);
  const x = await realBatch(2, 64);
  const vars = model.trainableWeights.map((w) => w.read() as tfTypes.Variable);
  const measure = async (f: () => tfTypes.Tensor) => {
    let afterForward = 0;
    const before = t.memory().numBytes;
    const info = await t.profile(() => {
      const g = t.variableGrads(() => {
        const y = t.sum(f()) as tfTypes.Scalar;
        afterForward = t.memory().numBytes - before;
        return y;
      }, vars);
      t.dispose([g.value, ...Object.values(g.grads)]);
    });
    return { afterForward, peak: info.peakBytes - before };
  };
  const auto = await measure(() => model.apply(x, { training: false }) as tfTypes.Tensor);
  const lean = await measure(() => plan.apply([x]));
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(`# bytes held after the forward pass: autodiff ${mb(auto.afterForward)} MB, lean ${mb(lean.afterForward)} MB; peak of the step: autodiff ${mb(auto.peak)} MB, lean ${mb(lean.peak)} MB (${(auto.peak / lean.peak).toFixed(1)}x less)`);
  // Two activations per block instead of four (conv output, BN output, relu's and clip's inputs),
  // and each block's gradient temporaries and dy freed as the backward pass goes.
  assert.ok(lean.afterForward < auto.afterForward * 0.8, `${lean.afterForward} vs ${auto.afterForward}`);
  assert.ok(lean.peak < auto.peak * 0.5, `peak ${lean.peak} vs ${auto.peak}`);
  plan.dispose();
  x.dispose();
  model.dispose();
});
