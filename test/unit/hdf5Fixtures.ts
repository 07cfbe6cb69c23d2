// Shared by the hdf5.*.test.ts files: HDF5 files written by h5wasm in Keras's layouts, float16
// made by retyping a float32 dataset on disk, and readers of the errors and of stderr.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Hdf5Error, type H5Dataset, type H5Group } from '../../src/engine/keras/hdf5';

export const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-hdf5-'));
/** Each test file calls this once: the files it wrote are removed after its tests. */
export function removeDirAfterTests(): void {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
}

export interface H5wasmFile {
  create_group(name: string): H5wasmGroup;
  create_dataset(args: { name: string; data: unknown; shape?: number[]; dtype?: string; chunks?: number[] }): unknown;
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  get(name: string): H5wasmGroup;
  close(): void;
}
export type H5wasmGroup = Omit<H5wasmFile, 'close'>;
export interface H5wasmLib {
  File: new (file: string, mode: string, options?: { libver?: [string, string] }) => H5wasmFile;
  ready: Promise<unknown>;
}

export async function h5wasm(): Promise<H5wasmLib> {
  const lib = (await import('h5wasm/node')) as unknown as { default: H5wasmLib };
  await lib.default.ready;
  return lib.default;
}

/** Writes an HDF5 file with h5wasm (oldest format: no checksums, so float16 can be patched in). */
export async function writeH5(name: string, build: (f: H5wasmFile) => void): Promise<string> {
  const lib = await h5wasm();
  const file = path.join(dir, name);
  const f = new lib.File(file, 'w', { libver: ['earliest', 'v110'] });
  try {
    build(f);
  } finally {
    f.close();
  }
  return file;
}

export const F32_TYPE = Buffer.from('11201f00' + '04000000' + '00002000' + '1708' + '0017' + '7f000000', 'hex');
export const F16_TYPE = Buffer.from('11200f00' + '02000000' + '00001000' + '0a05' + '000a' + '0f000000', 'hex');

/**
 * Turns the file's only float32 dataset of `n` elements (holding 2n float16 bit patterns)
 * into a float16 dataset of 2n elements: its datatype and dataspace messages are rewritten.
 */
export function retypeAsFloat16(file: string, n: number): void {
  const b = fs.readFileSync(file);
  const at = b.indexOf(F32_TYPE);
  assert.ok(at >= 0 && b.indexOf(F32_TYPE, at + 1) < 0, 'exactly one float32 datatype message');
  F16_TYPE.copy(b, at);
  const dims = Buffer.alloc(16);
  dims.writeBigUInt64LE(BigInt(n), 0);
  dims.writeBigUInt64LE(BigInt(n), 8); // max dims follow the dims
  const d = b.indexOf(dims);
  assert.ok(d >= 0 && b.indexOf(dims, d + 1) < 0, 'exactly one dataspace of that size');
  dims.writeBigUInt64LE(BigInt(2 * n), 0);
  dims.writeBigUInt64LE(BigInt(2 * n), 8);
  dims.copy(b, d);
  fs.writeFileSync(file, b);
}

export function h5Error(file: string, ...fragments: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof Hdf5Error, `expected an Hdf5Error, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file), `message names the file: ${e.message}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${f}" in: ${e.message}`);
    assert.ok(!/H5F|HDF5-DIAG|name not defined|major:/.test(e.message), `no library text: ${e.message}`);
    return true;
  };
}

export function dataset(g: H5Group, p: string): H5Dataset {
  const d = g.get(p);
  assert.ok(d && d.kind === 'dataset', `${p} is a dataset`);
  return d;
}

export function group(g: H5Group, p: string): H5Group {
  const d = g.get(p);
  assert.ok(d && d.kind === 'group', `${p} is a group`);
  return d;
}

/** Everything written to the process's stderr (fd 2 directly, as wasm does, or the stream). */
export async function stderrOf(fn: () => Promise<unknown>): Promise<string> {
  const nodeFs = createRequire(__filename)('node:fs') as typeof fs;
  const realWriteSync = nodeFs.writeSync;
  const realWrite = process.stderr.write;
  let text = '';
  nodeFs.writeSync = ((fd: number, data: Uint8Array | string, ...rest: unknown[]) => {
    if (fd === 2) text += typeof data === 'string' ? data : Buffer.from(data).toString();
    return (realWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof fs.writeSync;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    text += String(chunk);
    return (realWrite as (...a: unknown[]) => boolean).call(process.stderr, chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    nodeFs.writeSync = realWriteSync;
    process.stderr.write = realWrite;
  }
  return text;
}

export const kernel = Float32Array.from({ length: 3 * 3 * 2 * 4 }, (_, i) => (i - 30) / 7);
export const bias = new Float32Array([0.5, -1.25, 3, 1e-8]);
export const dense = Float64Array.from({ length: 6 }, (_, i) => Math.PI * (i + 1));

/** A Keras 3 `.weights.h5`: layers/<name>/vars/<i>, nested functional layers. */
export async function keras3Weights(name = 'model.weights.h5'): Promise<string> {
  return writeH5(name, (f) => {
    const conv = f.create_group('layers').create_group('conv2d').create_group('vars');
    conv.create_dataset({ name: '0', data: kernel, shape: [3, 3, 2, 4] });
    conv.create_dataset({ name: '1', data: bias, shape: [4] });
    const inner = f.get('layers').create_group('functional').create_group('layers').create_group('dense').create_group('vars');
    inner.create_dataset({ name: '0', data: dense, shape: [2, 3] });
    inner.create_dataset({ name: '1', data: new Int32Array([-3, 7]), shape: [2] });
    inner.create_dataset({ name: '2', data: new Uint8Array([0, 255]), shape: [2] });
    inner.create_dataset({ name: '3', data: 2.5, shape: [] });
    f.create_group('optimizer').create_group('vars');
    f.create_dataset({ name: 'names', data: ['a', 'b'], shape: [2] });
  });
}
