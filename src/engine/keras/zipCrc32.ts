// CRC-32 (zlib's own from Node 20.15 / 22.2; a table for older Nodes).
import * as zlib from 'node:zlib';

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
