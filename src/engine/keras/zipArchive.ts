// Reads zip archives: a Keras 3 `.keras` file is one (config.json, metadata.json,
// model.weights.h5), written by Python's zipfile: ZIP_STORED by default, zip64 records for
// large members, UTF-8 names flagged. Node's zlib only (deflate), no dependency.
//
// From a path, only the end records and the central directory are read at open; each
// entry is then read by offset (one fs read of its range), so a 1 GB archive is never in
// memory twice, and extractTo() streams an entry to a file without holding it at all.
//
// Refused, each with a ZipError naming the archive and the entry: encrypted entries and
// methods other than stored/deflate (at read), names that could leave a folder ("..",
// absolute, drive letters, NUL) and duplicate names (at open: such a file was not written by
// Keras), entries over the size cap or data inflating past its declared size (zip bombs;
// overlapping entries are refused at open too), CRC-32 mismatches, truncated archives.
import { constants as bufferConstants } from 'node:buffer';
import * as fs from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  /** As stored (UTF-8 when flagged, else CP437), '/'-separated; folders end with '/'. */
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  /** 'stored' | 'deflate' (readable), or another method's name ('bzip2', 'lzma', 'zstd', …). */
  method: string;
  methodCode: number;
  crc32: number;
  encrypted: boolean;
}

export interface ZipLimits {
  /** An entry larger than this (uncompressed) is refused. Default 4 GiB. */
  maxEntryBytes?: number;
  /** An archive with more entries is refused at open. Default 65,536. */
  maxEntries?: number;
}

export const DEFAULT_ZIP_LIMITS: Required<ZipLimits> = { maxEntryBytes: 4 * 2 ** 30, maxEntries: 65536 };

/** A zip archive that cannot be read: which archive, which entry, what is wrong, what to do. */
export class ZipError extends Error {
  constructor(
    readonly archive: string,
    readonly entry: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ZipError';
  }
}

interface Source {
  readonly size: number;
  /** Up to len bytes at pos (fewer at the end of the source). */
  read(pos: number, len: number): Buffer;
  stream(start: number, length: number): Readable;
  close(): void;
}

class FileSource implements Source {
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  read(pos: number, len: number): Buffer {
    const buf = Buffer.allocUnsafe(Math.max(0, Math.min(len, this.size - pos)));
    let done = 0;
    while (done < buf.length) {
      const n = fs.readSync(this.fd, buf, done, buf.length - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    return done < buf.length ? buf.subarray(0, done) : buf;
  }

  stream(start: number, length: number): Readable {
    if (length === 0) return Readable.from([]);
    return fs.createReadStream('', { fd: this.fd, start, end: start + length - 1, autoClose: false, highWaterMark: 1 << 20 });
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

class BytesSource implements Source {
  readonly size: number;
  constructor(private readonly bytes: Uint8Array) {
    this.size = bytes.byteLength;
  }

  read(pos: number, len: number): Buffer {
    const end = Math.min(this.size, pos + len);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + pos, Math.max(0, end - pos));
  }

  stream(start: number, length: number): Readable {
    return Readable.from(length === 0 ? [] : [this.read(start, length)]);
  }

  close(): void {}
}

interface EntryRecord extends ZipEntry {
  localOffset: number;
  rawName: Buffer;
  /** Where the next entry (or the central directory) starts: this entry's data must end before. */
  bound: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;

const METHOD_NAMES: Record<number, string> = {
  0: 'stored',
  8: 'deflate',
  9: 'deflate64',
  12: 'bzip2',
  14: 'lzma',
  93: 'zstd',
  95: 'xz',
  98: 'ppmd',
  99: 'AES encryption',
};

export class ZipArchive {
  private readonly entries: Map<string, EntryRecord>;
  private closed = false;

  private constructor(
    readonly archive: string,
    private readonly source: Source,
    private readonly limits: Required<ZipLimits>,
  ) {
    try {
      this.entries = readCentralDirectory(archive, source, limits);
    } catch (e) {
      source.close();
      throw e;
    }
  }

  /** Opens an archive on disk; reads only its end records and central directory. */
  static open(file: string, limits: ZipLimits = {}): ZipArchive {
    let fd: number;
    let size: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new ZipError(file, undefined, `${file} cannot be read: ${fsReason(e)}`, { cause: e });
    }
    try {
      const st = fs.fstatSync(fd);
      if (st.isDirectory()) throw new ZipError(file, undefined, `${file} is a folder, not a zip archive`);
      size = st.size;
    } catch (e) {
      fs.closeSync(fd);
      if (e instanceof ZipError) throw e;
      throw new ZipError(file, undefined, `${file} cannot be read: ${fsReason(e)}`, { cause: e });
    }
    return new ZipArchive(file, new FileSource(fd, size), { ...DEFAULT_ZIP_LIMITS, ...limits });
  }

  /** An archive in memory; read() returns views into these bytes (no copy) for stored entries. */
  static fromBytes(bytes: Uint8Array, name: string, limits: ZipLimits = {}): ZipArchive {
    return new ZipArchive(name, new BytesSource(bytes), { ...DEFAULT_ZIP_LIMITS, ...limits });
  }

  listEntries(): ZipEntry[] {
    return [...this.entries.values()].map(({ name, compressedSize, uncompressedSize, method, methodCode, crc32, encrypted }) => ({
      name,
      compressedSize,
      uncompressedSize,
      method,
      methodCode,
      crc32,
      encrypted,
    }));
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** An entry's bytes, inflated and CRC-checked. */
  read(name: string): Uint8Array {
    const e = this.readable(name);
    if (e.uncompressedSize > bufferConstants.MAX_LENGTH) {
      throw new ZipError(
        this.archive,
        name,
        `${this.archive}: entry ${name} is ${e.uncompressedSize} bytes, more than one buffer can hold here; extract it to a file instead`,
      );
    }
    const start = this.dataStart(e);
    const compressed = this.source.read(start, e.compressedSize);
    if (compressed.length < e.compressedSize) throw this.truncated(name, `entry ${name} is cut short`);
    let data: Uint8Array;
    if (e.methodCode === 0) {
      data = compressed;
    } else {
      try {
        data = zlib.inflateRawSync(compressed, { maxOutputLength: Math.max(1, e.uncompressedSize) });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw this.bomb(name, e.uncompressedSize, err);
        throw this.truncated(name, `the compressed data of entry ${name} is damaged`, err);
      }
      if (data.length !== e.uncompressedSize) {
        throw this.truncated(name, `entry ${name} inflates to ${data.length} bytes where its header says ${e.uncompressedSize}`);
      }
    }
    if (crc32(data, 0) !== e.crc32) throw this.truncated(name, `entry ${name} fails its CRC-32 check`);
    return data;
  }

  /**
   * Streams an entry into a new file (mode 0600), inflated and CRC-checked on the way, never
   * holding it in memory; on any failure the file is removed.
   */
  async extractTo(name: string, destFile: string): Promise<void> {
    const e = this.readable(name);
    const start = this.dataStart(e);
    if (start + e.compressedSize > this.source.size) throw this.truncated(name, `entry ${name} is cut short`);
    let written = 0;
    let crc = 0;
    const archive = this.archive;
    const check = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        written += chunk.length;
        if (written > e.uncompressedSize) {
          done(new ZipError(archive, name, bombMessage(archive, name, e.uncompressedSize)));
          return;
        }
        crc = crc32(chunk, crc);
        done(null, chunk);
      },
    });
    try {
      const input = this.source.stream(start, e.compressedSize);
      const output = fs.createWriteStream(destFile, { mode: 0o600, flags: 'wx' });
      if (e.methodCode === 8) await pipeline(input, zlib.createInflateRaw(), check, output);
      else await pipeline(input, check, output);
      if (written !== e.uncompressedSize) throw this.truncated(name, `entry ${name} holds ${written} bytes where its header says ${e.uncompressedSize}`);
      if (crc !== e.crc32) throw this.truncated(name, `entry ${name} fails its CRC-32 check`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fs.rmSync(destFile, { force: true });
      if (err instanceof ZipError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code.startsWith('Z_') || code.startsWith('ERR_ZLIB')) throw this.truncated(name, `the compressed data of entry ${name} is damaged`, err);
      throw new ZipError(this.archive, name, `${this.archive}: extracting entry ${name} to ${destFile} failed: ${fsReason(err)}`, { cause: err });
    }
  }

  /** Closes the file (archives on disk). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.source.close();
  }

  private readable(name: string): EntryRecord {
    if (this.closed) throw new ZipError(this.archive, name, `${this.archive} was already closed (reading entry ${name})`);
    const e = this.entries.get(name);
    if (!e) throw new ZipError(this.archive, name, `${this.archive} has no entry named ${name}`);
    if (e.encrypted) {
      throw new ZipError(
        this.archive,
        name,
        `${this.archive}: entry ${name} is encrypted, and Transfer Lab cannot read password-protected archives; save the model again without a password`,
      );
    }
    if (e.methodCode !== 0 && e.methodCode !== 8) {
      throw new ZipError(
        this.archive,
        name,
        `${this.archive}: entry ${name} is compressed with ${e.method} (method ${e.methodCode}), which Transfer Lab cannot read; save the archive again uncompressed or with deflate (as Keras's model.save() does)`,
      );
    }
    if (e.uncompressedSize > this.limits.maxEntryBytes) {
      throw new ZipError(
        this.archive,
        name,
        `${this.archive}: entry ${name} would be ${e.uncompressedSize} bytes uncompressed, over the limit of ${this.limits.maxEntryBytes}; refusing it`,
      );
    }
    if (e.methodCode === 0 && e.compressedSize !== e.uncompressedSize) {
      throw this.truncated(name, `stored entry ${name} has ${e.compressedSize} bytes where its header says ${e.uncompressedSize}`);
    }
    return e;
  }

  /** Checks the entry's local header and returns where its data starts. */
  private dataStart(e: EntryRecord): number {
    const head = this.source.read(e.localOffset, LOCAL_SIZE);
    if (head.length < LOCAL_SIZE) throw this.truncated(e.name, `entry ${e.name} is cut short`);
    if (head.readUInt32LE(0) !== SIG_LOCAL) throw this.truncated(e.name, `the local header of entry ${e.name} is missing`);
    const nameLen = head.readUInt16LE(26);
    const extraLen = head.readUInt16LE(28);
    const localName = this.source.read(e.localOffset + LOCAL_SIZE, nameLen);
    if (!localName.equals(e.rawName)) throw this.truncated(e.name, `entry ${e.name} is named differently in its local header`);
    const start = e.localOffset + LOCAL_SIZE + nameLen + extraLen;
    if (start + e.compressedSize > e.bound) {
      if (start + e.compressedSize > this.source.size) throw this.truncated(e.name, `entry ${e.name} is cut short`);
      throw this.truncated(e.name, `entry ${e.name} overlaps the next one`);
    }
    return start;
  }

  private truncated(entry: string | undefined, detail: string, cause?: unknown): ZipError {
    return truncatedError(this.archive, entry, detail, cause);
  }

  private bomb(entry: string, declared: number, cause?: unknown): ZipError {
    return new ZipError(this.archive, entry, bombMessage(this.archive, entry, declared), { cause });
  }
}

function bombMessage(archive: string, entry: string, declared: number): string {
  return `${archive}: entry ${entry} inflates to more than the ${declared} bytes its header declares; the archive is corrupt or built to exhaust memory, refusing it`;
}

function truncatedError(archive: string, entry: string | undefined, detail: string, cause?: unknown): ZipError {
  return new ZipError(archive, entry, `${archive} is truncated or corrupt (${detail}); save or download it again`, cause === undefined ? undefined : { cause });
}

function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  if (code === 'EEXIST') return 'the file already exists';
  if (code === 'ENOSPC') return 'the disk is full';
  return (e as Error)?.message ?? String(e);
}

function describeStart(start: Buffer, size: number): string {
  if (size === 0) return 'it is empty';
  let shown = '';
  for (const c of start.subarray(0, 8)) {
    shown += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  const hint = start.subarray(1, 4).toString('latin1') === 'HDF' ? ', like an HDF5 file such as a Keras .h5' : '';
  return `it starts with "${shown}"${hint}`;
}

// ---------------------------------------------------------------------------------------

function readCentralDirectory(archive: string, src: Source, limits: Required<ZipLimits>): Map<string, EntryRecord> {
  const start = src.read(0, 8);
  const looksZip = start.length >= 2 && start[0] === 0x50 && start[1] === 0x4b;
  const notZip = () => new ZipError(archive, undefined, `${archive} is not a zip archive (${describeStart(start, src.size)}), so not a Keras 3 .keras file`);
  const truncated = (detail: string) => truncatedError(archive, undefined, detail);

  // End of central directory record: the last 22 bytes, or earlier by a comment (≤ 65,535).
  const tailLen = Math.min(src.size, EOCD_SIZE + 0xffff);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    if (looksZip) throw truncated('its end-of-archive record is missing');
    throw notZip();
  }
  const eocdPos = tailStart + eocd;
  let disk = tail.readUInt16LE(eocd + 4);
  let cdDisk = tail.readUInt16LE(eocd + 6);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  let cdEnd = eocdPos;

  // Zip64: a locator just before the end record points at the zip64 end record.
  if (eocdPos >= 20) {
    const loc = src.read(eocdPos - 20, 20);
    if (loc.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
      const z64Pos = readU64(loc, 8, archive);
      const z64 = src.read(z64Pos, 56);
      if (z64.length < 56 || z64.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw truncated('its zip64 end record is missing');
      disk = z64.readUInt32LE(16);
      cdDisk = z64.readUInt32LE(20);
      count = readU64(z64, 32, archive);
      cdSize = readU64(z64, 40, archive);
      cdOffset = readU64(z64, 48, archive);
      cdEnd = z64Pos;
    } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      throw truncated('its zip64 end record is missing');
    }
  }
  if ((disk !== 0 && disk !== 0xffff) || (cdDisk !== 0 && cdDisk !== 0xffff)) {
    throw new ZipError(
      archive,
      undefined,
      `${archive} is one part of a multi-part (split) zip, which Transfer Lab cannot read; join the parts into one archive`,
    );
  }
  if (count > limits.maxEntries) {
    throw new ZipError(archive, undefined, `${archive} has ${count} entries, more than the ${limits.maxEntries} allowed; refusing it`);
  }
  // Bytes before the archive proper (a self-extractor stub) shift every offset (as zipfile does).
  const shift = cdEnd - cdSize - cdOffset;
  if (cdEnd < cdSize || shift < 0) throw truncated('its central directory lies outside the file');
  const cdStart = cdOffset + shift;
  const cd = src.read(cdStart, cdSize);
  if (cd.length < cdSize) throw truncated('its central directory is cut short');

  const records: EntryRecord[] = [];
  const byName = new Map<string, EntryRecord>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + CENTRAL_SIZE > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw truncated(`its central directory is damaged at entry ${i + 1} of ${count}`);
    const flags = cd.readUInt16LE(p + 8);
    const methodCode = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let compressedSize = cd.readUInt32LE(p + 20);
    let uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const diskStart = cd.readUInt16LE(p + 34);
    let localOffset = cd.readUInt32LE(p + 42);
    const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
    if (end > cd.length) throw truncated(`its central directory is damaged at entry ${i + 1} of ${count}`);
    const rawName = Buffer.from(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));
    const name = flags & 0x800 ? rawName.toString('utf8') : decodeCp437(rawName);
    const extra = cd.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen);
    if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff || diskStart === 0xffff) {
      const z = findExtra(extra, 0x0001);
      if (!z) throw truncatedError(archive, name, `entry ${name} lacks its zip64 sizes`);
      let q = 0;
      const next = (): number => {
        if (q + 8 > z.length) throw truncatedError(archive, name, `entry ${name} has a damaged zip64 record`);
        const v = readU64(z, q, archive);
        q += 8;
        return v;
      };
      if (uncompressedSize === 0xffffffff) uncompressedSize = next();
      if (compressedSize === 0xffffffff) compressedSize = next();
      if (localOffset === 0xffffffff) localOffset = next();
    }
    const unsafe = unsafeNameReason(name);
    if (unsafe) {
      throw new ZipError(
        archive,
        name,
        `${archive} has an entry named "${name.replace(/\0/g, '\\0')}", ${unsafe}; Keras does not write such names, so the file is refused`,
      );
    }
    if (byName.has(name)) {
      throw new ZipError(archive, name, `${archive} has two entries named ${name}; Keras does not write such archives, so the file is refused`);
    }
    const rec: EntryRecord = {
      name,
      compressedSize,
      uncompressedSize,
      method: METHOD_NAMES[methodCode] ?? `method ${methodCode}`,
      methodCode,
      crc32: crc,
      encrypted: (flags & 0x1) !== 0 || methodCode === 99,
      localOffset: localOffset + shift,
      rawName,
      bound: cdStart,
    };
    records.push(rec);
    byName.set(name, rec);
    p = end;
  }

  // Each entry's data must end before the next entry begins: overlapping entries are how
  // the worst zip bombs multiply one compressed block into many entries.
  const sorted = [...records].sort((a, b) => a.localOffset - b.localOffset);
  for (let i = 0; i < sorted.length; i++) {
    const rec = sorted[i];
    rec.bound = i + 1 < sorted.length ? sorted[i + 1].localOffset : cdStart;
    if (rec.localOffset + LOCAL_SIZE + rec.rawName.length + rec.compressedSize > rec.bound) {
      if (rec.bound === cdStart) throw truncatedError(archive, rec.name, `entry ${rec.name} runs into the central directory`);
      throw new ZipError(
        archive,
        rec.name,
        `${archive}: entry ${rec.name} overlaps another entry; the archive is corrupt or built to exhaust memory, refusing it`,
      );
    }
  }
  return byName;
}

function readU64(buf: Buffer, at: number, archive: string): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw truncatedError(archive, undefined, 'it records an impossible size or offset');
  return Number(v);
}

function findExtra(extra: Buffer, id: number): Buffer | undefined {
  let p = 0;
  while (p + 4 <= extra.length) {
    const tag = extra.readUInt16LE(p);
    const len = extra.readUInt16LE(p + 2);
    if (tag === id) return extra.subarray(p + 4, Math.min(extra.length, p + 4 + len));
    p += 4 + len;
  }
  return undefined;
}

/** Why a name could write outside a target folder if extracted, or undefined when it is safe. */
function unsafeNameReason(name: string): string | undefined {
  if (name.includes('\0')) return 'which holds a NUL character';
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[a-zA-Z]:/.test(n)) return 'an absolute path';
  if (n.split('/').includes('..')) return 'which climbs out of its folder with ".."';
  return undefined;
}

// CP437, the zip default for names without the UTF-8 flag (bytes 0x80-0xff).
const CP437_HIGH = 'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0';

function decodeCp437(bytes: Buffer): string {
  let s = '';
  for (const b of bytes) s += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80];
  return s;
}

// ---------------------------------------------------------------------------------------
// CRC-32 (zlib's own from Node 20.15 / 22.2; a table for older Nodes).

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
let crcTable: Int32Array | undefined;

/** CRC-32 of data continuing from `prev` (0 to start). */
export function crc32(data: Uint8Array, prev: number): number {
  return nativeCrc32 ? nativeCrc32(data, prev) : crc32Portable(data, prev);
}

/** The same CRC-32 in plain JS (exported for its test). */
export function crc32Portable(data: Uint8Array, prev: number): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = ~prev;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
