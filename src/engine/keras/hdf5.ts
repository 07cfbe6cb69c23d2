// Reads HDF5 files (Keras `.h5`, `.weights.h5`, the model.weights.h5 inside a `.keras`)
// through a small library-agnostic API: groups with decoded attributes, datasets read as
// float32. Nothing else in the code base imports the HDF5 library (only h5wasmModule.ts does).
//
// Library: h5wasm 0.10.3 (the HDF5 2.0.0 C library compiled to WebAssembly), chosen over
// jsfive 0.4.2 (a pure-JS reader) by measurement: bench/hdf5Readers.ts (`node
// out/bench/hdf5Readers.js`), each run a fresh Node 20 process, median of 5, on the 2-core
// build machine while others used it (load ~5: read the ratios, not the milliseconds).
// Work: open, list every group and dataset, read every dataset as float32.
//
//   file                              reader                  total ms (load)  peak RSS MiB  whole file in memory
//   Keras 3.15 big.weights.h5         h5wasm, path               710 (197)         142       no: read by range
//   (fixture generator; 98 MiB,       h5wasm, bytes (temp copy)  972 (429)         248       the caller's bytes
//   320 datasets)                     jsfive (bytes only)        664 (12)          283       yes, while open
//   h5py 3.16, Keras 3 layout         h5wasm, path               516 (191)         141       no
//   (144 MiB, 98 datasets: float32,   h5wasm, bytes              1059 (640)        273       the caller's bytes
//   a 16 MiB float64, a float16)      jsfive                     865 (10)          381       yes
//   (Node alone: 42 MiB. Values checked equal across readers; all 65 Keras fixture files,
//   .keras and .h5, read here give h5py's dataset counts, attributes and sums.)
//
// Speed is a wash (h5wasm pays ~0.2 s once to compile its wasm, then reads faster). Memory
// is not: h5wasm stays ~100 MiB above Node whatever the file size, jsfive holds the whole
// file on top of the arrays it returns (a 1 GB model: over 2 GB).
// Why h5wasm: it reads a file by ranges instead of holding all of it, it is the same C
// library h5py uses (every layout, filter and type Keras writes is read as h5py reads it),
// and it WRITES HDF5, which exporting model.keras / .h5 needs later (jsfive cannot write).
// Bundles: jsfive would add 81 kB (minified, pako included) to each; h5wasm adds nothing to
// them (external, below) and ships 4.05 MB (0.97 MB deflated) in the VSIX. Its costs, and
// what these files do about them:
//   - The Node build is ESM-only, references import.meta.url and embeds its wasm (4.2 MB of
//     JS); bundled into our CJS bundles it breaks (createRequire(undefined)). So 'h5wasm' is
//     external in esbuild.mjs and loaded with a dynamic import() at run time from the
//     extension's node_modules, like tfjs; the VSIX ships node_modules/h5wasm/dist/node only
//     (.vscodeignore); checked: dist/cli.js, and the same from an unpacked VSIX, read .h5.
//   - Loading is asynchronous (the wasm compiles once per process, 0.1-0.2 s): openHdf5 is
//     async; everything after it is synchronous.
//   - Its Node build maps the wasm file system straight onto the real one (NODERAWFS): no
//     in-memory files. Bytes (a .weights.h5 from a zip) are written to a private temporary
//     file that close() deletes (and process exit, if a caller forgets). ZipArchive.extractTo
//     writes a zip entry to such a file directly, without holding it in memory at all.
//     On Windows, paths go relative to the working folder (h5wasm joins paths the POSIX
//     way); untested there.
//   - Its high-level API has no float16 (read or write) and prints HDF5's error stack on
//     stderr. The reader goes through h5wasm's lower-level module functions (pinned exact
//     version, 0.10.3), converts float16 itself, decodes every string attribute as UTF-8
//     (h5py stores Keras's `layer_names` as ASCII-tagged byte strings holding UTF-8), and
//     routes HDF5's diagnostics into a buffer kept as the `cause` of the Hdf5Error (an
//     emscripten stream hook; the unit test fails if anything reaches stderr).
//     Writing float16 later needs either float32 on disk (Keras casts on load) or a patch
//     upstream: h5wasm's create_dataset refuses 2-byte floats.
//   - The wasm heap grows to the largest read and never shrinks, and is capped at 2 GiB: a
//     dataset is therefore read in slabs of at most 16 MiB, whatever its size.
// Not HDF5, truncated and corrupt files are recognised here (signature, superblock's
// end-of-file address, failed reads) and reported in plain words, never the library's.
//
// The parts: hdf5Signature.ts (checks before the library sees a file), hdf5TempCopy.ts
// (bytes to a private file), h5wasmModule.ts (the library; the only importer of h5wasm),
// hdf5Values.ts (element types), hdf5Attributes.ts, hdf5Errors.ts. This file is the API:
// opening, groups, and datasets read in slabs.
import { Hdf5Error, clearDiagnostics, corrupt } from './hdf5Errors';
import { checkFileOnDisk, checkHeader } from './hdf5Signature';
import { removeTemp, writeTempCopy } from './hdf5TempCopy';
import { call, loadModule, toWasmPath, type H5Metadata, type Session } from './h5wasmModule';
import { readAttrs, type H5AttrValue } from './hdf5Attributes';
import { dtypeName, numberConverter } from './hdf5Values';

export { Hdf5Error } from './hdf5Errors';
export type { H5AttrValue } from './hdf5Attributes';

export interface H5Dataset {
  kind: 'dataset';
  name: string;
  path: string;
  shape: number[];
  /** 'float16' | 'float32' | 'float64' | 'int8'…'int64' | 'uint8'…'uint64' | 'bool' | 'enum' | 'string' | 'compound' | … */
  dtype: string;
  /** float32 copy (float16/float64/int converted) */
  readFloat32(): Float32Array;
}

export interface H5Group {
  kind: 'group';
  name: string;
  path: string;
  /** Strings (fixed or variable length, byte strings too) as JS strings, arrays of them as
   *  string[], numbers (int64 as Number) and booleans (h5py's bool enum); arrays of numbers
   *  or booleans as number[] (flattened); a null dataspace or another type as null. */
  attrs: Record<string, H5AttrValue>;
  /** Member names, in the file's link order (name order unless creation order is tracked). */
  keys(): string[];
  /** A member by name or relative path ('a/b'); soft links followed; undefined if absent. */
  get(name: string): H5Group | H5Dataset | undefined;
}

export interface H5File extends H5Group {
  /** Closes the HDF5 file and deletes the temporary copy made for bytes. Idempotent. */
  close(): void;
}

/** The member at a '/'-separated path below `group`, one link at a time (undefined where a step is missing or not a group). */
export function memberAt(group: H5Group, p: string): H5Group | H5Dataset | undefined {
  let node: H5Group | H5Dataset | undefined = group;
  for (const part of p.split('/').filter(Boolean)) {
    if (!node || node.kind !== 'group') return undefined;
    node = node.get(part);
  }
  return node;
}

export type Hdf5Source = { file: string } | { bytes: Uint8Array; name: string };

/**
 * Opens an HDF5 file from a path or from bytes (async: the HDF5 library loads once per
 * process). `name` names the bytes in messages, e.g. 'model.keras (model.weights.h5)'.
 */
export async function openHdf5(source: Hdf5Source): Promise<H5File> {
  const name = 'file' in source ? source.file : source.name;
  let tmpDir: string | undefined;
  let wasmFile: string;
  if ('file' in source) {
    checkFileOnDisk(source.file);
    wasmFile = source.file;
  } else {
    checkHeader(source.name, source.bytes.byteLength, (pos, len) => source.bytes.subarray(pos, pos + len));
    ({ dir: tmpDir, file: wasmFile } = writeTempCopy(source.name, source.bytes));
  }
  try {
    const m = await loadModule(name);
    clearDiagnostics();
    let fileId: bigint;
    try {
      fileId = m.open(toWasmPath(wasmFile), m.H5F_ACC_RDONLY, false, -1, -1);
    } catch (e) {
      throw corrupt(name, 'the HDF5 library could not open it', e);
    }
    if (fileId < 0n) throw corrupt(name, 'the HDF5 library could not open it');
    const session: Session = { m, fileId, name, tmpDir, closed: false };
    tmpDir = undefined; // owned by the session now
    return new FileImpl(session);
  } finally {
    if (tmpDir) removeTemp(tmpDir);
  }
}

function childPath(parent: string, name: string): string {
  return (parent === '/' ? '/' : parent + '/') + name;
}

class GroupImpl implements H5Group {
  readonly kind = 'group' as const;
  private attrCache?: Record<string, H5AttrValue>;
  constructor(
    protected readonly s: Session,
    readonly path: string,
    readonly name: string,
  ) {}

  get attrs(): Record<string, H5AttrValue> {
    this.attrCache ??= readAttrs(this.s, this.path);
    return this.attrCache;
  }

  keys(): string[] {
    return call(this.s, `the members of ${this.path}`, () => [...this.s.m.get_names(this.s.fileId, this.path, false)]);
  }

  get(name: string): H5Group | H5Dataset | undefined {
    const parts = name.split('/').filter((p) => p !== '');
    if (parts.length === 0) return undefined;
    const full = childPath(this.path, parts.join('/'));
    const { m, fileId } = this.s;
    const type = call(this.s, `member ${full}`, () => m.get_type(fileId, full));
    const leaf = parts[parts.length - 1];
    if (type === m.H5G_GROUP) return new GroupImpl(this.s, full, leaf);
    if (type === m.H5G_DATASET)
      return new DatasetImpl(
        this.s,
        full,
        leaf,
        call(this.s, `dataset ${full}`, () => m.get_dataset_metadata(fileId, full)),
      );
    return undefined;
  }
}

class FileImpl extends GroupImpl implements H5File {
  constructor(s: Session) {
    super(s, '/', '');
  }

  close(): void {
    const s = this.s;
    if (s.closed) return;
    s.closed = true;
    try {
      s.m.close_file(s.fileId);
    } finally {
      if (s.tmpDir) removeTemp(s.tmpDir);
    }
  }
}

const SLAB_BYTES = 16 << 20;

class DatasetImpl implements H5Dataset {
  readonly kind = 'dataset' as const;
  readonly shape: number[];
  readonly dtype: string;
  constructor(
    private readonly s: Session,
    readonly path: string,
    readonly name: string,
    private readonly meta: H5Metadata,
  ) {
    this.shape = meta.shape ? [...meta.shape] : [];
    this.dtype = dtypeName(s.m, meta);
  }

  readFloat32(): Float32Array {
    const { s, meta } = this;
    const { m, fileId } = s;
    const convert = numberConverter(m, meta);
    if (!convert) {
      throw new Hdf5Error(s.name, `${s.name}: dataset ${this.path} holds ${this.dtype} values, not numbers; it is not a weight`);
    }
    const total = meta.shape ? meta.total_size : 0;
    const out = new Float32Array(total);
    if (total === 0) return out;
    const slabs = planSlabs(meta.shape!, meta.size);
    const bufBytes = Math.min(total * meta.size, SLAB_BYTES);
    const what = `dataset ${this.path}`;
    const ptr = call(s, what, () => m._malloc(bufBytes));
    if (!ptr) throw new Hdf5Error(s.name, `${s.name}: not enough memory to read dataset ${this.path}`);
    try {
      let at = 0;
      for (const slab of slabs) {
        const status = call(s, what, () => m.get_dataset_data(fileId, this.path, slab.count, slab.offset, slab.stride, BigInt(ptr)));
        if (status < 0) throw corrupt(s.name, `reading ${what} failed`);
        convert(m.HEAPU8.buffer, ptr, slab.elements, out, at);
        at += slab.elements;
      }
    } finally {
      m._free(ptr);
    }
    return out;
  }
}

interface Slab {
  count: bigint[] | null;
  offset: bigint[] | null;
  stride: bigint[] | null;
  elements: number;
}

/**
 * Hyperslabs of at most SLAB_BYTES covering a C-order array: split along the first
 * dimension whose inner block fits, iterate the dimensions before it one index at a time.
 */
export function planSlabs(shape: number[], elementSize: number, slabBytes = SLAB_BYTES): Slab[] {
  const total = shape.reduce((a, b) => a * b, 1);
  if (total * elementSize <= slabBytes || shape.length === 0) return [{ count: null, offset: null, stride: null, elements: total }];
  const r = shape.length;
  const inner: number[] = new Array(r);
  inner[r - 1] = 1;
  for (let d = r - 2; d >= 0; d--) inner[d] = inner[d + 1] * shape[d + 1];
  let split = 0;
  while (inner[split] * elementSize > slabBytes) split++;
  const step = Math.max(1, Math.floor(slabBytes / (inner[split] * elementSize)));
  const slabs: Slab[] = [];
  const outer = shape.slice(0, split);
  const idx = new Array(split).fill(0);
  const stride = shape.map(() => 1n);
  for (;;) {
    for (let j = 0; j < shape[split]; j += step) {
      const c = Math.min(step, shape[split] - j);
      const offset = [...idx.map(BigInt), BigInt(j), ...shape.slice(split + 1).map(() => 0n)];
      const count = [...idx.map(() => 1n), BigInt(c), ...shape.slice(split + 1).map(BigInt)];
      slabs.push({ count, offset, stride, elements: c * inner[split] });
    }
    let d = split - 1;
    while (d >= 0 && ++idx[d] === outer[d]) idx[d--] = 0;
    if (d < 0) break;
  }
  return slabs;
}
