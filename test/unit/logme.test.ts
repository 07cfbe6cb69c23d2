// LogME (core/logme.ts) and the linear algebra under it: the eigen-decomposition, the dual
// form for wide features, agreement with a numpy computation that forms the matrices
// directly (test/fixtures/logmeReference.py), and the properties a transferability score
// must have: informative features score far above noise; the order of samples is irrelevant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symmetricEigen } from '../../src/core/symmetricEigen';
import { featureSpectrum } from '../../src/core/featureSpectrum';
import { logme } from '../../src/core/logme';
import { linearProbe } from '../../src/core/linearProbe';
import { seededRandom } from '../../src/core/random';

const gaussian = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

test('symmetricEigen: A V = V diag(values), V orthonormal, values descending', () => {
  const rand = seededRandom(7);
  const n = 9;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      const x = gaussian(rand);
      a[i * n + j] = x;
      a[j * n + i] = x;
    }
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 1; k < n; k++) assert.ok(values[k] <= values[k - 1]);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
      assert.ok(Math.abs(av - values[k] * vectors[i * n + k]) < 1e-10, `column ${k}, row ${i}`);
    }
  for (let k = 0; k < n; k++)
    for (let l = 0; l < n; l++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + l];
      assert.ok(Math.abs(dot - (k === l ? 1 : 0)) < 1e-10);
    }
});

test('featureSpectrum: the dual (n < d) and primal forms give the same singular values', () => {
  const rand = seededRandom(3);
  const [n, d] = [6, 10];
  const f = Float64Array.from({ length: n * d }, () => gaussian(rand));
  const wide = featureSpectrum(f, n, d);
  assert.equal(wide.form, 'dual');
  // The transpose is tall: primal form, same non-zero spectrum.
  const t = new Float64Array(d * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) t[j * n + i] = f[i * d + j];
  const tall = featureSpectrum(t, d, n);
  assert.equal(tall.form, 'primal');
  assert.equal(wide.r, tall.r);
  for (let k = 0; k < wide.r; k++) assert.ok(Math.abs(wide.s[k] - tall.s[k]) < 1e-9 * wide.s[0]);
});

test('logme matches numpy forming A = alpha I + beta F^T F directly (tall and wide features)', () => {
  // Values printed by `python3 test/fixtures/logmeReference.py` for the same matrices.
  const tall = [1.0, 0.2, 0.1, 0.9, 0.1, 0.3, 0.1, 1.1, 0.2, 0.2, 0.8, 0.1, 0.3, 0.2, 1.0, 0.1, 0.4, 0.9, 0.5, 0.5, 0.5];
  const wide = [
    1.0, 0.0, 0.5, 0.2, 0.1, 0.3, 0.8, 0.1, 0.4, 0.0, 0.2, 0.1, 0.0, 1.0, 0.1, 0.6, 0.3, 0.2, 0.1, 0.9, 0.2, 0.5, 0.0, 0.4, 1.0, 1.0, 0.6, 0.8, 0.4, 0.5,
  ];
  const a = logme(Float64Array.from(tall), 7, 3, [0, 0, 1, 1, 2, 2, 0], 3);
  assert.ok(Math.abs(a.logme - -0.5398729922) < 1e-6, `tall: ${a.logme}`);
  // Wide and of rank 4 < n = 5: the dual form.
  const b = logme(Float64Array.from(wide), 5, 6, [0, 1, 0, 1, 1], 2);
  assert.ok(Math.abs(b.logme - -1.0052532279) < 1e-6, `wide: ${b.logme}`);
});

/** n samples of k classes: one-hot labels plus noise of `sigma`, padded with noise features to d. */
function dataset(n: number, k: number, d: number, sigma: number, informative: boolean, seed: number) {
  const rand = seededRandom(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % k);
  const f = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) f[i * d + j] = (informative && j < k && labels[i] === j ? 1 : 0) + sigma * gaussian(rand);
  return { f, labels };
}

test('logme: one-hot labels plus small noise score far above pure noise (tall and wide)', () => {
  for (const [n, d] of [
    [120, 8],
    [40, 200],
  ]) {
    const good = dataset(n, 4, d, 0.1, true, 1);
    const noise = dataset(n, 4, d, 0.1, false, 1);
    const g = logme(good.f, n, d, good.labels, 4).logme;
    const z = logme(noise.f, n, d, noise.labels, 4).logme;
    assert.ok(g > z + 0.5, `n=${n} d=${d}: informative ${g} vs noise ${z}`);
  }
});

test('logme and the linear probe do not depend on the order of the samples', () => {
  const { f, labels } = dataset(60, 3, 12, 0.5, true, 5);
  const [n, d] = [60, 12];
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => ((x * 37) % n) - ((y * 37) % n));
  const g = new Float64Array(n * d);
  const l = new Int32Array(n);
  order.forEach((from, to) => {
    g.set(f.subarray(from * d, (from + 1) * d), to * d);
    l[to] = labels[from];
  });
  assert.ok(Math.abs(logme(f, n, d, labels, 3).logme - logme(g, n, d, l, 3).logme) < 1e-9);
  const a = linearProbe({ features: f, labels }, null, d, 3);
  const b = linearProbe({ features: g, labels: l }, null, d, 3);
  assert.equal(a.accuracy, b.accuracy);
});

test('linearProbe: separable features classify the validation split; noise is near chance', () => {
  const train = dataset(90, 3, 20, 0.3, true, 11);
  const val = dataset(60, 3, 20, 0.3, true, 12);
  const good = linearProbe({ features: train.f, labels: train.labels }, { features: val.f, labels: val.labels }, 20, 3);
  assert.equal(good.accuracyOn, 'val');
  assert.ok(good.accuracy > 0.95, `separable: ${good.accuracy}`);
  const nt = dataset(90, 3, 20, 0.3, false, 11);
  const nv = dataset(300, 3, 20, 0.3, false, 13);
  const bad = linearProbe({ features: nt.f, labels: nt.labels }, { features: nv.f, labels: nv.labels }, 20, 3);
  assert.ok(bad.accuracy < 0.5, `noise: ${bad.accuracy}`);
  // Without a validation split: leave-one-out on train, in closed form.
  const loo = linearProbe({ features: train.f, labels: train.labels }, null, 20, 3);
  assert.equal(loo.accuracyOn, 'train (leave-one-out)');
  assert.ok(loo.accuracy > 0.9, `leave-one-out: ${loo.accuracy}`);
});
