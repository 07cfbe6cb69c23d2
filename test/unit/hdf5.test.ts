// The HDF5 reader on real files: written here by h5wasm (the library the reader uses, so
// always there) in Keras's layouts, float16 made by retyping a float32 dataset on disk
// (h5wasm cannot write float16; h5py reads the result), and, where a Python with h5py is
// found, by h5py itself, which is what Keras writes with.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Hdf5Error, openHdf5, planSlabs, type H5Dataset, type H5File, type H5Group } from '../../src/engine/keras/hdf5';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-hdf5-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

interface H5wasmFile {
  create_group(name: string): H5wasmGroup;
  create_dataset(args: { name: string; data: unknown; shape?: number[]; dtype?: string; chunks?: number[] }): unknown;
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  get(name: string): H5wasmGroup;
  close(): void;
}
type H5wasmGroup = Omit<H5wasmFile, 'close'>;
interface H5wasmLib {
  File: new (file: string, mode: string, options?: { libver?: [string, string] }) => H5wasmFile;
  ready: Promise<unknown>;
}

async function h5wasm(): Promise<H5wasmLib> {
  const lib = (await import('h5wasm/node')) as unknown as { default: H5wasmLib };
  await lib.default.ready;
  return lib.default;
}

/** Writes an HDF5 file with h5wasm (oldest format: no checksums, so float16 can be patched in). */
async function writeH5(name: string, build: (f: H5wasmFile) => void): Promise<string> {
  const lib = await h5wasm();
  const file = path.join(dir, name);
  const f = new lib.File(file, 'w', { libver: ['earliest', 'v110'] });
  try {
    build(f);
  } finally {
    f.close();
  }
  return file;
}

const F32_TYPE = Buffer.from('11201f00' + '04000000' + '00002000' + '1708' + '0017' + '7f000000', 'hex');
const F16_TYPE = Buffer.from('11200f00' + '02000000' + '00001000' + '0a05' + '000a' + '0f000000', 'hex');

/**
 * Turns the file's only float32 dataset of `n` elements (holding 2n float16 bit patterns)
 * into a float16 dataset of 2n elements: its datatype and dataspace messages are rewritten.
 */
function retypeAsFloat16(file: string, n: number): void {
  const b = fs.readFileSync(file);
  const at = b.indexOf(F32_TYPE);
  assert.ok(at >= 0 && b.indexOf(F32_TYPE, at + 1) < 0, 'exactly one float32 datatype message');
  F16_TYPE.copy(b, at);
  const dims = Buffer.alloc(16);
  dims.writeBigUInt64LE(BigInt(n), 0);
  dims.writeBigUInt64LE(BigInt(n), 8); // max dims follow the dims
  const d = b.indexOf(dims);
  assert.ok(d >= 0 && b.indexOf(dims, d + 1) < 0, 'exactly one dataspace of that size');
  dims.writeBigUInt64LE(BigInt(2 * n), 0);
  dims.writeBigUInt64LE(BigInt(2 * n), 8);
  dims.copy(b, d);
  fs.writeFileSync(file, b);
}

function h5Error(file: string, ...fragments: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof Hdf5Error, `expected an Hdf5Error, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${f}" in: ${e.message}`);
    assert.ok(!/H5F|HDF5-DIAG|name not defined|major:/.test(e.message), `no library text: ${e.message}`);
    return true;
  };
}

function dataset(g: H5Group, p: string): H5Dataset {
  const d = g.get(p);
  assert.ok(d && d.kind === 'dataset', `${p} is a dataset`);
  return d;
}

function group(g: H5Group, p: string): H5Group {
  const d = g.get(p);
  assert.ok(d && d.kind === 'group', `${p} is a group`);
  return d;
}

/** Everything written to the process's stderr (fd 2 directly, as wasm does, or the stream). */
async function stderrOf(fn: () => Promise<unknown>): Promise<string> {
  const nodeFs = createRequire(__filename)('node:fs') as typeof fs;
  const realWriteSync = nodeFs.writeSync;
  const realWrite = process.stderr.write;
  let text = '';
  nodeFs.writeSync = ((fd: number, data: Uint8Array | string, ...rest: unknown[]) => {
    if (fd === 2) text += typeof data === 'string' ? data : Buffer.from(data).toString();
    return (realWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof fs.writeSync;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += String(chunk);
    return (realWrite as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    nodeFs.writeSync = realWriteSync;
    process.stderr.write = realWrite;
  }
  return text;
}

const kernel = Float32Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => (i - 30) / 7);
const bias = new Float32Array([0.5, -1.25, 3, 1e-8]);
const dense = Float64Array.from({ length: 6 }, (_, i) => Math.PI * (i + 1));

/** A Keras 3 `.weights.h5`: layers/<name>/vars/<i>, nested functional layers. */
async function keras3Weights(name = 'model.weights.h5'): Promise<string> {
  return writeH5(name, (f) => {
    const conv = f.create_group('layers').create_group('conv2d').create_group('vars');
    conv.create_dataset({ name: '0', data: kernel, shape: [3, 3, 2, 4] });
    conv.create_dataset({ name: '1', data: bias, shape: [4] });
    const inner = f.get('layers').create_group('functional').create_group('layers').create_group('dense').create_group('vars');
    inner.create_dataset({ name: '0', data: dense, shape: [2, 3] });
    inner.create_dataset({ name: '1', data: new Int32Array([-3, 7]), shape: [2] });
    inner.create_dataset({ name: '2', data: new Uint8Array([0, 255]), shape: [2] });
    inner.create_dataset({ name: '3', data: 2.5, shape: [] });
    f.create_group('optimizer').create_group('vars');
    f.create_dataset({ name: 'names', data: ['a', 'b'], shape: [2] });
  });
}

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

test('not HDF5: plain words about what the file is, and what is expected', async () => {
  const text = path.join(dir, 'notes.h5');
  fs.writeFileSync(text, 'hello world, this is not HDF5\n');
  await assert.rejects(
    openHdf5({ file: text }),
    h5Error(text, 'is not an HDF5 file (it starts with "hello wo", like text); a Keras .h5 or .weights.h5 is expected'),
  );
  const zip = path.join(dir, 'model.h5');
  fs.writeFileSync(zip, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(2000)]));
  await assert.rejects(
    openHdf5({ file: zip }),
    h5Error(zip, 'is not an HDF5 file (it starts with "PK\\x03\\x04\\x00', 'like a zip archive such as a Keras 3 .keras file'),
  );
  const json = path.join(dir, 'model.json.h5');
  fs.writeFileSync(json, '{"format": "layers-model"}');
  await assert.rejects(openHdf5({ file: json }), h5Error(json, 'like JSON text'));
  const empty = path.join(dir, 'empty.h5');
  fs.writeFileSync(empty, '');
  await assert.rejects(openHdf5({ file: empty }), h5Error(empty, 'is not an HDF5 file (it is empty)'));
  const missing = path.join(dir, 'missing.h5');
  await assert.rejects(openHdf5({ file: missing }), h5Error(missing, 'cannot be read: no such file'));
  await assert.rejects(openHdf5({ file: dir }), h5Error(dir, 'is a folder'));
});

test('truncated or corrupt files: plain words, what to do, nothing printed by the library', async () => {
  const file = await keras3Weights('whole.weights.h5');
  const bytes = fs.readFileSync(file);
  const printed = await stderrOf(async () => {
    for (const cut of [Math.floor(bytes.length / 2), bytes.length - 1, 60, 20, 4]) {
      const part = path.join(dir, `cut${cut}.weights.h5`);
      fs.writeFileSync(part, bytes.subarray(0, cut));
      await assert.rejects(openHdf5({ file: part }), h5Error(part, 'is truncated or corrupt (', '; save or download it again'));
    }
    // Seen before the library: the size its superblock records.
    const half = path.join(dir, `cut${Math.floor(bytes.length / 2)}.weights.h5`);
    await assert.rejects(openHdf5({ file: half }), h5Error(half, `(it has ${Math.floor(bytes.length / 2)} bytes where its HDF5 header says ${bytes.length})`));
    // The superblock's end-of-file address made to match a shorter file: the library opens
    // it and the chunked dataset, and the read of its last chunks fails inside HDF5.
    const big = await writeH5('late.weights.h5', (f) => {
      f.create_dataset({ name: 'small', data: new Float32Array([1, 2]), shape: [2] });
      f.create_dataset({ name: 'late', data: new Float32Array(50_000).fill(1), shape: [50_000], chunks: [10_000] });
    });
    const b = fs.readFileSync(big);
    const short = b.subarray(0, b.length - 30_000);
    assert.equal(short[8], 0, 'superblock version 0');
    short.writeBigUInt64LE(BigInt(short.length), 40); // v0: base(24) free-space(32) eof(40)
    const broken = path.join(dir, 'broken.weights.h5');
    fs.writeFileSync(broken, short);
    const h5 = await openHdf5({ file: broken });
    try {
      assert.deepEqual(dataset(h5, 'small').readFloat32(), new Float32Array([1, 2]));
      assert.throws(
        () => dataset(h5, 'late').readFloat32(),
        h5Error(broken, 'is truncated or corrupt (reading dataset /late failed); save or download it again'),
      );
    } finally {
      h5.close();
    }
    const garbage = Buffer.from(bytes);
    garbage.fill(0x5a, 96, 400); // the root group's header, past the superblock
    const damaged = path.join(dir, 'damaged.weights.h5');
    fs.writeFileSync(damaged, garbage);
    await assert.rejects(
      (async () => {
        const f = await openHdf5({ file: damaged });
        try {
          f.keys();
          dataset(f, 'layers/conv2d/vars/0').readFloat32();
        } finally {
          f.close();
        }
      })(),
      h5Error(damaged, 'is truncated or corrupt', 'save or download it again'),
    );
  });
  assert.equal(printed, '', 'HDF5 diagnostics are kept, not printed');
});

test('a dataset larger than one slab (16 MiB) is read whole and in order', async () => {
  const n = 5 * 1024 * 1024; // 20 MiB of float32
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (i % 1000) - i / n;
  const file = await writeH5('large.weights.h5', (f) => {
    f.create_dataset({ name: 'w', data, shape: [5, 1024, 1024] });
  });
  const h5 = await openHdf5({ file });
  try {
    const got = dataset(h5, 'w').readFloat32();
    assert.equal(got.length, n);
    assert.ok(Buffer.from(got.buffer).equals(Buffer.from(data.buffer)), 'byte-identical');
  } finally {
    h5.close();
  }
});

test('planSlabs covers any C-order array once, in order, within the slab size', () => {
  for (const shape of [[7], [3, 5], [2, 3, 4], [4, 1, 6, 2], [1, 1, 9], []]) {
    for (const slabBytes of [4, 8, 12, 20, 1000]) {
      const slabs = planSlabs(shape, 4, slabBytes);
      const total = shape.reduce((a, b) => a * b, 1);
      const seen: number[] = [];
      for (const s of slabs) {
        if (!s.count) {
          for (let i = 0; i < total; i++) seen.push(i);
          continue;
        }
        assert.ok(s.elements * 4 <= slabBytes, `slab of ${s.elements} within ${slabBytes} bytes`);
        const count = s.count.map(Number);
        const offset = s.offset!.map(Number);
        const idx = count.map(() => 0);
        for (let k = 0; k < s.elements; k++) {
          let flat = 0;
          for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + offset[d] + idx[d];
          seen.push(flat);
          for (let d = shape.length - 1; d >= 0 && ++idx[d] === count[d]; d--) idx[d] = 0;
        }
      }
      assert.deepEqual(
        seen,
        Array.from({ length: total }, (_, i) => i),
        `shape ${shape} slab ${slabBytes}`,
      );
    }
  }
});

test('close frees the file: no descriptor left after many opens; bytes leave no temp files', async () => {
  const file = await keras3Weights('leak.weights.h5');
  const fds = () => (process.platform === 'linux' ? fs.readdirSync('/proc/self/fd').length : 0);
  (await openHdf5({ file })).close(); // the library is loaded before counting
  const before = fds();
  for (let i = 0; i < 25; i++) {
    const h5 = await openHdf5(i % 2 ? { file } : { bytes: fs.readFileSync(file), name: 'leak' });
    dataset(h5, 'layers/conv2d/vars/0').readFloat32();
    void h5.attrs;
    h5.close();
  }
  assert.equal(fds(), before, 'as many open descriptors as before');
  const h5 = await openHdf5({ file });
  const d = dataset(h5, 'layers/conv2d/vars/0');
  h5.close();
  assert.throws(() => d.readFloat32(), h5Error(file, 'already closed'));
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
