// A folder predicted as an evaluation: the true class from the nearest class-named folder,
// accuracy per folder given, and the mistakes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { folderAccuracies, isCorrect, misclassifiedFirst, truthOf, type PredictionRow } from '../../src/core/folderAccuracy';

const labels = new Set(['cat', 'dog', 'test']);
const top = (label: string, p = 0.9) => [
  { label, probability: p },
  { label: label === 'cat' ? 'dog' : 'cat', probability: 1 - p },
];

test('the true class is the nearest enclosing folder named like a label, never above the folder given', () => {
  assert.equal(truthOf('/d/test/cat/1.png', '/d', labels), 'cat', 'a split folder (also a label here) does not win over the nearer class');
  assert.equal(truthOf('/d/cat/1.png', '/d/cat', labels), 'cat', 'the folder given is itself a class');
  assert.equal(truthOf('/d/cat/misc/1.png', '/d', labels), 'cat', 'a subfolder inside a class folder');
  assert.equal(truthOf('/d/photos/1.png', '/d', labels), undefined, 'no class folder');
  assert.equal(truthOf('/cat/d/1.png', '/cat/d', labels), undefined, 'a class-named folder above the one given does not count');
  assert.equal(truthOf('C:\\data\\dog\\1.png', 'C:\\data', labels), 'dog', 'Windows paths');
});

test('accuracy per folder: right over labelled; unlabelled and unreadable images are counted apart', () => {
  const rows: PredictionRow[] = [
    { file: '/d/cat/1.png', root: '/d', truth: 'cat', top: top('cat') },
    { file: '/d/cat/2.png', root: '/d', truth: 'cat', top: top('dog') },
    { file: '/d/dog/3.png', root: '/d', truth: 'dog', top: top('dog') },
    { file: '/d/dog/4.png', root: '/d', truth: 'dog', top: [], error: 'not a PNG' },
    { file: '/d/x/5.png', root: '/d', top: top('cat') },
    { file: '/e/6.png', root: '/e', top: top('cat') },
    { file: '/f.png', top: top('cat') },
  ];
  assert.deepEqual(folderAccuracies(rows, ['/d', '/e']), [
    { folder: '/d', labelled: 3, correct: 2, unlabelled: 2, accuracy: 2 / 3 },
    { folder: '/e', labelled: 0, correct: 0, unlabelled: 1 },
  ]);
  assert.equal(isCorrect(rows[1]), false);
  assert.equal(isCorrect(rows[3]), undefined, 'a failure is neither right nor wrong');
  assert.equal(isCorrect(rows[6]), undefined, 'no class folder');
});

test('misclassified first (the most confident mistake on top), then failures, then the rest in their order', () => {
  const rows: PredictionRow[] = [
    { file: 'a', truth: 'cat', top: top('cat') },
    { file: 'b', truth: 'cat', top: top('dog', 0.6) },
    { file: 'c', top: [], error: 'unreadable' },
    { file: 'd', top: top('dog') },
    { file: 'e', truth: 'dog', top: top('cat', 0.95) },
  ];
  assert.deepEqual(
    misclassifiedFirst(rows).map((r) => r.file),
    ['e', 'b', 'c', 'a', 'd'],
  );
});
