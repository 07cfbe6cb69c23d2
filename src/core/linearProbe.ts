// The layer probe's classifier: closed-form ridge regression to one-hot targets on
// standardised features, scored by accuracy on the validation split. Closed form rather
// than a few epochs of logistic regression because it is exact (no learning rate, epochs
// or seed to tune, so the curve by depth measures the features, not the optimiser), and
// because one SVD of the training features (core/featureSpectrum.ts, the n < d dual form
// for wide features) serves every ridge strength: the strength is chosen by leave-one-out
// error, which ridge has in closed form (e_i / (1 - H_ii), H the hat matrix). Pure.
import { featureSpectrum } from './featureSpectrum';

export interface ProbeSplit {
  /** n x d, row-major. */
  features: Float64Array;
  labels: ArrayLike<number>;
}

export interface LinearProbeResult {
  /** Accuracy on the validation split, or leave-one-out accuracy on train when there is none. */
  accuracy: number;
  accuracyOn: 'val' | 'train (leave-one-out)';
  /** The ridge strength chosen, relative to the mean eigenvalue of the standardised Gram matrix. */
  lambda: number;
  trainAccuracy: number;
}

/** Ridge strengths tried, as multiples of the mean squared singular value. */
const LAMBDAS = [1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10, 100];

/** Per-feature mean and 1/std on `x` (a constant feature gets scale 0: it carries nothing). */
function standardiser(x: Float64Array, n: number, d: number): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j] - mean[j];
      scale[j] += (c * c) / n;
    }
  for (let j = 0; j < d; j++) scale[j] = scale[j] > 1e-12 ? 1 / Math.sqrt(scale[j]) : 0;
  return { mean, scale };
}

function standardise(x: Float64Array, rows: number, d: number, s: { mean: Float64Array; scale: Float64Array }): Float64Array {
  const out = new Float64Array(rows * d);
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) out[i * d + j] = (x[i * d + j] - s.mean[j]) * s.scale[j];
  return out;
}

const argmaxRow = (a: Float64Array, i: number, k: number): number => {
  let best = 0;
  for (let c = 1; c < k; c++) if (a[i * k + c] > a[i * k + best]) best = c;
  return best;
};

/** Fits on `train`, scores on `val` (or leave-one-out on train when val is empty). */
export function linearProbe(train: ProbeSplit, val: ProbeSplit | null, d: number, classes: number): LinearProbeResult {
  const n = train.labels.length;
  const k = classes;
  const st = standardiser(train.features, n, d);
  const x = standardise(train.features, n, d, st);
  const svd = featureSpectrum(x, n, d);
  const { r, u, s } = svd;
  // Centred one-hot targets (the intercept is the class frequencies).
  const prior = new Float64Array(k);
  for (let i = 0; i < n; i++) prior[train.labels[i]] += 1 / n;
  const y = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < k; c++) y[i * k + c] = (train.labels[i] === c ? 1 : 0) - prior[c];
  // z = U^T Y (r x k).
  const z = new Float64Array(r * k);
  for (let i = 0; i < n; i++) for (let q = 0; q < r; q++) for (let c = 0; c < k; c++) z[q * k + c] += u[i * r + q] * y[i * k + c];
  const meanS = s.reduce((a, b) => a + b, 0) / Math.max(1, d);
  let best = { lambda: LAMBDAS[0], press: Infinity, looCorrect: 0 };
  for (const rel of LAMBDAS) {
    const lambda = rel * Math.max(meanS, 1e-12);
    const { press, correct } = leaveOneOut(svd, z, y, train.labels, prior, lambda, k);
    if (press < best.press) best = { lambda: rel, press, looCorrect: correct };
  }
  const lambda = best.lambda * Math.max(meanS, 1e-12);
  // A = U diag(1/(s+lambda)) z, W = X^T A (d x k): ridge in its dual form.
  const a = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let q = 0; q < r; q++) for (let c = 0; c < k; c++) a[i * k + c] += (u[i * r + q] * z[q * k + c]) / (s[q] + lambda);
  const w = new Float64Array(d * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) w[j * k + c] += x[i * d + j] * a[i * k + c];
  const scoreOf = (feats: Float64Array, labels: ArrayLike<number>) => {
    const rows = labels.length;
    const xs = standardise(feats, rows, d, st);
    const out = new Float64Array(rows * k);
    for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) for (let c = 0; c < k; c++) out[i * k + c] += xs[i * d + j] * w[j * k + c];
    let correct = 0;
    for (let i = 0; i < rows; i++) if (argmaxRow(out, i, k) === labels[i]) correct++;
    return rows === 0 ? 0 : correct / rows;
  };
  const trainAccuracy = scoreOf(train.features, train.labels);
  if (val && val.labels.length > 0) return { accuracy: scoreOf(val.features, val.labels), accuracyOn: 'val', lambda: best.lambda, trainAccuracy };
  return { accuracy: best.looCorrect / n, accuracyOn: 'train (leave-one-out)', lambda: best.lambda, trainAccuracy };
}

/** Leave-one-out squared error (PRESS) and accuracy of ridge at `lambda`, from the SVD alone. */
function leaveOneOut(
  svd: ReturnType<typeof featureSpectrum>,
  z: Float64Array,
  y: Float64Array,
  labels: ArrayLike<number>,
  prior: Float64Array,
  lambda: number,
  k: number,
): { press: number; correct: number } {
  const { n, r, u, s } = svd;
  const shrink = Float64Array.from(s, (v) => v / (v + lambda));
  let press = 0;
  let correct = 0;
  const fitted = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    // The intercept's leverage is 1/n.
    let h = 1 / n;
    fitted.fill(0);
    for (let q = 0; q < r; q++) {
      const uq = u[i * r + q];
      h += uq * uq * shrink[q];
      for (let c = 0; c < k; c++) fitted[c] += uq * shrink[q] * z[q * k + c];
    }
    const keep = Math.max(1 - h, 1e-9);
    let bestC = 0;
    let bestV = -Infinity;
    for (let c = 0; c < k; c++) {
      const e = (y[i * k + c] - fitted[c]) / keep;
      press += e * e;
      // The left-out prediction: target minus its LOO residual, plus the intercept.
      const v = y[i * k + c] - e + prior[c];
      if (v > bestV) {
        bestV = v;
        bestC = c;
      }
    }
    if (bestC === labels[i]) correct++;
  }
  return { press, correct };
}
