// The training plan against TensorFlow.js autodiff: the same loss (a fixed random projection
// of the output), gradients of every trainable variable compared relative to their scale.
// Shared by trainingPlan.test.ts and trainingPlanFamilies.test.ts.
import assert from 'node:assert/strict';
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../../src/engine/tf';
import { compileTrainingPlan, type TrainingPlanStats } from '../../src/engine/trainingPlan';

export interface CompareOptions {
  /** Differentiated by autodiff instead of `model` (same layer and weight names): a twin TensorFlow.js can differentiate. */
  reference?: tfTypes.LayersModel;
  /** BatchNorm in training mode (scratch). */
  training?: boolean;
  /** Where the line with the figures goes (default: console.log with a '# ' prefix). */
  report?: (line: string) => void;
}

export interface GradientCheck {
  stats: TrainingPlanStats;
  variables: number;
  /** Largest |lean - autodiff| over a gradient, relative to that gradient's largest value. */
  worst: { name: string; rel: number };
}

/** The worst relative gradient difference must stay under this. */
export const GRADIENT_TOLERANCE = 1e-3;

export function compareGradients(model: tfTypes.LayersModel, x: tfTypes.Tensor | tfTypes.Tensor[], label: string, opts: CompareOptions = {}): GradientCheck {
  const t = tf();
  const reference = opts.reference ?? model;
  const training = opts.training ?? false;
  const xs = Array.isArray(x) ? x : [x];
  const plan = compileTrainingPlan(model, { training });
  const weights = model.trainableWeights;
  const vars = weights.map((w) => w.read() as tfTypes.Variable);
  const refWeights = weights.map((w) => {
    const found = reference.trainableWeights.find((r) => r.originalName === w.originalName);
    assert.ok(found, `the reference has ${w.originalName}`);
    return found;
  });
  const refVars = refWeights.map((w) => w.read() as tfTypes.Variable);
  const outShape = model.outputs[0].shape.slice(1) as number[];
  const r = t.randomNormal([xs[0].shape[0], ...outShape], 0, 1, 'float32', 7);
  const lossOf = (y: tfTypes.Tensor) => t.sum(t.mul(y, r)) as tfTypes.Scalar;
  const auto = t.variableGrads(() => lossOf(reference.apply(xs.length === 1 ? xs[0] : xs, { training }) as tfTypes.Tensor), refVars);
  const lean = t.variableGrads(() => lossOf(plan.apply(xs)), vars);
  // In training mode a bias right before a BatchNorm has a gradient of zero (the batch mean
  // takes it away): both sides hold float32 noise there, so such gradients are measured
  // against the largest one.
  const largest = Math.max(...vars.map((_, i) => t.max(t.abs(auto.grads[refVars[i].name])).dataSync()[0]));
  const floor = training ? 1e-4 * largest : 1e-8;
  assert.ok(largest > 0, `${label}: autodiff's gradients are all zero (nothing to compare)`);
  assert.ok(
    Math.abs(auto.value.dataSync()[0] - lean.value.dataSync()[0]) <= 1e-4 * Math.max(1, Math.abs(auto.value.dataSync()[0])),
    `same loss: ${auto.value.dataSync()[0]} vs ${lean.value.dataSync()[0]}`,
  );
  let worst = { name: '', rel: 0 };
  vars.forEach((v, i) => {
    const a = auto.grads[refVars[i].name];
    const b = lean.grads[v.name];
    assert.ok(a, `autodiff has a gradient for ${refVars[i].name}`);
    assert.ok(b, `a gradient for ${v.name}`);
    const scale = Math.max(floor, t.max(t.abs(a)).dataSync()[0]);
    const rel = t.max(t.abs(t.sub(a, b))).dataSync()[0] / scale;
    if (rel > worst.rel) worst = { name: v.name, rel };
  });
  const s = plan.stats;
  const line = `${label}: ${vars.length} variables, ${s.blocks} custom-gradient blocks, ${s.ops} layers as plain ops, ${s.normOps} normalisations as ops, ${s.generic} plain layers; worst gradient difference ${worst.rel.toExponential(2)} of its scale (${worst.name || 'all equal'})`;
  (opts.report ?? ((l: string) => console.log(`# ${l}`)))(line);
  assert.ok(worst.rel < GRADIENT_TOLERANCE, `${worst.name}: ${worst.rel}`);
  t.dispose([auto.value, lean.value, ...Object.values(auto.grads), ...Object.values(lean.grads), r]);
  plan.dispose();
  return { stats: s, variables: vars.length, worst };
}
