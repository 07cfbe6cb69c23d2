// The activation cache never hands back features computed from other inputs: its key holds
// the resize mode and the explicit preprocessing map, so changing either is a new entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ActivationCache, type ActivationKey } from '../../src/engine/activationCache';
import { pixelTransform } from '../../src/core/preprocessing';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-activations-'));
const key: ActivationKey = {
  backbone: 'b',
  cutAt: 'c',
  boundary: ['c'],
  inputSize: [8, 8],
  preprocessing: pixelTransform('tf'),
  resize: 'squash',
  augment: null,
  seed: 1,
};

test('resize and preprocessing are part of the key', () => {
  const base = new ActivationCache(root, key, 2);
  base.put('abc', 0, Float32Array.from([1, 2]));
  assert.deepEqual(new ActivationCache(root, key, 2).get('abc', 0), Float32Array.from([1, 2]), 'same key: a hit');
  const others: ActivationKey[] = [
    { ...key, resize: 'crop-to-aspect-ratio' },
    { ...key, resize: 'center-crop' },
    { ...key, preprocessing: pixelTransform('caffe') },
    // Same mode name, different constants: still a different key.
    { ...key, preprocessing: { ...pixelTransform('tf'), offset: [-1, -1, -0.5] } },
  ];
  const dirs = new Set([base.dir]);
  for (const other of others) {
    const cache = new ActivationCache(root, other, 2);
    assert.equal(cache.get('abc', 0), undefined, JSON.stringify({ resize: other.resize, preprocessing: other.preprocessing }));
    dirs.add(cache.dir);
  }
  assert.equal(dirs.size, others.length + 1);
  const about = JSON.parse(fs.readFileSync(path.join(base.dir, 'key.json'), 'utf8'));
  assert.deepEqual([about.resize, about.preprocessing.mode], ['squash', 'tf'], 'key.json says what the entries were computed with');
});
