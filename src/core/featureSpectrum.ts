// The thin SVD of a feature matrix F (n samples x d features), from whichever Gram matrix is
// smaller: F F^T (n x n, the dual form) when n < d, else F^T F (d x d). LogME and the ridge
// probe need only the singular values and the left singular vectors U (n x r): with d = 1280
// (MobileNetV2) and a few hundred images, the dual form is the cheap one. Pure.
import { symmetricEigen } from './symmetricEigen';

export interface FeatureSpectrum {
  n: number;
  d: number;
  /** Squared singular values sigma_k^2 (eigenvalues of F^T F), descending, only those above the noise floor: r of them. */
  s: Float64Array;
  /** Left singular vectors, u[i * r + k] (n x r, orthonormal columns). */
  u: Float64Array;
  r: number;
  /** Which Gram matrix was decomposed. */
  form: 'dual' | 'primal';
}

/** Eigenvalues below this fraction of the largest count as zero (rank deficiency, float noise). */
const RANK_TOLERANCE = 1e-10;

export function featureSpectrum(f: Float64Array, n: number, d: number): FeatureSpectrum {
  if (f.length !== n * d) throw new Error(`featureSpectrum: ${n} x ${d} features need ${n * d} values, got ${f.length}`);
  return n < d ? dualSpectrum(f, n, d) : primalSpectrum(f, n, d);
}

function keep(values: Float64Array): number {
  const floor = Math.max(values[0] ?? 0, 0) * RANK_TOLERANCE;
  let r = 0;
  while (r < values.length && values[r] > floor && values[r] > 0) r++;
  return r;
}

/** F F^T = U S U^T: U directly. */
function dualSpectrum(f: Float64Array, n: number, d: number): FeatureSpectrum {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += f[i * d + k] * f[j * d + k];
      g[i * n + j] = sum;
      g[j * n + i] = sum;
    }
  const eig = symmetricEigen(g, n);
  const r = keep(eig.values);
  const u = new Float64Array(n * r);
  for (let i = 0; i < n; i++) for (let k = 0; k < r; k++) u[i * r + k] = eig.vectors[i * n + k];
  return { n, d, s: eig.values.slice(0, r), u, r, form: 'dual' };
}

/** F^T F = V S V^T, then U = F V / sigma. */
function primalSpectrum(f: Float64Array, n: number, d: number): FeatureSpectrum {
  const g = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let a = 0; a < d; a++) {
      const x = f[row + a];
      if (x === 0) continue;
      for (let b = a; b < d; b++) g[a * d + b] += x * f[row + b];
    }
  }
  for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) g[a * d + b] = g[b * d + a];
  const eig = symmetricEigen(g, d);
  const r = keep(eig.values);
  const u = new Float64Array(n * r);
  for (let k = 0; k < r; k++) {
    const sigma = Math.sqrt(eig.values[k]);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let a = 0; a < d; a++) sum += f[i * d + a] * eig.vectors[a * d + k];
      u[i * r + k] = sum / sigma;
    }
  }
  return { n, d, s: eig.values.slice(0, r), u, r, form: 'primal' };
}

/** U^T y for a vector y of length n. */
export function projectOnto(spectrum: FeatureSpectrum, y: ArrayLike<number>): Float64Array {
  const { n, r, u } = spectrum;
  const z = new Float64Array(r);
  for (let i = 0; i < n; i++) {
    const yi = y[i];
    if (yi === 0) continue;
    for (let k = 0; k < r; k++) z[k] += u[i * r + k] * yi;
  }
  return z;
}
