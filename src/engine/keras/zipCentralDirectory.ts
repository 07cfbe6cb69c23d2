// The index of a zip archive: the end-of-central-directory record (zip64 when sizes or
// counts overflow), then one central directory record per entry. Everything a reader needs
// to trust later is checked here, at open: safe and unique names, sizes within the file,
// no entry overlapping another (the worst zip bombs share one compressed block).
import { ZipError, truncatedError } from './zipErrors';
import type { Source } from './zipSource';

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

export interface EntryRecord extends ZipEntry {
  localOffset: number;
  rawName: Buffer;
  /** Where the next entry (or the central directory) starts: this entry's data must end before. */
  bound: number;
}

export const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
export const LOCAL_SIZE = 30;

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

/** What the end records say: where the central directory is and how many entries it lists. */
interface DirectoryLocation {
  count: number;
  cdSize: number;
  cdOffset: number;
  /** Where the central directory must end: the end record, or the zip64 end record. */
  cdEnd: number;
}

/** The entries by name, in central directory order; throws a ZipError for anything refused. */
export function readCentralDirectory(archive: string, src: Source, limits: Required<ZipLimits>): Map<string, EntryRecord> {
  const { count, cdSize, cdOffset, cdEnd } = readEndRecords(archive, src);
  if (count > limits.maxEntries) {
    throw new ZipError(archive, undefined, `${archive} has ${count} entries, more than the ${limits.maxEntries} allowed; refusing it`);
  }
  // Bytes before the archive proper (a self-extractor stub) shift every offset (as zipfile does).
  const shift = cdEnd - cdSize - cdOffset;
  if (cdEnd < cdSize || shift < 0) throw truncatedError(archive, undefined, 'its central directory lies outside the file');
  const cdStart = cdOffset + shift;
  const cd = src.read(cdStart, cdSize);
  if (cd.length < cdSize) throw truncatedError(archive, undefined, 'its central directory is cut short');
  const byName = new Map<string, EntryRecord>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    const { rec, end } = readCentralRecord({ archive, cd, count, shift, cdStart }, p, i);
    if (byName.has(rec.name)) {
      throw new ZipError(archive, rec.name, `${archive} has two entries named ${rec.name}; Keras does not write such archives, so the file is refused`);
    }
    byName.set(rec.name, rec);
    p = end;
  }
  boundEntries(archive, [...byName.values()], cdStart);
  return byName;
}

/** The end of central directory record (the last 22 bytes, or earlier by a comment ≤ 65,535), and its zip64 form. */
function readEndRecords(archive: string, src: Source): DirectoryLocation {
  const start = src.read(0, 8);
  const looksZip = start.length >= 2 && start[0] === 0x50 && start[1] === 0x4b;
  const truncated = (detail: string) => truncatedError(archive, undefined, detail);
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
    throw new ZipError(archive, undefined, `${archive} is not a zip archive (${describeStart(start, src.size)}), so not a Keras 3 .keras file`);
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
  return { count, cdSize, cdOffset, cdEnd };
}

interface Directory {
  archive: string;
  cd: Buffer;
  count: number;
  /** Added to every recorded offset (see readCentralDirectory). */
  shift: number;
  cdStart: number;
}

/** Entry i's central directory record at p, and where the next one starts. */
function readCentralRecord({ archive, cd, count, shift, cdStart }: Directory, p: number, i: number): { rec: EntryRecord; end: number } {
  const damaged = () => truncatedError(archive, undefined, `its central directory is damaged at entry ${i + 1} of ${count}`);
  if (p + CENTRAL_SIZE > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw damaged();
  const flags = cd.readUInt16LE(p + 8);
  const methodCode = cd.readUInt16LE(p + 10);
  const crc = cd.readUInt32LE(p + 16);
  const nameLen = cd.readUInt16LE(p + 28);
  const extraLen = cd.readUInt16LE(p + 30);
  const commentLen = cd.readUInt16LE(p + 32);
  const end = p + CENTRAL_SIZE + nameLen + extraLen + commentLen;
  if (end > cd.length) throw damaged();
  const rawName = Buffer.from(cd.subarray(p + CENTRAL_SIZE, p + CENTRAL_SIZE + nameLen));
  const name = flags & 0x800 ? rawName.toString('utf8') : decodeCp437(rawName);
  const extra = cd.subarray(p + CENTRAL_SIZE + nameLen, p + CENTRAL_SIZE + nameLen + extraLen);
  const { compressedSize, uncompressedSize, localOffset } = zip64Sizes(archive, name, extra, {
    compressedSize: cd.readUInt32LE(p + 20),
    uncompressedSize: cd.readUInt32LE(p + 24),
    localOffset: cd.readUInt32LE(p + 42),
    diskStart: cd.readUInt16LE(p + 34),
  });
  const unsafe = unsafeNameReason(name);
  if (unsafe) {
    throw new ZipError(
      archive,
      name,
      `${archive} has an entry named "${name.replace(/\0/g, '\\0')}", ${unsafe}; Keras does not write such names, so the file is refused`,
    );
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
  return { rec, end };
}

interface RecordedSizes {
  compressedSize: number;
  uncompressedSize: number;
  localOffset: number;
  diskStart: number;
}

/** The sizes and offset, taken from the zip64 extra field where the record says 0xffffffff. */
function zip64Sizes(archive: string, name: string, extra: Buffer, recorded: RecordedSizes): Omit<RecordedSizes, 'diskStart'> {
  let { uncompressedSize, compressedSize, localOffset } = recorded;
  if (uncompressedSize === 0xffffffff || compressedSize === 0xffffffff || localOffset === 0xffffffff || recorded.diskStart === 0xffff) {
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
  return { compressedSize, uncompressedSize, localOffset };
}

/**
 * Each entry's data must end before the next entry begins: overlapping entries are how
 * the worst zip bombs multiply one compressed block into many entries.
 */
function boundEntries(archive: string, records: EntryRecord[], cdStart: number): void {
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
