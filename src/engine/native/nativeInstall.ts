// Install Native Backend: tfjs-node's prebuilt binding and the libtensorflow archive (from
// the hosts tfjs-node's installer uses, or local copies) into native/ in the extension's
// global storage, next to a copy of tfjs-node's JavaScript that this program ships.
// Everything happens in a .partial-* folder: downloads are size- and checksum-checked, the
// archives extracted, the result loaded in a child process (matMul, TensorFlow's version),
// and only then is it renamed into place and current.json switched to it. A cancelled or
// failed install leaves nothing that is ever read. All file work is asynchronous: the
// extension host runs this.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import * as tar from 'tar';
import { DEFAULT_DOWNLOAD_LIMITS, httpGet } from '../download/httpClient';
import { ModelDownloadError, formatBytes } from '../download/errors';
import { CURRENT_FILE, MARKER_FILE, type InstalledNative, type NativeSourceRecord, type NativeVariant } from './installedBackend';
import { NAPI_VERSION, nativePlan, statedMd5, UnsupportedPlatformError, type NativeDownload, type NativePlan } from './nativeSources';

export interface InstallProgress {
  /** 0..1 over the whole install. */
  fraction: number;
  message: string;
}

export interface InstallNativeOptions {
  nativeInstallDir: string;
  /** The folder this program ships from: node_modules/@tensorflow/tfjs-node's JavaScript is copied from there. */
  installRoot: string;
  variant: NativeVariant;
  /** Local archives (offline): used instead of downloading that part. */
  localFiles?: Partial<Record<NativeDownload['what'], string>>;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (p: InstallProgress) => void;
  /** Told what will be downloaded (or read), before anything is. */
  onPlan?: (downloads: NativeDownload[]) => void;
  /** Node to load the result with for the check (default: this process's runtime, as Node). */
  nodePath?: string;
  stallTimeoutMs?: number;
}

export interface InstallResult {
  root: string;
  info: InstalledNative;
  tensorflowVersion: string;
  loadMs: number;
}

export type NativeInstallErrorKind = 'unsupported' | 'not-shipped' | 'download' | 'checksum' | 'archive' | 'load' | 'cancelled' | 'disk';

/** What went wrong, on which file or URL, and what to do. */
export class NativeInstallError extends Error {
  constructor(
    readonly kind: NativeInstallErrorKind,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'NativeInstallError';
  }
}

const OFFLINE_HINT =
  'Offline? Download the two files on a connected machine (the URLs are in the output) and choose "Install from Files…", or set TFJS_NODE_CDN_STORAGE to a mirror of https://storage.googleapis.com/.';
// Share of the progress bar per step (the libtensorflow download dominates).
const SHARE = { libtensorflow: 0.7, binding: 0.05, extract: 0.15, check: 0.1 };

/** The tfjs-node package this program ships (JavaScript only; its native parts are what we install). */
async function shippedTfjsNode(installRoot: string): Promise<{ dir: string; version: string }> {
  const dir = path.join(installRoot, 'node_modules', '@tensorflow', 'tfjs-node');
  try {
    const pj = JSON.parse(await fsp.readFile(path.join(dir, 'package.json'), 'utf8')) as { version?: string };
    await fsp.access(path.join(dir, 'dist', 'index.js'));
    return { dir, version: String(pj.version) };
  } catch {
    throw new NativeInstallError(
      'not-shipped',
      `this copy of Transfer Lab does not carry tfjs-node's JavaScript (${dir} is missing).`,
      'Reinstall the extension from its VSIX or the marketplace.',
    );
  }
}

export async function installNativeBackend(opts: InstallNativeOptions): Promise<InstallResult> {
  const progress = (fraction: number, message: string) => opts.onProgress?.({ fraction: Math.min(1, fraction), message });
  const shipped = await shippedTfjsNode(opts.installRoot);
  let plan: NativePlan;
  try {
    plan = nativePlan(shipped.version, opts.variant, opts.env);
    opts.onPlan?.(plan.downloads);
  } catch (e) {
    if (e instanceof UnsupportedPlatformError) throw new NativeInstallError('unsupported', e.message);
    throw e;
  }
  await fsp.mkdir(opts.nativeInstallDir, { recursive: true });
  await removeStalePartials(opts.nativeInstallDir);
  const work = await fsp.mkdtemp(path.join(opts.nativeInstallDir, '.partial-'));
  try {
    const archives: Record<string, { file: string; record: NativeSourceRecord }> = {};
    let done = 0;
    for (const d of plan.downloads) {
      const share = SHARE[d.what];
      const local = opts.localFiles?.[d.what];
      archives[d.what] = local
        ? await useLocal(d, local)
        : await download(d, path.join(work, 'downloads', d.fileName), opts, (f, msg) => progress(done + share * f, msg));
      done += share;
      throwIfCancelled(opts.signal);
    }
    const name = `tfjs-node-${plan.tfjsNode}-${plan.variant}-${plan.platform}-${Date.now().toString(36)}`;
    const root = path.join(work, name);
    const pkg = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
    progress(done, 'Extracting libtensorflow…');
    await extract(archives.libtensorflow.file, path.join(pkg, 'deps'), 0, (p) => p === 'LICENSE' || p.startsWith('lib/'), 'libtensorflow');
    await extract(archives.binding.file, path.join(pkg, 'lib', `napi-v${NAPI_VERSION}`), 1, (p) => p.endsWith('.node'), 'binding');
    await expectFile(path.join(pkg, 'lib', `napi-v${NAPI_VERSION}`, 'tfjs_binding.node'), archives.binding.record.from, 'tfjs_binding.node');
    await copyJavaScript(shipped.dir, pkg);
    done += SHARE.extract;
    throwIfCancelled(opts.signal);
    progress(done, 'Checking that TensorFlow loads…');
    const check = await checkLoads(pkg, opts);
    const info: InstalledNative = {
      tfjsNode: plan.tfjsNode,
      libtensorflow: check.tensorflowVersion || plan.libtensorflow,
      variant: plan.variant,
      platform: plan.platform,
      installedAt: new Date().toISOString(),
      sources: [archives.libtensorflow.record, archives.binding.record],
    };
    await fsp.writeFile(path.join(root, MARKER_FILE), JSON.stringify(info, null, 2));
    throwIfCancelled(opts.signal);
    // The switch: the folder moves into place, then current.json (rename, atomic) names it.
    const final = path.join(opts.nativeInstallDir, name);
    await fsp.rename(root, final);
    const tmp = path.join(opts.nativeInstallDir, `.${CURRENT_FILE}.${process.pid}`);
    await fsp.writeFile(tmp, JSON.stringify({ folder: name }));
    await fsp.rename(tmp, path.join(opts.nativeInstallDir, CURRENT_FILE));
    await removeOtherInstalls(opts.nativeInstallDir, name);
    progress(1, `Native TensorFlow ${info.libtensorflow} installed.`);
    return { root: final, info, tensorflowVersion: check.tensorflowVersion, loadMs: check.loadMs };
  } catch (e) {
    if (e instanceof NativeInstallError) throw e;
    if (e instanceof ModelDownloadError) {
      throw e.kind === 'cancelled'
        ? new NativeInstallError('cancelled', 'The install was cancelled; nothing was installed.')
        : new NativeInstallError('download', e.message, OFFLINE_HINT);
    }
    const err = e as NodeJS.ErrnoException;
    if (err?.code === 'ENOSPC')
      throw new NativeInstallError(
        'disk',
        `not enough disk space in ${opts.nativeInstallDir} (native TensorFlow needs about 1 GB while installing).`,
        'Free some space and try again.',
      );
    throw e;
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new NativeInstallError('cancelled', 'The install was cancelled; nothing was installed.');
}

async function useLocal(d: NativeDownload, file: string): Promise<{ file: string; record: NativeSourceRecord }> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(file);
  } catch {
    throw new NativeInstallError('archive', `${file}: no such file (the ${d.what} archive, ${d.fileName} from ${d.url}).`, 'Choose the file again.');
  }
  const sha256 = await hashFile(file);
  return { file, record: { what: d.what, from: file, bytes: st.size, sha256, checked: 'local file (its archive is checked as it is extracted)' } };
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function download(
  d: NativeDownload,
  toFile: string,
  opts: InstallNativeOptions,
  progress: (fraction: number, message: string) => void,
): Promise<{ file: string; record: NativeSourceRecord }> {
  let total: number | undefined;
  let got = 0;
  let last = 0;
  const label = d.what === 'libtensorflow' ? 'libtensorflow' : 'the tfjs-node binding';
  progress(0, `Downloading ${label}…`);
  await fsp.mkdir(path.dirname(toFile), { recursive: true });
  const result = await httpGet(d.url, {
    limits: { ...DEFAULT_DOWNLOAD_LIMITS, stallTimeoutMs: opts.stallTimeoutMs ?? 60_000, maxTotalBytes: 2 * 2 ** 30 },
    budget: 2 * 2 ** 30,
    toFile,
    signal: opts.signal,
    onResponse: (headers) => {
      const n = Number(headers.get('content-length') ?? NaN);
      total = Number.isFinite(n) && n > 0 ? n : undefined;
    },
    onBytes: (n) => {
      got += n;
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      progress(total ? got / total : 0, `Downloading ${label}: ${formatBytes(got)}${total ? ` of ${formatBytes(total)}` : ''}`);
    },
  });
  const stated = statedMd5(result.headers);
  if (stated && stated !== result.md5) {
    await fsp.rm(toFile, { force: true });
    throw new NativeInstallError(
      'checksum',
      `${d.url}: the download is corrupt (md5 ${result.md5}, the server states ${stated} in x-goog-hash).`,
      'Try again; if it keeps happening, the mirror serves a damaged file.',
    );
  }
  progress(1, `Downloaded ${label} (${formatBytes(result.size)})`);
  return {
    file: toFile,
    record: {
      what: d.what,
      from: d.url,
      bytes: result.size,
      sha256: result.sha256,
      checked: stated ? 'size, and md5 from the x-goog-hash header' : 'size (the server states no checksum); the archive is checked as it is extracted',
    },
  };
}

/** Extracts the entries `keep` accepts (paths without a leading ./, after `strip`) into `dir`. */
async function extract(file: string, dir: string, strip: number, keep: (p: string) => boolean, what: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  let kept = 0;
  try {
    await tar.x({
      file,
      cwd: dir,
      strip,
      strict: true,
      filter: (p) => {
        const rel = p.replace(/^\.\//, '').split('/').slice(strip).join('/');
        const ok = rel !== '' && keep(rel);
        if (ok) kept++;
        return ok;
      },
    });
  } catch (e) {
    throw new NativeInstallError('archive', `${file}: the ${what} archive is damaged or not a .tar.gz (${(e as Error).message}).`, 'Download it again.');
  }
  if (kept === 0)
    throw new NativeInstallError(
      'archive',
      `${file}: the ${what} archive holds none of the expected files.`,
      'Check that it is the right file (its name says cpu/gpu, the platform and the version).',
    );
}

async function expectFile(file: string, from: string, name: string): Promise<void> {
  try {
    await fsp.access(file);
  } catch {
    throw new NativeInstallError(
      'archive',
      `${from}: the archive holds no ${name}.`,
      "Check that it is tfjs-node's prebuilt binding archive for this version.",
    );
  }
}

/** tfjs-node's package.json and dist/ (its tests left out), so node-pre-gyp finds the binding next to them. */
async function copyJavaScript(from: string, to: string): Promise<void> {
  await fsp.copyFile(path.join(from, 'package.json'), path.join(to, 'package.json'));
  await fsp.cp(path.join(from, 'dist'), path.join(to, 'dist'), { recursive: true, filter: (src) => !/_test\.js$|\.d\.ts$/.test(src) });
}

// Loads the installed package the way the trainer will (its dependencies from our own
// node_modules) and multiplies two matrices.
const CHECK_SRC = `
const t0 = Date.now();
const tf = require(process.argv[1]);
if (tf.getBackend() !== 'tensorflow') { console.error('getBackend() is ' + tf.getBackend()); process.exit(3); }
const c = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).dataSync();
if (Array.from(c).join(',') !== '19,22,43,50') { console.error('matMul gave ' + Array.from(c)); process.exit(4); }
let v = ''; try { v = tf.backend().binding.TF_Version || ''; } catch {}
console.log(JSON.stringify({ tensorflowVersion: v, loadMs: Date.now() - t0 }));
`;

function checkLoads(pkg: string, opts: InstallNativeOptions): Promise<{ tensorflowVersion: string; loadMs: number }> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      ...opts.env,
      NODE_PATH: path.join(opts.installRoot, 'node_modules'),
      ELECTRON_RUN_AS_NODE: '1',
      TF_CPP_MIN_LOG_LEVEL: '2',
    };
    const child = spawn(opts.nodePath || process.execPath, ['-e', CHECK_SRC, pkg], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const onAbort = () => child.kill('SIGKILL');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => reject(new NativeInstallError('load', `could not start ${opts.nodePath || process.execPath} to check the install: ${e.message}`)));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (opts.signal?.aborted) return reject(new NativeInstallError('cancelled', 'The install was cancelled; nothing was installed.'));
      try {
        if (code === 0) return resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        /* fall through */
      }
      const why =
        err
          .trim()
          .split('\n')
          .filter((l) => /error|Error|cannot|undefined symbol|not found/.test(l))
          .slice(-3)
          .join(' | ') || err.trim().split('\n').slice(-3).join(' | ');
      reject(
        new NativeInstallError(
          'load',
          `the downloaded TensorFlow does not load here (${signal ?? `exit code ${code}`}: ${why || 'no message'}).`,
          'Nothing was installed. Check that the files match this platform and CPU/GPU variant, then try again.',
        ),
      );
    });
  });
}

/** A .partial-* folder older than an hour is a crashed or killed install. */
async function removeStalePartials(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (!name.startsWith('.partial-')) continue;
    const st = await fsp.stat(path.join(dir, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > 3600_000) await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

async function removeOtherInstalls(dir: string, keep: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    if (name !== keep && name.startsWith('tfjs-node-')) await fsp.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
