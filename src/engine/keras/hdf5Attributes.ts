// Attributes of a group: names, then each value decoded (strings as UTF-8, numbers at full
// precision, h5py's bool enum as booleans), the wasm memory freed whatever happens.
import { Hdf5Error, corrupt } from './hdf5Errors';
import { call, type Session } from './h5wasmModule';
import { classOf, isBoolEnum, numberConverter, numbersOf } from './hdf5Values';

export type H5AttrValue = string | number | boolean | string[] | number[] | null;

export function readAttrs(s: Session, objPath: string): Record<string, H5AttrValue> {
  const { m, fileId } = s;
  const names = call(s, `the attributes of ${objPath}`, () => [...m.get_attribute_names(fileId, objPath)]);
  const attrs: Record<string, H5AttrValue> = {};
  for (const name of names) attrs[name] = readAttr(s, objPath, name);
  return attrs;
}

const utf8 = new TextDecoder('utf-8');

function readAttr(s: Session, objPath: string, name: string): H5AttrValue {
  const { m, fileId } = s;
  const what = `attribute ${name} of ${objPath}`;
  const meta = call(s, what, () => m.get_attribute_metadata(fileId, objPath, name));
  if (!meta.shape) return null;
  const isString = meta.type === classOf(m, 'H5T_STRING');
  const toNumbers = isString ? undefined : numberConverter(m, meta);
  if (!isString && !toNumbers) return null;
  const n = meta.total_size;
  const nbytes = Math.max(1, n * meta.size);
  const ptr = call(s, what, () => m._malloc(nbytes));
  if (!ptr) throw new Hdf5Error(s.name, `${s.name}: not enough memory to read ${what}`);
  m.HEAPU8.fill(0, ptr, ptr + nbytes); // so a failed read leaves null pointers to reclaim
  let values: (string | number | boolean)[];
  try {
    const status = call(s, what, () => m.get_attribute_data(fileId, objPath, name, BigInt(ptr)));
    if (status < 0) throw corrupt(s.name, `reading ${what} failed`);
    if (isString && meta.vlen) {
      const ptrs = new Uint32Array(m.HEAPU8.buffer, ptr, n);
      values = Array.from(ptrs, (p) => (p ? m.UTF8ToString(p) : ''));
    } else if (isString) {
      values = [];
      for (let i = 0; i < n; i++) {
        let bytes = m.HEAPU8.subarray(ptr + i * meta.size, ptr + (i + 1) * meta.size);
        const nul = bytes.indexOf(0);
        if (nul >= 0) bytes = bytes.subarray(0, nul);
        let text = utf8.decode(bytes);
        if (meta.strpad === 2) text = text.replace(/ +$/, ''); // H5T_STR_SPACEPAD
        values.push(text);
      }
    } else {
      values = numbersOf(m, meta, ptr, n);
      if (isBoolEnum(meta) && meta.shape.length === 0) values = values.map((v) => v !== 0);
    }
  } finally {
    try {
      if (meta.vlen) call(s, what, () => m.reclaim_vlen_memory(fileId, objPath, name, BigInt(ptr)));
    } finally {
      m._free(ptr);
    }
  }
  if (meta.shape.length === 0) return values[0] ?? null;
  return values as string[] | number[];
}
