// Checks done before the HDF5 library sees a file, so the common cases get plain messages:
// not HDF5 at all (and what it looks like instead), or cut short (the superblock's
// end-of-file address is past the real size: an interrupted download or copy).
import * as fs from 'node:fs';
import { Hdf5Error, corrupt, fsReason, truncated } from './hdf5Errors';

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89HDF\r\n\x1a\n

export type ReadRange = (pos: number, len: number) => Uint8Array;

export function checkFileOnDisk(file: string): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new Hdf5Error(file, `${file} cannot be read: ${fsReason(e)}`, { cause: e });
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new Hdf5Error(file, `${file} is a folder; a Keras .h5 or .weights.h5 file is expected`);
    checkHeader(file, st.size, (pos, len) => {
      const buf = Buffer.alloc(len);
      const n = fs.readSync(fd, buf, 0, len, pos);
      return buf.subarray(0, n);
    });
  } catch (e) {
    if (e instanceof Hdf5Error) throw e;
    throw new Hdf5Error(file, `${file} cannot be read: ${fsReason(e)}`, { cause: e });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Finds the superblock (HDF5 looks at 0, 512, 1024, 2048, … because of user blocks) and
 * compares the end-of-file address it records with the real size: the usual sign of an
 * interrupted download or copy.
 */
export function checkHeader(name: string, size: number, read: ReadRange): void {
  const start = read(0, Math.min(size, 16));
  for (let pos = 0; pos < size; pos = pos === 0 ? 512 : pos * 2) {
    const sig = pos === 0 ? start.subarray(0, SIGNATURE.length) : read(pos, SIGNATURE.length);
    if (sig.length < SIGNATURE.length) {
      if (pos === 0 && sig.every((b, i) => b === SIGNATURE[i])) throw truncated(name, `it has only ${size} bytes`);
      continue;
    }
    if (!SIGNATURE.every((b, i) => sig[i] === b)) continue;
    checkSuperblock(name, size, read(pos, 128));
    return;
  }
  throw new Hdf5Error(name, `${name} is not an HDF5 file (${describeStart(start, size)}); a Keras .h5 or .weights.h5 is expected`);
}

/** The superblock at a signature: its base and end-of-file addresses must fit in `size`. */
function checkSuperblock(name: string, size: number, head: Uint8Array): void {
  if (head.length < 16) throw truncated(name, `it has only ${size} bytes`);
  const version = head[8];
  let offsetSize: number;
  let baseAt: number;
  if (version === 0 || version === 1) {
    offsetSize = head[13];
    baseAt = version === 0 ? 24 : 28;
  } else if (version === 2 || version === 3) {
    offsetSize = head[9];
    baseAt = 12;
  } else {
    throw corrupt(name, `its HDF5 superblock has an unknown version (${version})`);
  }
  if (![2, 4, 8].includes(offsetSize)) throw corrupt(name, 'its HDF5 superblock is damaged');
  const eofAt = baseAt + 2 * offsetSize;
  if (head.length < eofAt + offsetSize) throw truncated(name, `it has only ${size} bytes`);
  const base = readAddress(head, baseAt, offsetSize);
  const eof = readAddress(head, eofAt, offsetSize);
  if (base !== undefined && eof !== undefined && base + eof > size) {
    throw truncated(name, `it has ${size} bytes where its HDF5 header says ${base + eof}`);
  }
}

/** An unsigned little-endian address; undefined for HDF5's "undefined address" (all ones). */
function readAddress(bytes: Uint8Array, at: number, size: number): number | undefined {
  let value = 0;
  let allOnes = true;
  for (let i = size - 1; i >= 0; i--) {
    const b = bytes[at + i];
    if (b !== 0xff) allOnes = false;
    value = value * 256 + b;
  }
  return allOnes ? undefined : value;
}

function describeStart(start: Uint8Array, size: number): string {
  if (size === 0) return 'it is empty';
  const b = Buffer.from(start);
  let shown = '';
  for (const c of b.subarray(0, 8)) {
    shown += c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  let hint = '';
  if (b[0] === 0x50 && b[1] === 0x4b) hint = ', like a zip archive such as a Keras 3 .keras file';
  else if (/^\s*[{[]/.test(b.toString('latin1'))) hint = ', like JSON text';
  else if (b.subarray(0, 8).every((c) => c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c < 0x7f))) hint = ', like text';
  return `it starts with "${shown}"${hint}`;
}
