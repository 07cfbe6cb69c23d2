// The HDF5 reader on files that are not HDF5 or are cut short, on datasets larger than a
// slab, and closing files (no descriptors or temporary copies left).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openHdf5, planSlabs } from '../../src/engine/keras/hdf5';
import { dir, removeDirAfterTests, writeH5, h5Error, dataset, stderrOf, keras3Weights } from './hdf5Fixtures';

removeDirAfterTests();

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
