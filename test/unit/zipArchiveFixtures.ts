// Shared by the zipArchive.*.test.ts files: archives written by Python's zipfile where python3
// is there, and by a small writer here for what Python only does on huge files or never does.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { crc32, ZipError } from '../../src/engine/keras/zipArchive';

export const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-zip-'));
/** Each test file calls this once: the archives it wrote are removed after its tests. */
export function removeDirAfterTests(): void {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
}
let fileNo = 0;
export function save(bytes: Uint8Array, name = `a${fileNo++}.zip`): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

export const python = spawnSync('python3', ['-c', 'import zipfile'], { encoding: 'utf8' }).status === 0 ? 'python3' : undefined;
export const noPython = python ? false : 'python3 is not installed';

export function py(code: string, ...args: string[]): string {
  const r = spawnSync(python!, ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Deterministic bytes that deflate well but not trivially. */
export function payload(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = i % 7 === 0 ? x >>> 24 : 0x41 + (i % 13);
  }
  return b;
}

export interface WriteEntry {
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
export function writeZip(entries: WriteEntry[], opts: { zip64?: boolean; prefix?: Buffer; comment?: string } = {}): Buffer {
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

export function extra64(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}

export function zipError(archive: string, entry: string | undefined, ...fragments: (string | RegExp)[]) {
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

export const config = Buffer.from(JSON.stringify({ class_name: 'Functional', config: { name: 'm', layers: [] } }));
export const weights = payload(300_000, 7);
