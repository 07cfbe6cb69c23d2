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
//
// The parts: zipCentralDirectory.ts (the index, checked at open), zipSource.ts (file or
// bytes), zipCrc32.ts, zipErrors.ts. This file reads, inflates and extracts entries.
import { constants as bufferConstants } from 'node:buffer';
import * as fs from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { DEFAULT_ZIP_LIMITS, LOCAL_SIZE, SIG_LOCAL, readCentralDirectory, type EntryRecord, type ZipEntry, type ZipLimits } from './zipCentralDirectory';
import { crc32 } from './zipCrc32';
import { ZipError, bombMessage, fsReason, truncatedError } from './zipErrors';
import { BytesSource, FileSource, type Source } from './zipSource';

export { DEFAULT_ZIP_LIMITS, type ZipEntry, type ZipLimits } from './zipCentralDirectory';
export { crc32, crc32Portable } from './zipCrc32';
export { ZipError } from './zipErrors';

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
