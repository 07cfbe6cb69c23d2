// Install Native Backend against a loopback mirror of storage.googleapis.com (test/support/
// nativeMirror.mjs: the hosts' archive layout, built from this machine's offline build):
// the URLs tfjs-node's installer uses and its mirror variables, md5 from x-goog-hash, a cut
// connection, cancel, local archives, and the real trainer loading the install.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installNativeBackend, NativeInstallError } from '../../src/engine/native/nativeInstall';
import { nativePlan, UnsupportedPlatformError } from '../../src/engine/native/nativeSources';
import { readInstalledNative } from '../../src/engine/native/installedBackend';
import { TrainerProcess } from '../../src/extension/trainerProcess';
import type { EnvironmentReport, TrainerMessage } from '../../src/core/protocol';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types)
import { buildNativeMirror, serveNativeMirror, LIB_PATH, BINDING_PATH } from '../support/nativeMirror.mjs';

const repo = path.resolve(__dirname, '../../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-native-'));
let mirrorDir: string;

before(async () => {
  mirrorDir = await buildNativeMirror(repo);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Everything in an install folder except complete installs and current.json: must be nothing after any failure. */
function leftovers(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith('.')) : [];
}

test('the URLs are the ones tfjs-node 4.22 downloads, and its mirror variables move them', () => {
  const plain = nativePlan('4.22.0', 'cpu', {}, 'linux', 'x64');
  assert.deepEqual(
    plain.downloads.map((d) => d.url),
    [
      'https://storage.googleapis.com/tensorflow/libtensorflow/libtensorflow-cpu-linux-x86_64-2.9.1.tar.gz',
      'https://storage.googleapis.com/tf-builds/pre-built-binary/napi-v8/4.22.0/CPU-linux-4.22.0.tar.gz',
    ],
  );
  const gpu = nativePlan('4.22.0', 'gpu', { TFJS_NODE_CDN_STORAGE: 'https://mirror.example/gcs' }, 'linux', 'x64');
  assert.deepEqual(
    gpu.downloads.map((d) => d.url),
    [
      'https://mirror.example/gcs/tensorflow/libtensorflow/libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz',
      'https://mirror.example/gcs/tf-builds/pre-built-binary/napi-v8/4.22.0/GPU-linux-4.22.0.tar.gz',
    ],
  );
  const base = nativePlan('4.22.0', 'cpu', { TFJS_NODE_BASE_URI: 'https://libs.example/tf-' }, 'darwin', 'x64');
  assert.equal(base.downloads[0].url, 'https://libs.example/tf-cpu-darwin-x86_64-2.9.1.tar.gz');
  assert.throws(
    () => nativePlan('4.22.0', 'cpu', {}, 'win32', 'x64'),
    (e: Error) =>
      e instanceof UnsupportedPlatformError && /no prebuilt binding for Windows after version 3\.18/.test(e.message) && /WebAssembly/.test(e.message),
  );
  assert.throws(() => nativePlan('4.22.0', 'cpu', {}, 'linux', 'arm64'), /x86-64 only, not for linux-arm64/);
  assert.throws(() => nativePlan('4.22.0', 'gpu', {}, 'darwin', 'x64'), /GPU build \(CUDA\) exists for Linux only/);
});

test('installs from the mirror, checks md5, switches atomically, and the real trainer then trains on it', async () => {
  const dir = path.join(tmp, 'ok');
  const mirror = await serveNativeMirror(mirrorDir);
  const seen: string[] = [];
  try {
    const result = await installNativeBackend({
      nativeInstallDir: dir,
      installRoot: repo,
      variant: 'cpu',
      env: { TFJS_NODE_CDN_STORAGE: mirror.url },
      onProgress: (p) => seen.push(`${p.fraction.toFixed(2)} ${p.message}`),
    });
    assert.deepEqual(mirror.requests, [`GET /${LIB_PATH}`, `GET /${BINDING_PATH}`]);
    assert.equal(result.tensorflowVersion, '2.21.0');
    assert.ok(
      seen.some((s) => /Downloading libtensorflow: .* of /.test(s)),
      seen.join('\n'),
    );
    assert.ok(seen.some((s) => /Checking that TensorFlow loads/.test(s)));
    const installed = readInstalledNative(dir);
    assert.ok(installed);
    assert.equal(installed.root, result.root);
    assert.deepEqual(
      installed.info.sources.map((s) => [s.what, s.checked.includes('md5 from the x-goog-hash')]),
      [
        ['libtensorflow', true],
        ['binding', true],
      ],
    );
    assert.deepEqual(leftovers(dir), [], 'no partial folder or download is left');
  } finally {
    await mirror.close();
  }
  // The trainer (dist/trainer.js, loading from the repo whose own tfjs-node also works) picks
  // the install first, with its dependencies from our node_modules.
  const messages: TrainerMessage[] = [];
  const trainer = new TrainerProcess(
    { script: path.join(repo, 'dist', 'trainer.js'), startTimeoutMs: 30_000, deadlineMs: 120_000 },
    { kind: 'environment' },
    { backend: 'auto', nativeInstallDir: dir },
    (m) => messages.push(m),
  );
  assert.deepEqual(await trainer.outcome, { ok: true });
  const report = (messages.find((m) => m.type === 'environment') as { report: EnvironmentReport }).report;
  assert.equal(report.backend, 'tensorflow');
  assert.equal(report.tensorflowVersion, '2.21.0');
  assert.equal(report.tfjsRoot, readInstalledNative(dir)!.root);
});

test('a wrong md5, a cut connection and a cancel leave nothing installed and say what happened', async () => {
  const dir = path.join(tmp, 'bad');
  const bad = await serveNativeMirror(mirrorDir, { corruptMd5: true });
  try {
    await assert.rejects(
      installNativeBackend({ nativeInstallDir: dir, installRoot: repo, variant: 'cpu', env: { TFJS_NODE_CDN_STORAGE: bad.url } }),
      (e: Error) =>
        e instanceof NativeInstallError &&
        e.kind === 'checksum' &&
        e.message.includes(LIB_PATH) &&
        /the server states [0-9a-f]{32} in x-goog-hash/.test(e.message),
    );
  } finally {
    await bad.close();
  }
  const cut = await serveNativeMirror(mirrorDir, { cutAfterBytes: 5_000_000 });
  try {
    await assert.rejects(
      installNativeBackend({ nativeInstallDir: dir, installRoot: repo, variant: 'cpu', env: { TFJS_NODE_CDN_STORAGE: cut.url } }),
      (e: Error) =>
        e instanceof NativeInstallError && e.kind === 'download' && /closed after|connection failed/.test(e.message) && /Install from Files/.test(e.hint ?? ''),
    );
  } finally {
    await cut.close();
  }
  const slow = await serveNativeMirror(mirrorDir);
  const controller = new AbortController();
  try {
    await assert.rejects(
      installNativeBackend({
        nativeInstallDir: dir,
        installRoot: repo,
        variant: 'cpu',
        env: { TFJS_NODE_CDN_STORAGE: slow.url },
        signal: controller.signal,
        onProgress: (p) => p.fraction > 0.05 && controller.abort(),
      }),
      (e: Error) => e instanceof NativeInstallError && e.kind === 'cancelled',
    );
  } finally {
    await slow.close();
  }
  assert.equal(readInstalledNative(dir), undefined, 'no install is current');
  assert.deepEqual(leftovers(dir), []);
  assert.deepEqual(fs.readdirSync(dir), [], 'nothing at all was kept');
});

test('offline: the two archives from local files, and a wrong file is named', async () => {
  const dir = path.join(tmp, 'local');
  const lib = path.join(mirrorDir, LIB_PATH);
  const binding = path.join(mirrorDir, BINDING_PATH);
  await assert.rejects(
    installNativeBackend({ nativeInstallDir: dir, installRoot: repo, variant: 'cpu', localFiles: { libtensorflow: binding, binding: lib } }),
    (e: Error) => e instanceof NativeInstallError && e.kind === 'archive' && e.message.includes(binding) && /holds none of the expected files/.test(e.message),
  );
  const result = await installNativeBackend({ nativeInstallDir: dir, installRoot: repo, variant: 'cpu', localFiles: { libtensorflow: lib, binding } });
  assert.equal(result.tensorflowVersion, '2.21.0');
  assert.deepEqual(
    readInstalledNative(dir)!.info.sources.map((s) => s.from),
    [lib, binding],
  );
});
