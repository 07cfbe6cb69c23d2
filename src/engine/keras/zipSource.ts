// Where an archive's bytes come from: a file read by range (never whole), or bytes in memory
// (read() returns views, no copy).
import * as fs from 'node:fs';
import { Readable } from 'node:stream';

export interface Source {
  readonly size: number;
  /** Up to len bytes at pos (fewer at the end of the source). */
  read(pos: number, len: number): Buffer;
  stream(start: number, length: number): Readable;
  close(): void;
}

export class FileSource implements Source {
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

export class BytesSource implements Source {
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
