// Reads HDF5 files (Keras `.h5`, `.weights.h5`, the model.weights.h5 inside a `.keras`)
// through a small library-agnostic API: groups with decoded attributes, datasets read as
// float32. Nothing else in the code base imports the HDF5 library; only this file does.
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
// what this file does about them:
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
//     stderr. This file reads through h5wasm's lower-level module functions (pinned exact
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
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type H5AttrValue = string | number | boolean | string[] | number[] | null;

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

export type Hdf5Source = { file: string } | { bytes: Uint8Array; name: string };

/** A file a user handed us cannot be read as HDF5: which file, what is wrong, what to do. */
export class Hdf5Error extends Error {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'Hdf5Error';
  }
}

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
    diagnostics = '';
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

// ---------------------------------------------------------------------------------------
// Checks done before the library sees a file: plain messages for the common cases.

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]; // \x89HDF\r\n\x1a\n

type ReadRange = (pos: number, len: number) => Uint8Array;

function checkFileOnDisk(file: string): void {
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

function fsReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a folder';
  return (e as Error)?.message ?? String(e);
}

/**
 * Finds the superblock (HDF5 looks at 0, 512, 1024, 2048, … because of user blocks) and
 * compares the end-of-file address it records with the real size: the usual sign of an
 * interrupted download or copy.
 */
function checkHeader(name: string, size: number, read: ReadRange): void {
  const start = read(0, Math.min(size, 16));
  for (let pos = 0; pos < size; pos = pos === 0 ? 512 : pos * 2) {
    const sig = pos === 0 ? start.subarray(0, SIGNATURE.length) : read(pos, SIGNATURE.length);
    if (sig.length < SIGNATURE.length) {
      if (pos === 0 && sig.every((b, i) => b === SIGNATURE[i])) throw truncated(name, `it has only ${size} bytes`);
      continue;
    }
    if (!SIGNATURE.every((b, i) => sig[i] === b)) continue;
    const head = read(pos, 128);
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
    return;
  }
  throw new Hdf5Error(name, `${name} is not an HDF5 file (${describeStart(start, size)}); a Keras .h5 or .weights.h5 is expected`);
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

function truncated(name: string, detail: string, cause?: unknown): Hdf5Error {
  return new Hdf5Error(name, `${name} is truncated or corrupt (${detail}); save or download it again`, withCause(cause));
}

function corrupt(name: string, detail: string, cause?: unknown): Hdf5Error {
  const c = cause ?? (diagnostics ? new Error(diagnostics.slice(-4000)) : undefined);
  return truncated(name, detail, c);
}

function withCause(cause: unknown): { cause?: unknown } | undefined {
  return cause === undefined ? undefined : { cause };
}

// ---------------------------------------------------------------------------------------
// Temporary copies for bytes (h5wasm's Node build has no in-memory file system).

const tempDirs = new Set<string>();
let exitHookInstalled = false;

function writeTempCopy(name: string, bytes: Uint8Array): { dir: string; file: string } {
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transfer-lab-h5-'));
    tempDirs.add(dir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
      });
    }
    const file = path.join(dir, 'data.h5');
    fs.writeFileSync(file, bytes, { mode: 0o600 });
    return { dir, file };
  } catch (e) {
    if (dir) removeTemp(dir);
    throw new Hdf5Error(name, `${name} cannot be read: writing a temporary copy in ${os.tmpdir()} failed (${fsReason(e)}); free some disk space`, { cause: e });
  }
}

function removeTemp(dir: string): void {
  tempDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** h5wasm joins relative names onto the working folder with '/', and would mangle "C:\…". */
function toWasmPath(file: string): string {
  const abs = path.resolve(file);
  if (process.platform !== 'win32') return abs;
  const rel = path.relative(process.cwd(), abs);
  return path.isAbsolute(rel) ? abs : rel.split(path.sep).join('/');
}

// ---------------------------------------------------------------------------------------
// The library: h5wasm's emscripten module, loaded once per process.

interface H5Metadata {
  type: number;
  size: number;
  signed: boolean;
  vlen: boolean;
  shape: number[] | null;
  total_size: number;
  strpad?: number;
  enum_type?: { type: number; members: Record<string, number> };
}

/** The parts of h5wasm 0.10.3's module used here (its lower level: see the header). */
interface H5Module {
  open(file: string, mode: number, trackOrder: boolean, libverLow: number, libverHigh: number): bigint;
  close_file(fileId: bigint): number;
  get_names(fileId: bigint, path: string, recursive: boolean): string[];
  get_type(fileId: bigint, path: string): number;
  get_attribute_names(fileId: bigint, path: string): string[];
  get_attribute_metadata(fileId: bigint, path: string, name: string): H5Metadata;
  get_attribute_data(fileId: bigint, path: string, name: string, ptr: bigint): number;
  reclaim_vlen_memory(fileId: bigint, path: string, attrName: string, ptr: bigint): number;
  get_dataset_metadata(fileId: bigint, path: string): H5Metadata;
  get_dataset_data(fileId: bigint, path: string, count: bigint[] | null, offset: bigint[] | null, stride: bigint[] | null, ptr: bigint): number;
  _malloc(n: number): number;
  _free(ptr: number): void;
  UTF8ToString(ptr: number): string;
  HEAPU8: Uint8Array<ArrayBuffer>;
  H5F_ACC_RDONLY: number;
  H5G_GROUP: number;
  H5G_DATASET: number;
  H5T_class_t: Record<string, { value: number }>;
  FS: { getStream(fd: number): { stream_ops?: unknown; node?: unknown } | null };
}

let modulePromise: Promise<H5Module> | undefined;
/** HDF5's own error stack since the last open, captured instead of printed on stderr. */
let diagnostics = '';

function loadModule(name: string): Promise<H5Module> {
  modulePromise ??= (async () => {
    const lib = (await import('h5wasm/node')) as unknown as { default: { ready: Promise<unknown> } };
    const m = (await lib.default.ready) as H5Module;
    captureDiagnostics(m);
    return m;
  })();
  return modulePromise.catch((e: unknown) => {
    modulePromise = undefined;
    throw new Hdf5Error(name, `${name} cannot be read: the HDF5 reader (h5wasm) did not load (${(e as Error)?.message ?? e}); reinstall Transfer Lab`, {
      cause: e,
    });
  });
}

/** HDF5 writes its error stack to the wasm stderr (fd 2 of the real process): keep it. */
function captureDiagnostics(m: H5Module): void {
  const stream = m.FS.getStream(2);
  if (!stream) return;
  const decoder = new TextDecoder();
  stream.node ??= { mode: 0o100644 }; // looked at by emscripten's write(), absent on std streams
  stream.stream_ops = {
    write(_stream: unknown, buffer: Uint8Array, offset: number, length: number) {
      diagnostics = (diagnostics + decoder.decode(buffer.subarray(offset, offset + length))).slice(-16000);
      return length;
    },
  };
}

interface Session {
  m: H5Module;
  fileId: bigint;
  name: string;
  tmpDir: string | undefined;
  closed: boolean;
}

/** Runs a library call; a closed file, or any failure, becomes an Hdf5Error for this file. */
function call<T>(s: Session, what: string, fn: () => T): T {
  if (s.closed) throw new Hdf5Error(s.name, `${s.name} was already closed (reading ${what})`);
  try {
    return fn();
  } catch (e) {
    if (e instanceof Hdf5Error) throw e;
    throw corrupt(s.name, `reading ${what} failed`, diagnostics ? new Error(diagnostics.slice(-4000), { cause: e }) : e);
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

function classOf(m: H5Module, name: string): number {
  return m.H5T_class_t[name].value;
}

function isBoolEnum(meta: H5Metadata): boolean {
  const members = meta.enum_type?.members;
  return !!members && Object.keys(members).length === 2 && members.FALSE === 0 && members.TRUE === 1;
}

function dtypeName(m: H5Module, meta: H5Metadata): string {
  switch (meta.type) {
    case classOf(m, 'H5T_INTEGER'):
      return `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
    case classOf(m, 'H5T_FLOAT'):
      return `float${meta.size * 8}`;
    case classOf(m, 'H5T_STRING'):
      return 'string';
    case classOf(m, 'H5T_ENUM'):
      return isBoolEnum(meta) ? 'bool' : 'enum';
    case classOf(m, 'H5T_COMPOUND'):
      return 'compound';
    case classOf(m, 'H5T_ARRAY'):
      return 'array';
    case classOf(m, 'H5T_VLEN'):
      return 'vlen';
    case classOf(m, 'H5T_REFERENCE'):
      return 'reference';
    case classOf(m, 'H5T_OPAQUE'):
      return 'opaque';
    case classOf(m, 'H5T_BITFIELD'):
      return 'bitfield';
    default:
      return 'unknown';
  }
}

type Converter = (heap: ArrayBuffer, ptr: number, n: number, out: Float32Array, at: number) => void;

/** Converts n little-endian elements at ptr (h5wasm reads in little-endian) into out[at…]. */
function numberConverter(m: H5Module, meta: H5Metadata): Converter | undefined {
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

// ---------------------------------------------------------------------------------------
// Attributes.

function readAttrs(s: Session, objPath: string): Record<string, H5AttrValue> {
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

/** Attribute numbers at full precision (float64 and int32 stay exact, unlike float32). */
function numbersOf(m: H5Module, meta: H5Metadata, ptr: number, n: number): number[] {
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
