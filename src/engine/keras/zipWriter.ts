// A plain zip archive (stored entries, no compression: weights do not compress, and Keras
// reads stored entries as it reads its own deflated ones), as a .keras file needs. No
// Zip64: a member or archive of 4 GiB or more is refused with what to do.
import * as fs from 'node:fs/promises';
import { crc32 } from './zipCrc32';

export interface ZipMember {
  name: string;
  data: Uint8Array;
}

const LIMIT = 0xffffffff;

/** MS-DOS time and date of `d` (what zip headers hold). */
function dosDateTime(d: Date): { time: number; date: number } {
  const time = (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1);
  const date = ((Math.max(d.getFullYear(), 1980) - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate();
  return { time, date };
}

/** The fields local and central headers share, from "version needed" to the name length. */
function commonFields(m: ZipMember, crc: number, when: { time: number; date: number }): Buffer {
  const b = Buffer.alloc(26);
  b.writeUInt16LE(20, 0); // version needed: 2.0
  b.writeUInt16LE(0x0800, 2); // names are UTF-8
  b.writeUInt16LE(0, 4); // stored
  b.writeUInt16LE(when.time, 6);
  b.writeUInt16LE(when.date, 8);
  b.writeUInt32LE(crc, 10);
  b.writeUInt32LE(m.data.byteLength, 14);
  b.writeUInt32LE(m.data.byteLength, 18);
  b.writeUInt16LE(Buffer.byteLength(m.name), 22);
  b.writeUInt16LE(0, 24); // no extra field
  return b;
}

/** Writes `members` to `file` as one zip archive. */
export async function writeZip(file: string, members: ZipMember[], now = new Date()): Promise<void> {
  const when = dosDateTime(now);
  const parts: Uint8Array[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    if (m.data.byteLength >= LIMIT) throw new Error(`${file}: ${m.name} is 4 GiB or more, which this zip writer does not support (no Zip64)`);
    const name = Buffer.from(m.name, 'utf8');
    const fields = commonFields(m, crc32(m.data, 0), when);
    const local = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), fields, name]);
    central.push(centralEntry(fields, offset, name));
    parts.push(local, m.data);
    offset += local.byteLength + m.data.byteLength;
    if (offset >= LIMIT) throw new Error(`${file}: the archive would be 4 GiB or more, which this zip writer does not support (no Zip64)`);
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(directory.byteLength, 12);
  end.writeUInt32LE(offset, 16);
  const handle = await fs.open(file, 'w');
  try {
    for (const p of [...parts, directory, end]) await handle.write(p);
  } finally {
    await handle.close();
  }
}

/** A central directory entry: signature, made-by, the shared fields, comment/disk/attributes, the local header's offset, the name. */
function centralEntry(fields: Buffer, offset: number, name: Buffer): Buffer {
  const b = Buffer.alloc(46);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(20, 4);
  fields.copy(b, 6);
  // 32: comment length, 34: disk, 36: internal attributes, 38: external attributes (all 0)
  b.writeUInt32LE(offset, 42);
  return Buffer.concat([b, name]);
}
