// LogME (You, Liu, Wang, Long: "LogME: Practical Assessment of Pre-trained Models for
// Transfer Learning", ICML 2021): how well features F (n x D) explain labels, as the
// log marginal evidence of a Bayesian linear model, per sample, averaged over classes.
// Higher is better; it needs no training and no hyper-parameter. Pure (Float64Array).
//
// For each class k, y = the one-hot column of k (n values). The model: y = F w + noise,
// w ~ N(0, 1/alpha I_D), noise ~ N(0, 1/beta I_n). Its evidence:
//
//   L(alpha, beta) = n/2 log beta + D/2 log alpha - n/2 log 2pi
//                    - beta/2 ||F m - y||^2 - alpha/2 ||m||^2 - 1/2 log det A,
//   A = alpha I + beta F^T F,   m = beta A^-1 F^T y.
//
// alpha and beta maximise L by the fixed-point iteration of the paper's Algorithm 1 (MacKay):
//
//   gamma = sum_i beta s_i / (alpha + beta s_i),   alpha <- gamma / ||m||^2,
//   beta <- (n - gamma) / ||F m - y||^2,
//
// with s_i = sigma_i^2 the squared singular values of F = U Sigma V^T. Everything is cheap
// in the SVD's coordinates, z = U^T y (r = rank values):
//
//   m_i = beta sigma_i z_i / (alpha + beta s_i)                (m = V m_i)
//   ||m||^2 = sum_i m_i^2
//   ||F m - y||^2 = sum_i (sigma_i m_i - z_i)^2 + (||y||^2 - sum_i z_i^2)
//   log det A = sum_i log(alpha + beta s_i) + (D - r) log alpha
//
// LogME = mean over classes of L / n. One SVD serves every class and every iteration; the
// SVD comes from the smaller Gram matrix (core/featureSpectrum.ts: the n < D dual form).
import { featureSpectrum, projectOnto, type FeatureSpectrum } from './featureSpectrum';

export interface LogMeResult {
  /** Mean over classes of the evidence per sample. */
  logme: number;
  perClass: number[];
  /** The maximising alpha and beta per class, and the fixed-point iterations each took. */
  alpha: number[];
  beta: number[];
  iterations: number[];
}

const MAX_ITERATIONS = 100;
const TOLERANCE = 1e-8;

/** LogME of features `f` (n x d, row-major) for integer labels 0..classes-1. */
export function logme(f: Float64Array, n: number, d: number, labels: ArrayLike<number>, classes: number, spectrum?: FeatureSpectrum): LogMeResult {
  if (labels.length !== n) throw new Error(`logme: ${n} samples but ${labels.length} labels`);
  const svd = spectrum ?? featureSpectrum(f, n, d);
  const out: LogMeResult = { logme: 0, perClass: [], alpha: [], beta: [], iterations: [] };
  for (let k = 0; k < classes; k++) {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) if (labels[i] === k) y[i] = 1;
    const one = classEvidence(svd, y);
    out.perClass.push(one.evidence);
    out.alpha.push(one.alpha);
    out.beta.push(one.beta);
    out.iterations.push(one.iterations);
  }
  out.logme = out.perClass.reduce((a, b) => a + b, 0) / Math.max(1, classes);
  return out;
}

/** The maximised evidence per sample for one target column y. */
export function classEvidence(svd: FeatureSpectrum, y: Float64Array): { evidence: number; alpha: number; beta: number; iterations: number } {
  const { n, d, r, s } = svd;
  const z = projectOnto(svd, y);
  let yy = 0;
  for (let i = 0; i < n; i++) yy += y[i] * y[i];
  let zz = 0;
  for (let i = 0; i < r; i++) zz += z[i] * z[i];
  // What of y lies outside F's column space: no w reaches it.
  const outside = Math.max(0, yy - zz);
  let alpha = 1;
  let beta = 1;
  let mm = 0;
  let residual = 0;
  let iterations = 0;
  const moments = () => {
    let gamma = 0;
    mm = 0;
    residual = outside;
    for (let i = 0; i < r; i++) {
      const denom = alpha + beta * s[i];
      gamma += (beta * s[i]) / denom;
      const mi = (beta * Math.sqrt(s[i]) * z[i]) / denom;
      mm += mi * mi;
      const e = Math.sqrt(s[i]) * mi - z[i];
      residual += e * e;
    }
    // A perfect fit would send beta to infinity: floor the residual at float noise.
    residual = Math.max(residual, 1e-12 * Math.max(yy, 1));
    mm = Math.max(mm, 1e-300);
    return gamma;
  };
  while (iterations < MAX_ITERATIONS) {
    iterations++;
    const gamma = moments();
    const nextAlpha = gamma / mm;
    const nextBeta = Math.max(n - gamma, 1e-12) / residual;
    const ratio = alpha / beta;
    alpha = nextAlpha;
    beta = nextBeta;
    if (Math.abs(alpha / beta - ratio) / ratio < TOLERANCE) break;
  }
  moments();
  let logDet = (d - r) * Math.log(alpha);
  for (let i = 0; i < r; i++) logDet += Math.log(alpha + beta * s[i]);
  const evidence =
    (n / 2) * Math.log(beta) + (d / 2) * Math.log(alpha) - (n / 2) * Math.log(2 * Math.PI) - (beta / 2) * residual - (alpha / 2) * mm - logDet / 2;
  return { evidence: evidence / n, alpha, beta, iterations };
}
