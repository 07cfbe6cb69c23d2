// The HDF5 reader on real files: written here by h5wasm (the library the reader uses, so
// always there) in Keras's layouts, float16 made by retyping a float32 dataset on disk
// (h5wasm cannot write float16; h5py reads the result), and, where a Python with h5py is
// found, by h5py itself, which is what Keras writes with. Bad files, large datasets and
// closing are in hdf5.limits.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openHdf5, type H5File } from '../../src/engine/keras/hdf5';
import { dir, removeDirAfterTests, writeH5, retypeAsFloat16, h5Error, dataset, group, kernel, bias, dense, keras3Weights } from './hdf5Fixtures';

removeDirAfterTests();

test('a Keras 3 weights file: groups, nested groups, shapes, dtypes, values as float32', async () => {
  const file = await keras3Weights();
  const h5 = await openHdf5({ file });
  try {
    assert.equal(h5.kind, 'group');
    assert.equal(h5.path, '/');
    assert.deepEqual(h5.keys(), ['layers', 'names', 'optimizer']);
    const layers = group(h5, 'layers');
    assert.deepEqual(layers.keys(), ['conv2d', 'functional']);
    const k = dataset(layers, 'conv2d/vars/0');
    assert.equal(k.name, '0');
    assert.equal(k.path, '/layers/conv2d/vars/0');
    assert.deepEqual(k.shape, [3, 3, 2, 4]);
    assert.equal(k.dtype, 'float32');
    assert.deepEqual(k.readFloat32(), kernel);
    assert.deepEqual(dataset(h5, 'layers/conv2d/vars/1').readFloat32(), bias);
    const vars = group(h5, 'layers/functional/layers/dense/vars');
    assert.equal(vars.path, '/layers/functional/layers/dense/vars');
    assert.deepEqual(vars.keys(), ['0', '1', '2', '3']);
    const d64 = dataset(vars, '0');
    assert.equal(d64.dtype, 'float64');
    assert.deepEqual(d64.shape, [2, 3]);
    assert.deepEqual(d64.readFloat32(), Float32Array.from(dense));
    assert.equal(dataset(vars, '1').dtype, 'int32');
    assert.deepEqual(dataset(vars, '1').readFloat32(), new Float32Array([-3, 7]));
    assert.equal(dataset(vars, '2').dtype, 'uint8');
    assert.deepEqual(dataset(vars, '2').readFloat32(), new Float32Array([0, 255]));
    const scalar = dataset(vars, '3');
    assert.deepEqual(scalar.shape, []);
    assert.deepEqual(scalar.readFloat32(), new Float32Array([2.5]));
    assert.deepEqual(group(h5, 'optimizer/vars').keys(), []);
    assert.equal(h5.get('layers/nope'), undefined);
    assert.equal(h5.get('nope/deeper'), undefined);
    assert.equal(h5.get(''), undefined);
    const names = dataset(h5, 'names');
    assert.equal(names.dtype, 'string');
    assert.throws(() => names.readFloat32(), h5Error(file, 'dataset /names holds string values, not numbers'));
  } finally {
    h5.close();
  }
});

test('float16 datasets are converted to float32 exactly (normal, subnormal, signed, inf)', async () => {
  const halves = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x7c00, 0x8000, 0x3800]);
  const expected = new Float32Array([1, -2, 0.333251953125, 2 ** -24, 65504, Infinity, -0, 0.5]);
  const file = await writeH5('half.weights.h5', (f) => {
    f.create_group('layers')
      .create_group('dense')
      .create_group('vars')
      .create_dataset({ name: '0', data: new Float32Array(halves.buffer), shape: [4] });
  });
  retypeAsFloat16(file, 4);
  const h5 = await openHdf5({ file });
  try {
    const d = dataset(h5, 'layers/dense/vars/0');
    assert.equal(d.dtype, 'float16');
    assert.deepEqual(d.shape, [8]);
    const values = d.readFloat32();
    assert.deepEqual(values, expected);
    assert.ok(Object.is(values[6], -0));
  } finally {
    h5.close();
  }
});

test('a Keras .h5 full model: JSON, fixed, variable-length and byte-string attributes', async () => {
  const modelConfig = JSON.stringify({ class_name: 'Functional', config: { name: 'café net', layers: [] } });
  const file = await writeH5('model.h5', (f) => {
    f.create_attribute('model_config', modelConfig); // variable-length UTF-8, as h5py writes a str
    f.create_attribute('keras_version', '3.15.1', null, 'S6'); // fixed-length
    f.create_attribute('backend', 'tensorflow', null, 'A10'); // fixed-length, ASCII-tagged
    const mw = f.create_group('model_weights');
    // h5py writes layer_names as numpy byte strings: fixed length, ASCII-tagged, UTF-8 inside.
    mw.create_attribute('layer_names', ['input_1', 'conv1', 'café'], [3], 'A7');
    mw.create_attribute('backend', 'tensorflow');
    const conv = mw.create_group('conv1');
    conv.create_attribute('weight_names', ['conv1/kernel:0'], [1], 'A14');
    conv.create_group('conv1').create_dataset({ name: 'kernel:0', data: kernel, shape: [3, 3, 2, 4] });
    mw.create_group('café').create_attribute('weight_names', [], [0], 'A1');
    const inp = mw.create_group('input_1');
    inp.create_attribute('weight_names', ['a', 'bb'], [2]); // variable-length array
    inp.create_attribute('count', 3);
    inp.create_attribute('big', 2 ** 40, null, '<q');
    inp.create_attribute('scales', new Float64Array([0.5, 0.25]), [2]);
    inp.create_attribute('one', new Float32Array([1.5]), [1]);
  });
  const h5 = await openHdf5({ file });
  try {
    assert.equal(h5.attrs.model_config, modelConfig);
    assert.deepEqual(JSON.parse(h5.attrs.model_config as string).config.name, 'café net');
    assert.equal(h5.attrs.keras_version, '3.15.1');
    assert.equal(h5.attrs.backend, 'tensorflow');
    const mw = group(h5, 'model_weights');
    assert.deepEqual(mw.attrs.layer_names, ['input_1', 'conv1', 'café']);
    const conv = group(mw, 'conv1');
    assert.deepEqual(conv.attrs.weight_names, ['conv1/kernel:0'], 'one name is still a string[]');
    assert.deepEqual(dataset(conv, conv.attrs.weight_names![0] as string).readFloat32(), kernel);
    assert.deepEqual(group(mw, 'café').attrs.weight_names, []);
    const inp = group(mw, 'input_1');
    assert.deepEqual(inp.attrs.weight_names, ['a', 'bb']);
    assert.equal(inp.attrs.count, 3);
    assert.equal(inp.attrs.big, 2 ** 40);
    assert.deepEqual(inp.attrs.scales, [0.5, 0.25]);
    assert.deepEqual(inp.attrs.one, [1.5]);
  } finally {
    h5.close();
  }
});

test('bytes (the model.weights.h5 inside a .keras) read the same; the temporary copy goes at close', async () => {
  const file = await keras3Weights('bytes.weights.h5');
  const tmp = fs.mkdtempSync(path.join(dir, 'tmp-'));
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp; // os.tmpdir() follows it: the copy must appear and go here
  let h5: H5File;
  try {
    h5 = await openHdf5({ bytes: new Uint8Array(fs.readFileSync(file)), name: 'm.keras (model.weights.h5)' });
  } finally {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  assert.equal(fs.readdirSync(tmp).length, 1, 'one temporary copy while open');
  assert.deepEqual(dataset(h5, 'layers/conv2d/vars/0').readFloat32(), kernel);
  h5.close();
  assert.deepEqual(fs.readdirSync(tmp), [], 'removed at close');
  assert.throws(() => h5.keys(), h5Error('m.keras (model.weights.h5)', 'already closed'));
  h5.close(); // idempotent
  await assert.rejects(
    openHdf5({ bytes: new Uint8Array([1, 2, 3]), name: 'x.keras (model.weights.h5)' }),
    h5Error('x.keras (model.weights.h5)', 'is not an HDF5 file'),
  );
});

/** A Python that has h5py: the fixture venv, TL_H5PY_PYTHON, or python3. */
function findH5py(): string | undefined {
  const candidates = [process.env.TL_H5PY_PYTHON, path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python'), 'python3'];
  for (const c of candidates) {
    if (c && spawnSync(c, ['-c', 'import h5py, numpy'], { encoding: 'utf8' }).status === 0) return c;
  }
  return undefined;
}
const h5pyPython = findH5py();

test(
  'files written by h5py (what Keras uses): byte-string names, bools, float16, int64',
  { skip: h5pyPython ? false : 'no Python with h5py found' },
  async () => {
    const file = path.join(dir, 'h5py.h5');
    const r = spawnSync(
      h5pyPython!,
      [
        '-c',
        `import sys, json, h5py, numpy as np
with h5py.File(sys.argv[1], 'w') as f:
    f.attrs['model_config'] = json.dumps({'class_name': 'Functional'})
    f.attrs['keras_version'] = '2.15.0'
    f.attrs['training'] = True
    mw = f.create_group('model_weights')
    mw.attrs['layer_names'] = np.array([n.encode('utf8') for n in ['dense', 'caf\\u00e9']])
    g = mw.create_group('dense')
    g.attrs['weight_names'] = np.array([b'dense/kernel:0', b'dense/bias:0'])
    g.create_dataset('dense/kernel:0', data=np.arange(6, dtype=np.float16).reshape(2, 3) / 4)
    g.create_dataset('dense/bias:0', data=np.array([-1, 2**40], dtype=np.int64))
    g.create_dataset('flags', data=np.array([True, False]))
    g.create_dataset('padded', data=np.arange(4, dtype='>f4'))
    mw.create_group('caf\\u00e9').attrs['weight_names'] = np.array([], dtype='S1')
`,
        file,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const h5 = await openHdf5({ file });
    try {
      assert.equal(h5.attrs.model_config, '{"class_name": "Functional"}');
      assert.equal(h5.attrs.keras_version, '2.15.0');
      assert.equal(h5.attrs.training, true);
      const mw = group(h5, 'model_weights');
      assert.deepEqual(mw.attrs.layer_names, ['dense', 'café']);
      const g = group(mw, 'dense');
      assert.deepEqual(g.attrs.weight_names, ['dense/kernel:0', 'dense/bias:0']);
      const k = dataset(g, 'dense/kernel:0');
      assert.equal(k.dtype, 'float16');
      assert.deepEqual(k.shape, [2, 3]);
      assert.deepEqual(k.readFloat32(), new Float32Array([0, 0.25, 0.5, 0.75, 1, 1.25]));
      assert.equal(dataset(g, 'dense/bias:0').dtype, 'int64');
      assert.deepEqual(dataset(g, 'dense/bias:0').readFloat32(), new Float32Array([-1, 2 ** 40]));
      assert.equal(dataset(g, 'flags').dtype, 'bool');
      assert.deepEqual(dataset(g, 'flags').readFloat32(), new Float32Array([1, 0]));
      assert.deepEqual(dataset(g, 'padded').readFloat32(), new Float32Array([0, 1, 2, 3]), 'big-endian converted');
      assert.deepEqual(group(mw, 'café').attrs.weight_names, []);
    } finally {
      h5.close();
    }
  },
);
