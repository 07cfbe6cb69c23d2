// The HDF5 library: h5wasm 0.10.3's emscripten module, loaded once per process, and the
// lower-level functions of it the reader uses (hdf5.ts says why these and not its API).
// The only file that imports h5wasm.
import * as path from 'node:path';
import { Hdf5Error, appendDiagnostics, corrupt, recentDiagnostics } from './hdf5Errors';

export interface H5Metadata {
  type: number;
  size: number;
  signed: boolean;
  vlen: boolean;
  shape: number[] | null;
  total_size: number;
  strpad?: number;
  enum_type?: { type: number; members: Record<string, number> };
}

/** The parts of h5wasm 0.10.3's module used here (its lower level: see hdf5.ts). */
export interface H5Module {
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

/** One open file: the module, its file id, its name for messages, the temporary copy it owns. */
export interface Session {
  m: H5Module;
  fileId: bigint;
  name: string;
  tmpDir: string | undefined;
  closed: boolean;
}

let modulePromise: Promise<H5Module> | undefined;

export function loadModule(name: string): Promise<H5Module> {
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
      appendDiagnostics(decoder.decode(buffer.subarray(offset, offset + length)));
      return length;
    },
  };
}

/** Runs a library call; a closed file, or any failure, becomes an Hdf5Error for this file. */
export function call<T>(s: Session, what: string, fn: () => T): T {
  if (s.closed) throw new Hdf5Error(s.name, `${s.name} was already closed (reading ${what})`);
  try {
    return fn();
  } catch (e) {
    if (e instanceof Hdf5Error) throw e;
    const stack = recentDiagnostics();
    throw corrupt(s.name, `reading ${what} failed`, stack ? new Error(stack, { cause: e }) : e);
  }
}

/** h5wasm joins relative names onto the working folder with '/', and would mangle "C:\…". */
export function toWasmPath(file: string): string {
  const abs = path.resolve(file);
  if (process.platform !== 'win32') return abs;
  const rel = path.relative(process.cwd(), abs);
  return path.isAbsolute(rel) ? abs : rel.split(path.sep).join('/');
}

/** The parts of h5wasm's high-level API the Keras writers use (files are written, never read, through it). */
export interface H5WriteGroup {
  create_group(name: string): H5WriteGroup;
  create_dataset(args: { name: string; data: Float32Array; shape: number[]; dtype: '<f' }): unknown;
  create_attribute(name: string, data: string | string[] | Float64Array, shape?: number[], dtype?: '<d'): void;
}
export interface H5WriteFile extends H5WriteGroup {
  close(): number;
}

/**
 * Creates (or truncates) an HDF5 file for writing. The reader above uses h5wasm's lower
 * level; writing float32 datasets, groups and string attributes is what its high-level API
 * does well, so the writers go through that (same module, same loaded wasm).
 */
export async function createHdf5File(file: string): Promise<H5WriteFile> {
  await loadModule(file);
  const lib = (await import('h5wasm/node')) as unknown as { default: { File: new (name: string, mode: string) => H5WriteFile } };
  return new lib.default.File(toWasmPath(file), 'w');
}
