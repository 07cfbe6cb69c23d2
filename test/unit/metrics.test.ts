import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePredictions } from '../../src/core/metrics';

test('metrics equal a confusion matrix computed by hand', () => {
  const labels = ['cat', 'dog', 'fox'];
  // truth:     cat  cat  dog  dog  dog  fox
  // predicted: cat  dog  dog  dog  fox  fox
  const probs = [
    0.8,
    0.1,
    0.1, //
    0.3,
    0.6,
    0.1, // wrong, confidence 0.6
    0.1,
    0.7,
    0.2,
    0.2,
    0.5,
    0.3,
    0.05,
    0.15,
    0.8, // wrong, confidence 0.8
    0.1,
    0.2,
    0.7,
  ];
  const truth = [0, 0, 1, 1, 1, 2];
  const r = evaluatePredictions(probs, truth, labels, ['a', 'b', 'c', 'd', 'e', 'f'], 'test');
  assert.deepEqual(r.confusion, [
    [1, 1, 0],
    [0, 2, 1],
    [0, 0, 1],
  ]);
  assert.equal(r.accuracy, 4 / 6);
  // cat: P=1/1 R=1/2; dog: P=2/3 R=2/3; fox: P=1/2 R=1/1
  assert.deepEqual(
    r.perClass.map((p) => [p.precision, p.recall, p.support]),
    [
      [1, 0.5, 2],
      [2 / 3, 2 / 3, 3],
      [0.5, 1, 1],
    ],
  );
  assert.ok(Math.abs(r.perClass[0].f1 - 2 / 3) < 1e-12);
  // top-2: e (true dog p=.15 is 2nd highest? .8 fox, .15 dog, .05 cat => rank 1) hits, b (true cat .3 rank 1) hits.
  assert.equal(r.topK.top2, 1);
  assert.equal(r.topK.top3, 1);
  assert.deepEqual(
    r.mostConfidentlyWrong.map((w) => [w.path, w.predictedLabel, w.confidence]),
    [
      ['e', 'fox', 0.8],
      ['b', 'dog', 0.6],
    ],
  );
  const expectedLoss = -[0.8, 0.3, 0.7, 0.5, 0.15, 0.7].reduce((s, p) => s + Math.log(p), 0) / 6;
  assert.ok(Math.abs(r.loss - expectedLoss) < 1e-9);
});

test('mismatched shapes are a bug, reported loudly', () => {
  assert.throws(() => evaluatePredictions([0.5, 0.5], [0, 1], ['a', 'b'], ['x', 'y'], 'val'), /2 probabilities for 2 examples x 2 classes/);
});
