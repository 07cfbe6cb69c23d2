// HDF5 element types as JS values: the dtype names the reader reports, and conversion of
// little-endian elements on the wasm heap (h5wasm reads in little-endian) to float32 arrays
// (datasets) or full-precision numbers (attributes). float16 is converted here: h5wasm's
// high-level API has none.
import type { H5Metadata, H5Module } from './h5wasmModule';

export function classOf(m: H5Module, name: string): number {
  return m.H5T_class_t[name].value;
}

export function isBoolEnum(meta: H5Metadata): boolean {
  const members = meta.enum_type?.members;
  return !!members && Object.keys(members).length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

/** The other type classes: one dtype name each, whatever their size or sign. */
const CLASS_DTYPES: [string, string][] = [
  ['H5T_COMPOUND', 'compound'],
  ['H5T_ARRAY', 'array'],
  ['H5T_VLEN', 'vlen'],
  ['H5T_REFERENCE', 'reference'],
  ['H5T_OPAQUE', 'opaque'],
  ['H5T_BITFIELD', 'bitfield'],
];

export function dtypeName(m: H5Module, meta: H5Metadata): string {
  if (meta.type === classOf(m, 'H5T_INTEGER')) return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
  if (meta.type === classOf(m, 'H5T_FLOAT')) return `float${meta.size * 8}`;
  if (meta.type === classOf(m, 'H5T_STRING')) return 'string';
  if (meta.type === classOf(m, 'H5T_ENUM')) return isBoolEnum(meta) ? 'bool' : 'enum';
  return CLASS_DTYPES.find(([cls]) => meta.type === classOf(m, cls))?.[1] ?? 'unknown';
}

type Converter = (heap: ArrayBuffer, ptr: number, n: number, out: Float32Array, at: number) => void;

/** Converts n little-endian elements at ptr (h5wasm reads in little-endian) into out[at…]. */
export function numberConverter(m: H5Module, meta: H5Metadata): Converter | undefined {
  const { size } = meta;
  let { type, signed } = meta;
  if (type === classOf(m, 'H5T_ENUM') && meta.enum_type?.type === classOf(m, 'H5T_INTEGER')) {
    type = classOf(m, 'H5T_INTEGER');
    signed = isBoolEnum(meta) ? false : signed;
  }
  if (type === classOf(m, 'H5T_FLOAT')) {
    if (size === 4) return (h, p, n, out, at) => out.set(new Float32Array(h, p, n), at);
    if (size === 8) return (h, p, n, out, at) => out.set(new Float64Array(h, p, n), at);
    if (size === 2) {
      return (h, p, n, out, at) => {
        const table = halfTable();
        const src = new Uint16Array(h, p, n);
        for (let i = 0; i < n; i++) out[at + i] = table[src[i]];
      };
    }
    return undefined;
  }
  if (type === classOf(m, 'H5T_INTEGER')) {
    const view = integerView(size, signed);
    if (!view) return undefined;
    if (size === 8) {
      return (h, p, n, out, at) => {
        const src = new view(h, p, n) as BigInt64Array | BigUint64Array;
        for (let i = 0; i < n; i++) out[at + i] = Number(src[i]);
      };
    }
    return (h, p, n, out, at) => out.set(new view(h, p, n) as Int32Array, at);
  }
  return undefined;
}

type IntView =
  | Int8ArrayConstructor
  | Uint8ArrayConstructor
  | Int16ArrayConstructor
  | Uint16ArrayConstructor
  | Int32ArrayConstructor
  | Uint32ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

function integerView(size: number, signed: boolean): IntView | undefined {
  switch (size) {
    case 1:
      return signed ? Int8Array : Uint8Array;
    case 2:
      return signed ? Int16Array : Uint16Array;
    case 4:
      return signed ? Int32Array : Uint32Array;
    case 8:
      return signed ? BigInt64Array : BigUint64Array;
    default:
      return undefined;
  }
}

let halfCache: Float32Array | undefined;

/** IEEE 754 binary16 → float32 for every one of the 65,536 bit patterns. */
function halfTable(): Float32Array {
  if (halfCache) return halfCache;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? NaN : sign * Infinity;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  halfCache = t;
  return t;
}

/** Attribute numbers at full precision (float64 and int32 stay exact, unlike float32). */
export function numbersOf(m: H5Module, meta: H5Metadata, ptr: number, n: number): number[] {
  const h = m.HEAPU8.buffer;
  let { type, signed } = meta;
  if (type === classOf(m, 'H5T_ENUM')) {
    type = classOf(m, 'H5T_INTEGER');
    if (isBoolEnum(meta)) signed = false;
  }
  if (type === classOf(m, 'H5T_FLOAT')) {
    if (meta.size === 8) return Array.from(new Float64Array(h, ptr, n));
    if (meta.size === 4) return Array.from(new Float32Array(h, ptr, n));
    const table = halfTable();
    return Array.from(new Uint16Array(h, ptr, n), (v) => table[v]);
  }
  const view = integerView(meta.size, signed)!;
  return Array.from(new view(h, ptr, n) as ArrayLike<number | bigint>, (v) => Number(v));
}
