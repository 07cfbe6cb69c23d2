// `npm run setup:native -- --gpu`: its options, the CUDA wheels' pins and layout, the deps/
// folder it builds, and for real its clean failure when pip has no GPU wheel (as here), with
// the CPU build untouched. The scripts are plain Node ESM: run in a child, as npm runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';

const root = path.resolve(__dirname, '../../..');
const native = path.join(root, 'scripts', 'native');

/** Runs `body` (ESM, may await) in a child that imports the named modules of scripts/native; returns what it prints as JSON. */
function inScripts(modules: Record<string, string[]>, body: string, env: NodeJS.ProcessEnv = {}): unknown {
  const imports = Object.entries(modules)
    .map(([file, names]) => `import { ${names.join(', ')} } from ${JSON.stringify(path.join(native, file))};`)
    .join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', `${imports}\n${body}`], { encoding: 'utf8', env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

const parse = (argv: string[], env: Record<string, string> = {}) =>
  inScripts(
    { 'options.mjs': ['parseSetupOptions'] },
    `try { console.log(JSON.stringify(parseSetupOptions(${JSON.stringify(argv)}, ${JSON.stringify(env)}))); } catch (e) { console.log(JSON.stringify({ error: e.message, hint: e.hint })); }`,
  ) as Record<string, unknown>;

test('options: --gpu, --if-missing, --system-cuda and the wheel variables; a typo or a GPU-only option without --gpu is an error', () => {
  assert.deepEqual(parse([]), { gpu: false, ifMissing: false, systemCuda: false, optional: false });
  assert.deepEqual(
    parse(['--gpu', '--if-missing'], { TRANSFER_LAB_TF_WHEEL: '/w/t.whl', TRANSFER_LAB_CUDA_WHEELS: '/w/cuda', TRANSFER_LAB_NATIVE_OPTIONAL: '1' }),
    {
      gpu: true,
      ifMissing: true,
      systemCuda: false,
      optional: true,
      wheel: '/w/t.whl',
      cudaWheels: '/w/cuda',
    },
  );
  assert.equal(parse(['--gpu', '--system-cuda']).systemCuda, true);
  const typo = parse(['--gpux']);
  assert.equal(typo.error, 'unknown option --gpux');
  assert.match(String(typo.hint), /setup:native takes --gpu, --if-missing, --system-cuda/);
  assert.equal(parse(['--system-cuda']).error, '--system-cuda is for the GPU build only');
  assert.equal(parse([], { TRANSFER_LAB_CUDA_WHEELS: '/w' }).error, 'TRANSFER_LAB_CUDA_WHEELS is set but --gpu is not');
});

test('the GPU build has its own wheel, cache and folder; the CPU build keeps its own', () => {
  const t = inScripts(
    { 'config.mjs': ['buildTarget', 'GPU_ROOT', 'PKG_DIR', 'CACHE_DIR'] },
    `const g = buildTarget(true), c = buildTarget(false);
     const names = ['tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl', 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl', 'tensorflow-2.20.0-cp311-cp311-manylinux_2_27_x86_64.whl'];
     console.log(JSON.stringify({ g: { ...g, wheelPattern: names.filter((n) => g.wheelPattern.test(n)) }, c: { ...c, wheelPattern: names.filter((n) => c.wheelPattern.test(n)) }, GPU_ROOT, PKG_DIR, CACHE_DIR }));`,
    { TRANSFER_LAB_CACHE: '/c' },
  ) as Record<string, Record<string, unknown> & { wheelPattern: string[] }> & { GPU_ROOT: string; PKG_DIR: string; CACHE_DIR: string };
  assert.equal(t.g.pipSpec, 'tensorflow==2.21.0');
  assert.deepEqual(t.g.wheelPattern, ['tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl']);
  assert.deepEqual(t.c.wheelPattern, ['tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl']);
  assert.equal(t.GPU_ROOT, path.join(root, 'native-gpu'));
  assert.equal(t.g.pkgDir, path.join(root, 'native-gpu', 'node_modules', '@tensorflow', 'tfjs-node'));
  assert.equal(t.g.cacheDir, `/c/tensorflow-gpu-2.21.0-${process.platform}-${process.arch}`);
  assert.deepEqual([t.c.pkgDir, t.c.cacheDir, t.c.pipSpec], [t.PKG_DIR, t.CACHE_DIR, 'tensorflow-cpu==2.21.0']);
});

/** A minimal wheel made with Python's zipfile: `members` name -> content. */
function makeWheel(file: string, members: Record<string, string>): void {
  const py = `import zipfile, json, sys\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n  [z.writestr(k, v) for k, v in json.loads(sys.argv[2]).items()]`;
  const r = spawnSync('python3', ['-c', py, file, JSON.stringify(members)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test("the CUDA pins come from the wheel's own and-cuda extra; nvidia/*/lib/*.so* are extracted, nothing else", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-cuda-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tfWheel = path.join(dir, 'tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl');
  makeWheel(tfWheel, {
    'tensorflow-2.21.0.dist-info/METADATA': [
      'Name: tensorflow',
      'Version: 2.21.0',
      'Requires-Dist: numpy>=1.26.0',
      'Requires-Dist: nvidia-cublas-cu12<13.0,>=12.5.3.2; extra == "and-cuda"',
      'Requires-Dist: nvidia-cudnn-cu12 (<10.0,>=9.3.0.75) ; extra == "and-cuda"',
      'Requires-Dist: tensorflow-io-gcs-filesystem>=0.23.1; extra == "gcs-filesystem"',
    ].join('\n'),
    'tensorflow/python/platform/build_info.py': "build_info = collections.OrderedDict([('is_cuda_build', True), ('cuda_version', '12.5.1')])",
  });
  const cudnn = path.join(dir, 'nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl');
  makeWheel(cudnn, {
    'nvidia/cudnn/lib/libcudnn.so.9': 'elf',
    'nvidia/cudnn/lib/libcudnn_ops.so.9': 'elf2',
    'nvidia/cudnn/include/cudnn.h': 'h',
    'nvidia/cudnn/lib/README': 'x',
  });
  const py = (...args: string[]) => spawnSync('python3', [path.join(native, 'cuda-wheels.py'), ...args], { encoding: 'utf8' }).stdout.trim();
  assert.deepEqual(py('requirements', tfWheel).split('\n'), ['nvidia-cublas-cu12<13.0,>=12.5.3.2', 'nvidia-cudnn-cu12<10.0,>=9.3.0.75']);
  assert.equal(py('is-cuda', tfWheel), 'True');
  assert.equal(py('is-cuda', cudnn), 'unknown');
  const out = path.join(dir, 'out');
  assert.deepEqual(JSON.parse(py('extract', out, cudnn)), { 'nvidia/cudnn/lib/libcudnn.so.9': 3, 'nvidia/cudnn/lib/libcudnn_ops.so.9': 4 });
  assert.equal(fs.existsSync(path.join(out, 'nvidia/cudnn/include')), false);

  const pip =
    'Saved ./cache/nvidia_cublas_cu12-12.5.3.2-py3-none-manylinux2014_x86_64.whl\nFile was already downloaded /c/nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl\nSuccessfully downloaded x\n';
  const files = inScripts({ 'cudaLibraries.mjs': ['pipChosenFiles'] }, `console.log(JSON.stringify(pipChosenFiles(${JSON.stringify(pip)})));`);
  assert.deepEqual(files, [
    './cache/nvidia_cublas_cu12-12.5.3.2-py3-none-manylinux2014_x86_64.whl',
    '/c/nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl',
  ]);
});

test("deps/: libtensorflow in lib, the CUDA libraries at nvidia/<pkg>/lib (the wheel's RUNPATH $ORIGIN/../nvidia) and linked into lib", (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-deps-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const cache = path.join(dir, 'cache');
  for (const f of [
    'lib/libtensorflow_cc.so.2',
    'lib/libtensorflow_framework.so.2',
    'include/tensorflow/c/c_api.h',
    'nvidia/cudnn/lib/libcudnn.so.9',
    'nvidia/cublas/lib/libcublas.so.12',
  ]) {
    fs.mkdirSync(path.dirname(path.join(cache, f)), { recursive: true });
    fs.writeFileSync(path.join(cache, f), f);
  }
  const pkgDir = path.join(dir, 'pkg');
  fs.mkdirSync(pkgDir);
  inScripts({ 'deps.mjs': ['populateDeps'] }, `populateDeps({ cacheDir: ${JSON.stringify(cache)}, pkgDir: ${JSON.stringify(pkgDir)} }); console.log('{}');`);
  const deps = path.join(pkgDir, 'deps');
  assert.equal(fs.readFileSync(path.join(deps, 'nvidia/cudnn/lib/libcudnn.so.9'), 'utf8'), 'nvidia/cudnn/lib/libcudnn.so.9');
  assert.equal(fs.readFileSync(path.join(deps, 'lib/libcublas.so.12'), 'utf8'), 'nvidia/cublas/lib/libcublas.so.12');
  assert.equal(fs.readlinkSync(path.join(deps, 'lib/libtensorflow.so')), 'libtensorflow_cc.so.2');
  assert.ok(fs.existsSync(path.join(deps, 'include/tensorflow/c/c_api.h')));
});

/** What identifies the CPU build's files: a rebuild or a rewrite changes inode, size or mtime. */
function cpuBuildState(): string {
  const pkg = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
  const files = ['lib/napi-v8/tfjs_binding.node', 'deps/lib/libtensorflow_cc.so.2', 'deps/lib/libtensorflow_framework.so.2', 'binding/tfjs_backend.cc'];
  return files
    .map((f) => {
      const s = fs.statSync(path.join(pkg, f), { throwIfNoEntry: false });
      return `${f} ${s ? `${s.ino} ${s.size} ${s.mtimeMs}` : 'absent'}`;
    })
    .join('\n');
}

test('for real: --gpu where pip has no tensorflow wheel stops at step 2 saying the offline way, exit 1, CPU and GPU builds untouched', (t) => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return t.skip('the recipe is for linux-x64');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-setup-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'links'));
  const marker = path.join(root, 'native-gpu', 'transfer-lab-native.json');
  const before = [cpuBuildState(), fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : 'no GPU build'];
  // A pip with no index at all (no config files, an empty links folder): as where only tensorflow-cpu is published.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRANSFER_LAB_CACHE: path.join(dir, 'cache'),
    PIP_CONFIG_FILE: os.devNull,
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: path.join(dir, 'links'),
  };
  delete env.TRANSFER_LAB_TF_WHEEL;
  delete env.TRANSFER_LAB_NATIVE_OPTIONAL;
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'setup-native.mjs'), '--gpu'], { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /step 2: pip download tensorflow==2\.21\.0/);
  assert.match(r.stderr, /FAILED at step 2 \(TensorFlow libraries from the tensorflow \(GPU\) wheel\): .*pip download.*tensorflow==2\.21\.0/);
  assert.match(r.stderr, /No matching distribution found for tensorflow==2\.21\.0/);
  assert.match(
    r.stderr,
    /what to do: pip needs an index with tensorflow==2\.21\.0 .*or download the wheel elsewhere and set TRANSFER_LAB_TF_WHEEL=\/path\/to\/tensorflow-2\.21\.0-\*\.whl \(and TRANSFER_LAB_CUDA_WHEELS=.*or --system-cuda/,
  );
  assert.deepEqual([cpuBuildState(), fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8') : 'no GPU build'], before);
  assert.deepEqual(
    fs.readdirSync(path.join(dir, 'cache')).filter((f) => !f.startsWith('logs')),
    [],
    'no half-made cache is left',
  );

  const typo = spawnSync(process.execPath, [path.join(root, 'scripts', 'setup-native.mjs'), '--gpux'], { encoding: 'utf8', env });
  assert.equal(typo.status, 1);
  assert.match(typo.stderr, /FAILED at options: unknown option --gpux/);
});
