// The zip reader on real archives: written by Python's zipfile (what Keras uses for .keras)
// where python3 is there, and by a small writer here for what Python only does on huge
// files (zip64 central records) or never does (encryption flags, bzip2, traversal names,
// overlapping entries, lying headers).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { crc32, crc32Portable, ZipArchive, ZipError } from '../../src/engine/keras/zipArchive';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-zip-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function save(bytes: Uint8Array, name = `a${fileNo++}.zip`): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

const python = spawnSync('python3', ['-c', 'import zipfile'], { encoding: 'utf8' }).status === 0 ? 'python3' : undefined;
const noPython = python ? false : 'python3 is not installed';

function py(code: string, ...args: string[]): string {
  const r = spawnSync(python!, ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Deterministic bytes that deflate well but not trivially. */
function payload(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 7 === 0 ? x >>> 24 : 0x41 + (i % 13);
  }
  return b;
}

interface WriteEntry {
  name: string;
  data: Buffer;
  method?: number;
  /** Bytes to store as the entry's data (default: data, deflated when method is 8). */
  stored?: Buffer;
  flags?: number;
  crc?: number;
  usize?: number;
  /** Write the central record with this local offset instead of the real one. */
  offsetOf?: string;
}

/** A zip writer for the cases Python will not produce on small files. */
function writeZip(entries: WriteEntry[], opts: { zip64?: boolean; prefix?: Buffer; comment?: string } = {}): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    pos += b.length;
  };
  if (opts.prefix) push(opts.prefix);
  const base = pos;
  const offsets = new Map<string, number>();
  const central: Buffer[] = [];
  for (const e of entries) {
    const method = e.method ?? 0;
    const body = e.stored ?? (method === 8 ? zlib.deflateRawSync(e.data) : e.data);
    const name = Buffer.from(e.name, 'utf8');
    // eslint-disable-next-line no-control-regex -- 'not 7-bit ASCII' is the zip spec's test for the UTF-8 flag
    const flags = (e.flags ?? 0) | (/[^\x00-\x7f]/.test(e.name) ? 0x800 : 0);
    const crc = e.crc ?? crc32(e.data, 0);
    const usize = e.usize ?? e.data.length;
    const z = opts.zip64;
    const localExtra = z ? extra64([usize, body.length]) : Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(z ? 45 : 20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(z ? 0xffffffff : body.length, 18);
    local.writeUInt32LE(z ? 0xffffffff : usize, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(localExtra.length, 28);
    offsets.set(e.name, pos - base);
    const offset = e.offsetOf !== undefined ? offsets.get(e.offsetOf)! : pos - base;
    push(Buffer.concat([local, name, localExtra, body]));
    const cExtra = z ? extra64([usize, body.length, offset]) : Buffer.alloc(0);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(z ? 45 : 20, 4);
    c.writeUInt16LE(z ? 45 : 20, 6);
    c.writeUInt16LE(flags, 8);
    c.writeUInt16LE(method, 10);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(z ? 0xffffffff : body.length, 20);
    c.writeUInt32LE(z ? 0xffffffff : usize, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(cExtra.length, 30);
    c.writeUInt32LE(z ? 0xffffffff : offset, 42);
    central.push(Buffer.concat([c, name, cExtra]));
  }
  const cd = Buffer.concat(central);
  const cdOffset = pos - base;
  push(cd);
  if (opts.zip64) {
    const z64Pos = pos - base;
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(z64Pos), 8);
    loc.writeUInt32LE(1, 16);
    push(Buffer.concat([rec, loc]));
  }
  const comment = Buffer.from(opts.comment ?? '', 'utf8');
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cd.length, 12);
  eocd.writeUInt32LE(opts.zip64 ? 0xffffffff : cdOffset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  push(Buffer.concat([eocd, comment]));
  return Buffer.concat(parts);
}

function extra64(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}

function zipError(archive: string, entry: string | undefined, ...fragments: (string | RegExp)[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ZipError, `expected a ZipError, got ${String(e)}`);
    assert.equal(e.archive, archive);
    assert.equal(e.entry, entry);
    assert.ok(e.message.includes(archive), `message names the archive: ${e.message}`);
    if (entry) assert.ok(e.message.includes(entry.replace(/\0/g, '\\0')), `message names the entry: ${e.message}`);
    for (const f of fragments) {
      if (typeof f === 'string') assert.ok(e.message.includes(f), `"${f}" in: ${e.message}`);
      else assert.match(e.message, f);
    }
    return true;
  };
}

const config = Buffer.from(JSON.stringify({ class_name: 'Functional', config: { name: 'm', layers: [] } }));
const weights = payload(300_000, 7);

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
