// The zip reader on archives it must refuse (traversal names, truncation, not a zip,
// encryption flags, bzip2, zip bombs, overlapping entries, lying headers), reading only what
// is asked for, extractTo, and crc32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { crc32, crc32Portable, ZipArchive, ZipError } from '../../src/engine/keras/zipArchive';
import { dir, removeDirAfterTests, save, payload, writeZip, zipError, config, weights } from './zipArchiveFixtures';

removeDirAfterTests();

test('names with "..", absolute paths, drive letters or NUL are refused at open', () => {
  for (const name of ['../evil.sh', 'a/../../b', '/etc/passwd', 'C:\\Windows\\x.dll', 'a\\..\\..\\b', 'x\0.txt']) {
    const bytes = writeZip([
      { name: 'config.json', data: config },
      { name, data: Buffer.from('x') },
    ]);
    assert.throws(() => ZipArchive.fromBytes(bytes, 'bad.keras'), zipError('bad.keras', name, /absolute path|climbs out|NUL/, 'refused'));
  }
  const ok = ZipArchive.fromBytes(writeZip([{ name: 'a/..b/c..d', data: Buffer.from('x') }]), 'ok.keras');
  assert.equal(ok.read('a/..b/c..d').length, 1, 'dots inside a name are fine');
  assert.throws(
    () =>
      ZipArchive.fromBytes(
        writeZip([
          { name: 'config.json', data: config },
          { name: 'config.json', data: Buffer.from('{}') },
        ]),
        'dup.keras',
      ),
    zipError('dup.keras', 'config.json', 'two entries named config.json'),
  );
});

test('a truncated archive says so in plain words', () => {
  const bytes = writeZip([
    { name: 'config.json', data: config },
    { name: 'model.weights.h5', data: weights },
  ]);
  for (const cut of [Math.floor(bytes.length / 2), bytes.length - 10, 100]) {
    const file = save(bytes.subarray(0, cut));
    assert.throws(() => ZipArchive.open(file), zipError(file, undefined, 'is truncated or corrupt', 'save or download it again'));
  }
  // End records intact, but the entry's data runs past the end: cut from the middle.
  const headerEnd = 30 + 'config.json'.length + config.length + 30 + 'model.weights.h5'.length;
  const spliced = Buffer.concat([bytes.subarray(0, headerEnd + 1000), bytes.subarray(headerEnd + weights.length)]);
  const file = save(spliced);
  assert.throws(() => ZipArchive.open(file), zipError(file, undefined, 'is truncated or corrupt', 'central directory'));
  // A central record that claims more data than the entry has.
  const long = writeZip([{ name: 'w.h5', data: weights, stored: weights.subarray(0, 1000), usize: 1000 }]);
  long.writeUInt32LE(weights.length, long.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])) + 20);
  assert.throws(() => ZipArchive.fromBytes(long, 'long.keras'), zipError('long.keras', 'w.h5', 'is truncated or corrupt', 'runs into the central directory'));
  // Damaged deflate data.
  const deflated = writeZip([{ name: 'w.h5', data: weights, method: 8, stored: zlib.deflateRawSync(weights).subarray(0, 2000) }]);
  const zip = ZipArchive.fromBytes(deflated, 'cut.keras');
  assert.throws(() => zip.read('w.h5'), zipError('cut.keras', 'w.h5', 'is truncated or corrupt'));
});

test('not a zip at all: what it starts with', () => {
  const h5 = save(Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200)]), 'model.h5');
  assert.throws(
    () => ZipArchive.open(h5),
    zipError(h5, undefined, 'is not a zip archive', 'it starts with "\\x89HDF', 'like an HDF5 file', 'not a Keras 3 .keras file'),
  );
  const empty = save(Buffer.alloc(0), 'empty.keras');
  assert.throws(() => ZipArchive.open(empty), zipError(empty, undefined, 'is not a zip archive (it is empty)'));
  const missing = path.join(dir, 'missing.keras');
  assert.throws(() => ZipArchive.open(missing), zipError(missing, undefined, 'cannot be read: no such file'));
  assert.throws(() => ZipArchive.open(dir), zipError(dir, undefined, 'is a folder'));
});

test('encrypted entries and unsupported methods: a clear error at read, others still read', () => {
  const bytes = writeZip([
    { name: 'config.json', data: config },
    { name: 'secret.h5', data: weights, flags: 0x1 },
    { name: 'bz.h5', data: weights, method: 12, stored: Buffer.from('BZh91AY&SY') },
  ]);
  const zip = ZipArchive.fromBytes(bytes, 'odd.keras');
  const byName = new Map(zip.listEntries().map((e) => [e.name, e]));
  assert.equal(byName.get('secret.h5')!.encrypted, true);
  assert.equal(byName.get('bz.h5')!.method, 'bzip2');
  assert.throws(() => zip.read('secret.h5'), zipError('odd.keras', 'secret.h5', 'is encrypted', 'without a password'));
  assert.throws(() => zip.read('bz.h5'), zipError('odd.keras', 'bz.h5', 'compressed with bzip2 (method 12)', 'cannot read'));
  assert.deepEqual(Buffer.from(zip.read('config.json')), config);
});

test('zip bombs: the size cap, data inflating past its declared size, overlapping entries', async () => {
  const big = Buffer.alloc(10_000_000); // 10 MB of zeros deflate to ~10 kB
  const capped = ZipArchive.fromBytes(writeZip([{ name: 'zeros', data: big, method: 8 }]), 'cap.zip', { maxEntryBytes: 1_000_000 });
  assert.throws(() => capped.read('zeros'), zipError('cap.zip', 'zeros', 'would be 10000000 bytes uncompressed, over the limit of 1000000'));
  await assert.rejects(capped.extractTo('zeros', path.join(dir, 'never')), zipError('cap.zip', 'zeros', 'over the limit'));
  assert.ok(!fs.existsSync(path.join(dir, 'never')));

  const lying = writeZip([{ name: 'zeros', data: big, method: 8, usize: 1000 }]);
  const zip = ZipArchive.fromBytes(lying, 'liar.zip');
  assert.throws(() => zip.read('zeros'), zipError('liar.zip', 'zeros', 'inflates to more than the 1000 bytes its header declares'));
  const out = path.join(dir, 'liar.out');
  await assert.rejects(zip.extractTo('zeros', out), zipError('liar.zip', 'zeros', 'inflates to more than the 1000 bytes'));
  assert.ok(!fs.existsSync(out), 'the partial file is removed');

  const overlapping = writeZip([
    { name: 'a', data: big, method: 8 },
    { name: 'b', data: big, method: 8, offsetOf: 'a' },
  ]);
  assert.throws(
    () => ZipArchive.fromBytes(overlapping, 'overlap.zip'),
    (e: unknown) => e instanceof ZipError && ['a', 'b'].includes(e.entry!) && /overlap\.zip: entry [ab] overlaps another entry/.test(e.message),
  );
});

test('from a path only the central directory and the entry asked for are read', () => {
  const file = save(
    writeZip([
      { name: 'model.weights.h5', data: Buffer.alloc(64 << 20, 3) },
      { name: 'config.json', data: config },
    ]),
    'big.keras',
  );
  // Node's own fs module object (the bundle's `import * as fs` reads through to it).
  const nodeFs = createRequire(__filename)('node:fs') as typeof fs;
  const realRead = nodeFs.readSync;
  let bytesRead = 0;
  nodeFs.readSync = ((...args: Parameters<typeof fs.readSync>) => {
    const n = realRead(...args);
    bytesRead += n;
    return n;
  }) as typeof fs.readSync;
  try {
    const zip = ZipArchive.open(file);
    assert.deepEqual(Buffer.from(zip.read('config.json')), config);
    zip.close();
  } finally {
    nodeFs.readSync = realRead;
  }
  assert.ok(bytesRead > 0 && bytesRead < 200_000, `read ${bytesRead} bytes of a 64 MB archive`);
});

test('extractTo streams an entry into a new file, checked; a bad CRC leaves no file', async () => {
  const bytes = writeZip([
    { name: 'model.weights.h5', data: weights, method: 8 },
    { name: 'raw.h5', data: weights },
    { name: 'bad.h5', data: weights, crc: 42 },
  ]);
  const file = save(bytes, 'extract.keras');
  const zip = ZipArchive.open(file);
  for (const name of ['model.weights.h5', 'raw.h5']) {
    const dest = path.join(dir, `out-${name}`);
    await zip.extractTo(name, dest);
    assert.deepEqual(fs.readFileSync(dest), weights);
  }
  const bad = path.join(dir, 'out-bad.h5');
  await assert.rejects(zip.extractTo('bad.h5', bad), zipError(file, 'bad.h5', 'CRC-32'));
  assert.ok(!fs.existsSync(bad));
  zip.close();
  assert.throws(() => zip.read('raw.h5'), zipError(file, 'raw.h5', 'already closed'));
  zip.close(); // idempotent
});

test('crc32 matches zlib (and the table fallback agrees)', () => {
  const data = payload(10_000, 3);
  assert.equal(crc32(data, 0), zlib.crc32(data));
  assert.equal(crc32(data.subarray(5000), crc32(data.subarray(0, 5000), 0)), zlib.crc32(data));
  assert.equal(crc32(Buffer.from('123456789'), 0), 0xcbf43926);
  assert.equal(crc32Portable(data, 0), zlib.crc32(data));
  assert.equal(crc32Portable(data.subarray(5000), crc32Portable(data.subarray(0, 5000), 0)), zlib.crc32(data));
});
