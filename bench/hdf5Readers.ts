// HDF5 readers side by side, each measurement in a fresh Node process (honest peak RSS):
// h5wasm through engine/keras/hdf5.ts (from the path, and from bytes as the model.weights.h5
// of a .keras arrives), and jsfive, the pure-JS reader it was chosen over. Work per run:
// open, list every group and dataset, read every dataset as float32.
//
//   node out/bench/hdf5Readers.js [file.h5 ...]     (after `npm run build`)
//
// Without files: a ~150 MB Keras-3-layout weights file written once into the cache by h5wasm,
// one written by h5py where a Python with h5py is found (BENCH_H5PY_PYTHON, the bench's
// keras-venv, python3), and any keras-fixtures/*/big.weights.h5 of the fixture generator.
// jsfive is not a dependency: `npm install --no-save jsfive@0.4.2` (or BENCH_JSFIVE_DIR, a
// folder whose node_modules has it) adds its rows. BENCH_REPS (default 3) runs, interleaved.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { openHdf5, type H5Group } from '../src/engine/keras/hdf5';

const root = path.resolve(__dirname, '../..');
const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab');
const benchDir = path.join(cacheRoot, 'bench', 'hdf5');
const REPS = Number(process.env.BENCH_REPS ?? 3);
const log = (m: string) => process.stderr.write(`[hdf5] ${m}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => bytes / 2 ** 20;

type Contender = 'h5wasm-file' | 'h5wasm-bytes' | 'jsfive';

interface WorkerResult {
  loadMs: number;
  totalMs: number;
  datasets: number;
  elements: number;
  checksum: number;
  startRssMB: number;
  peakRssMB: number;
}

function peakRssMB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function jsfiveRequire(): NodeJS.Require | undefined {
  for (const base of [process.env.BENCH_JSFIVE_DIR, root].filter(Boolean) as string[]) {
    const req = createRequire(path.join(base, 'package.json'));
    try {
      req.resolve('jsfive');
      return req;
    } catch {
      // try the next folder
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Worker: one contender on one file.

async function worker(contender: Contender, file: string): Promise<WorkerResult> {
  const startRssMB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  let datasets = 0;
  let elements = 0;
  let checksum = 0;
  const take = (a: Float32Array) => {
    datasets++;
    elements += a.length;
    checksum += a.length ? a[0] + a[a.length - 1] : 0;
  };
  let loadMs = 0;
  if (contender === 'jsfive') {
    interface JGroup {
      keys: string[];
      get(name: string): JGroup & { dtype?: unknown; value?: ArrayLike<number> };
    }
    const jsfive = jsfiveRequire()!('jsfive') as { File: new (buf: ArrayBuffer, name: string) => JGroup };
    loadMs = performance.now() - t0;
    const buf = fs.readFileSync(file); // jsfive reads from an ArrayBuffer of the whole file
    const f = new jsfive.File(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), path.basename(file));
    const walk = (g: JGroup) => {
      for (const k of g.keys) {
        const o = g.get(k);
        if (o.dtype === undefined) walk(o);
        else take(Float32Array.from(o.value!));
      }
    };
    walk(f);
  } else {
    const h5 = contender === 'h5wasm-file' ? await openHdf5({ file }) : await openHdf5({ bytes: fs.readFileSync(file), name: file });
    loadMs = performance.now() - t0; // includes the first (one-time) load of the library
    const walk = (g: H5Group) => {
      for (const k of g.keys()) {
        const o = g.get(k);
        if (!o) continue;
        if (o.kind === 'group') walk(o);
        else take(o.readFloat32());
      }
    };
    walk(h5);
    h5.close();
  }
  return { loadMs, totalMs: performance.now() - t0, datasets, elements, checksum, startRssMB, peakRssMB: peakRssMB() };
}

// ---------------------------------------------------------------------------------------
// Files to measure on.

interface WritableGroup {
  create_group(name: string): WritableGroup;
  create_dataset(args: { name: string; data: unknown; shape: number[] }): unknown;
  create_attribute(name: string, data: unknown): void;
}

/** ~150 MB in Keras 3's weights layout: 48 conv kernels (float32), biases, a float64 dense. */
async function writeBigWithH5wasm(file: string): Promise<void> {
  const lib = (
    (await import('h5wasm/node')) as unknown as {
      default: { ready: Promise<unknown>; File: new (f: string, mode: string) => WritableGroup & { close(): void } };
    }
  ).default;
  await lib.ready;
  const tmp = `${file}.part`;
  const f = new lib.File(tmp, 'w');
  f.create_attribute('keras_version', '3.15.1');
  const layers = f.create_group('layers');
  for (let i = 0; i < 48; i++) {
    const vars = layers.create_group(`conv2d_${i}`).create_group('vars');
    const cout = 256 + (i % 4) * 32;
    const k = new Float32Array(3 * 3 * 256 * cout);
    for (let j = 0; j < k.length; j++) k[j] = (((j * 2654435761) >>> 0) % 1000) / 1000 - 0.5;
    vars.create_dataset({ name: '0', data: k, shape: [3, 3, 256, cout] });
    vars.create_dataset({ name: '1', data: new Float32Array(cout).fill(0.1), shape: [cout] });
  }
  const dense = layers.create_group('functional').create_group('layers').create_group('dense').create_group('vars');
  dense.create_dataset({ name: '0', data: new Float64Array(2048 * 1000).fill(0.25), shape: [2048, 1000] });
  f.close();
  fs.renameSync(tmp, file);
}

function h5pyPython(): string | undefined {
  const candidates = [process.env.BENCH_H5PY_PYTHON, path.join(cacheRoot, 'bench', 'keras-venv', 'bin', 'python'), 'python3'];
  for (const c of candidates) {
    if (c && spawnSync(c, ['-c', 'import h5py, numpy'], { encoding: 'utf8' }).status === 0) return c;
  }
  return undefined;
}

function writeBigWithH5py(python: string, file: string): boolean {
  const code = `import sys, h5py, numpy as np
with h5py.File(sys.argv[1] + '.part', 'w') as f:
    f.attrs['keras_version'] = '3.15.1'
    layers = f.create_group('layers')
    rng = np.random.default_rng(0)
    for i in range(48):
        v = layers.create_group(f'conv2d_{i}').create_group('vars')
        cout = 256 + (i % 4) * 32
        v.create_dataset('0', data=rng.standard_normal((3, 3, 256, cout), dtype=np.float32))
        v.create_dataset('1', data=np.full((cout,), 0.1, np.float32))
    d = layers.create_group('functional').create_group('layers').create_group('dense').create_group('vars')
    d.create_dataset('0', data=np.full((2048, 1000), 0.25, np.float64))
    d.create_dataset('1', data=np.arange(1000, dtype=np.float16) / 1000)
import os; os.replace(sys.argv[1] + '.part', sys.argv[1])`;
  const r = spawnSync(python, ['-c', code, file], { encoding: 'utf8' });
  if (r.status !== 0) log(`h5py could not write ${file}: ${r.stderr.trim().split('\n').pop()}`);
  return r.status === 0;
}

async function benchFiles(): Promise<string[]> {
  fs.mkdirSync(benchDir, { recursive: true });
  const files: string[] = [];
  const h5wasmFile = path.join(benchDir, 'big-h5wasm.weights.h5');
  if (!fs.existsSync(h5wasmFile)) {
    log(`writing ${h5wasmFile} once ...`);
    await writeBigWithH5wasm(h5wasmFile);
  }
  files.push(h5wasmFile);
  const h5pyFile = path.join(benchDir, 'big-h5py.weights.h5');
  const python = fs.existsSync(h5pyFile) ? undefined : h5pyPython();
  if (fs.existsSync(h5pyFile) || (python && writeBigWithH5py(python, h5pyFile))) files.push(h5pyFile);
  else log('no Python with h5py: the h5py-written file is left out (BENCH_H5PY_PYTHON)');
  const fixtures = path.join(cacheRoot, 'keras-fixtures');
  if (fs.existsSync(fixtures)) {
    for (const d of fs.readdirSync(fixtures)) {
      const f = path.join(fixtures, d, 'big.weights.h5');
      if (fs.existsSync(f)) files.push(f);
    }
  }
  return files;
}

// ---------------------------------------------------------------------------------------
// Packaging facts: what each library adds to a bundle or to the VSIX.

function packagingNotes(): string[] {
  const notes: string[] = [];
  const nodeBuild = path.join(root, 'node_modules', 'h5wasm', 'dist', 'node');
  if (fs.existsSync(nodeBuild)) {
    const bytes = fs.readdirSync(nodeBuild).map((f) => fs.readFileSync(path.join(nodeBuild, f)));
    const raw = bytes.reduce((s, b) => s + b.length, 0);
    const packed = bytes.reduce((s, b) => s + zlib.deflateRawSync(b, { level: 9 }).length, 0);
    notes.push(
      `h5wasm: external to the bundles (0 bytes in dist/*.js); the VSIX ships dist/node: ${mb(raw).toFixed(2)} MB, ${mb(packed).toFixed(2)} MB deflated`,
    );
  }
  const jreq = jsfiveRequire();
  if (jreq) {
    const esbuild = createRequire(path.join(root, 'package.json'))('esbuild') as { buildSync(o: object): { outputFiles: { contents: Uint8Array }[] } };
    const out = esbuild.buildSync({
      stdin: { contents: "module.exports = require('jsfive');", resolveDir: path.dirname(path.dirname(path.dirname(jreq.resolve('jsfive')))) },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      minify: true,
      write: false,
    });
    notes.push(
      `jsfive: bundles into CJS (its "require" export); adds ${(out.outputFiles[0].contents.length / 1024).toFixed(0)} kB minified (pako included) to each bundle`,
    );
  }
  return notes;
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const files = process.argv.length > 2 ? process.argv.slice(2) : await benchFiles();
  const contenders: Contender[] = ['h5wasm-file', 'h5wasm-bytes'];
  if (jsfiveRequire()) contenders.push('jsfive');
  else log('jsfive not installed: `npm install --no-save jsfive@0.4.2` to add its rows');
  const results = new Map<string, WorkerResult[]>();
  const failures = new Map<string, string>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const file of files) {
      for (const c of contenders) {
        const key = `${file}\n${c}`;
        if (failures.has(key)) continue;
        const r = spawnSync(process.execPath, [__filename, '--worker', c, file], { cwd: root, encoding: 'utf8', maxBuffer: 2 ** 24 });
        const line = r.stdout.trim().split('\n').pop() ?? '';
        if (r.status !== 0 || !line.startsWith('{')) {
          failures.set(key, (r.stderr || r.stdout).trim().split('\n').slice(-2).join(' | ').slice(0, 300));
          continue;
        }
        results.set(key, [...(results.get(key) ?? []), JSON.parse(line) as WorkerResult]);
      }
    }
  }
  const table: Record<string, unknown>[] = [];
  console.log(`\nopen + list + read every dataset as float32; median of ${REPS} fresh processes (Node ${process.versions.node}, ${os.cpus().length} cores)\n`);
  console.log('file                                  size MB  reader        load ms  total ms  peak RSS MB  (Node alone)  datasets  whole file in memory');
  for (const file of files) {
    const size = fs.statSync(file).size;
    for (const c of contenders) {
      const key = `${file}\n${c}`;
      const rs = results.get(key);
      const whole = c === 'jsfive' ? 'yes, while open' : c === 'h5wasm-bytes' ? "the caller's copy" : 'no (by range)';
      if (!rs) {
        console.log(`${path.basename(file).padEnd(36)}  ${mb(size).toFixed(0).padStart(7)}  ${c.padEnd(12)}  failed: ${failures.get(key)}`);
        table.push({ file, sizeBytes: size, reader: c, error: failures.get(key) });
        continue;
      }
      const row = {
        file,
        sizeBytes: size,
        reader: c,
        loadMs: median(rs.map((r) => r.loadMs)),
        totalMs: median(rs.map((r) => r.totalMs)),
        peakRssMB: median(rs.map((r) => r.peakRssMB)),
        startRssMB: median(rs.map((r) => r.startRssMB)),
        datasets: rs[0].datasets,
        elements: rs[0].elements,
        checksum: rs[0].checksum,
        wholeFileInMemory: whole,
      };
      table.push(row);
      console.log(
        `${path.basename(file).padEnd(36)}  ${mb(size).toFixed(0).padStart(7)}  ${c.padEnd(12)}  ${row.loadMs.toFixed(0).padStart(7)}  ${row.totalMs.toFixed(0).padStart(8)}  ${row.peakRssMB.toFixed(0).padStart(11)}  ${row.startRssMB.toFixed(0).padStart(12)}  ${String(row.datasets).padStart(8)}  ${whole}`,
      );
    }
    const sums = new Set(contenders.map((c) => results.get(`${file}\n${c}`)?.[0]?.checksum.toFixed(3)).filter(Boolean));
    if (sums.size > 1) console.log(`  !! the readers disagree on the values of ${path.basename(file)}: ${[...sums].join(' vs ')}`);
  }
  const notes = packagingNotes();
  console.log('');
  for (const n of notes) console.log(n);
  fs.mkdirSync(path.join(root, 'bench-results'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'bench-results', 'hdf5-readers.json'),
    JSON.stringify({ node: process.versions.node, reps: REPS, rows: table, notes }, null, 2),
  );
}

if (process.argv[2] === '--worker') {
  worker(process.argv[3] as Contender, process.argv[4]).then(
    (r) => console.log(JSON.stringify(r)),
    (e) => {
      console.error((e as Error).message);
      process.exit(1);
    },
  );
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
