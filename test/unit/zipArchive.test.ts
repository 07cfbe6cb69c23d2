// The zip reader on real archives: written by Python's zipfile (what Keras uses for .keras)
// where python3 is there, and by a small writer here for zip64 central records. Refused and
// hostile archives, streaming and crc32 are in zipArchive.refusals.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ZipArchive } from '../../src/engine/keras/zipArchive';
import { dir, removeDirAfterTests, save, python, noPython, py, writeZip, zipError, config, weights } from './zipArchiveFixtures';

removeDirAfterTests();

test('a .keras written by Python zipfile (ZIP_STORED, as Keras does): entries, sizes and bytes', { skip: noPython }, () => {
  const file = path.join(dir, 'stored.keras');
  fs.writeFileSync(path.join(dir, 'w.bin'), weights);
  py(
    `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('metadata.json', '{"keras_version": "3.15.1"}')
    z.writestr('config.json', sys.argv[2])
    z.write(sys.argv[3], 'model.weights.h5')
    z.writestr('assets/caf\\u00e9.txt', 'bonjour')`,
    file,
    config.toString(),
    path.join(dir, 'w.bin'),
  );
  const zip = ZipArchive.open(file);
  try {
    const entries = zip.listEntries();
    assert.deepEqual(
      entries.map((e) => e.name),
      ['metadata.json', 'config.json', 'model.weights.h5', 'assets/café.txt'],
    );
    const w = entries.find((e) => e.name === 'model.weights.h5')!;
    assert.equal(w.method, 'stored');
    assert.equal(w.uncompressedSize, weights.length);
    assert.equal(w.compressedSize, weights.length);
    assert.equal(w.encrypted, false);
    assert.deepEqual(Buffer.from(zip.read('model.weights.h5')), weights);
    assert.deepEqual(Buffer.from(zip.read('config.json')), config);
    assert.equal(Buffer.from(zip.read('assets/café.txt')).toString(), 'bonjour');
    assert.ok(zip.has('config.json') && !zip.has('nope'));
    assert.throws(() => zip.read('nope'), zipError(file, 'nope', 'has no entry named nope'));
  } finally {
    zip.close();
  }
});

test('deflated entries from Python zipfile (and an empty one, a folder) inflate exactly', { skip: noPython }, () => {
  const file = path.join(dir, 'deflated.keras');
  fs.writeFileSync(path.join(dir, 'w2.bin'), weights);
  py(
    `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', compression=zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[2], 'model.weights.h5')
    z.writestr('empty.txt', '')
    z.writestr(zipfile.ZipInfo('assets/'), '')`,
    file,
    path.join(dir, 'w2.bin'),
  );
  const zip = ZipArchive.open(file);
  const w = zip.listEntries().find((e) => e.name === 'model.weights.h5')!;
  assert.equal(w.method, 'deflate');
  assert.ok(w.compressedSize < w.uncompressedSize / 2, 'really compressed');
  assert.deepEqual(Buffer.from(zip.read('model.weights.h5')), weights);
  assert.equal(zip.read('empty.txt').length, 0);
  assert.equal(zip.read('assets/').length, 0);
  zip.close();
});

test('Python zipfile with force_zip64 (zip64 local records) reads', { skip: noPython }, () => {
  const file = path.join(dir, 'forced64.keras');
  py(
    `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    with z.open('model.weights.h5', 'w', force_zip64=True) as f:
        f.write(bytes(range(256)) * 1000)
    z.writestr('config.json', '{}')`,
    file,
  );
  const zip = ZipArchive.open(file);
  const data = zip.read('model.weights.h5');
  assert.equal(data.length, 256_000);
  assert.equal(data[257], 1);
  assert.equal(Buffer.from(zip.read('config.json')).toString(), '{}');
  zip.close();
});

test('zip64 end records and central zip64 sizes/offsets (valid for Python too)', () => {
  const bytes = writeZip(
    [
      { name: 'config.json', data: config, method: 8 },
      { name: 'model.weights.h5', data: weights },
    ],
    { zip64: true, comment: 'written by the test' },
  );
  const file = save(bytes, 'z64.keras');
  if (python) {
    assert.equal(
      py(`import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), [i.file_size for i in z.infolist()])`, file).trim(),
      `None [${config.length}, ${weights.length}]`,
    );
  }
  const zip = ZipArchive.open(file);
  assert.deepEqual(
    zip.listEntries().map((e) => [e.name, e.uncompressedSize, e.method]),
    [
      ['config.json', config.length, 'deflate'],
      ['model.weights.h5', weights.length, 'stored'],
    ],
  );
  assert.deepEqual(Buffer.from(zip.read('model.weights.h5')), weights);
  assert.deepEqual(Buffer.from(zip.read('config.json')), config);
  zip.close();
  // The zip64 values are really used: the 32-bit fields alone say 0xffffffff.
  const z = ZipArchive.fromBytes(bytes, 'in-memory.keras');
  assert.equal(z.listEntries()[1].compressedSize, weights.length);
});

test('bytes before the archive (a stub) shift offsets, as zipfile allows', () => {
  const bytes = writeZip([{ name: 'config.json', data: config }], { prefix: Buffer.from('#!/bin/sh\nexit 0\n') });
  const zip = ZipArchive.fromBytes(bytes, 'stub.zip');
  assert.deepEqual(Buffer.from(zip.read('config.json')), config);
});

test('a corrupt byte fails the CRC-32 check, naming archive and entry', () => {
  const bytes = writeZip([
    { name: 'config.json', data: config },
    { name: 'model.weights.h5', data: weights, method: 8 },
  ]);
  const stored = Buffer.from(bytes);
  stored[30 + 'config.json'.length + 5] ^= 0x01; // inside config.json's stored data
  const file = save(stored, 'badcrc.keras');
  const zip = ZipArchive.open(file);
  assert.throws(() => zip.read('config.json'), zipError(file, 'config.json', 'is truncated or corrupt', 'CRC-32', 'save or download it again'));
  assert.deepEqual(Buffer.from(zip.read('model.weights.h5')), weights, 'the other entry still reads');
  zip.close();
  const wrongCrc = ZipArchive.fromBytes(writeZip([{ name: 'w.h5', data: weights, method: 8, crc: 1234 }]), 'crc.keras');
  assert.throws(() => wrongCrc.read('w.h5'), zipError('crc.keras', 'w.h5', 'CRC-32'));
});
