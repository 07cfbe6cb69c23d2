// Where "Install Native Backend" keeps native TensorFlow, and how the trainer finds it.
// Layout under <global storage>/native/:
//   current.json                      { "folder": "<name>" }: the one complete install
//   <name>/transfer-lab-native.json   what was installed, from where (InstalledNative)
//   <name>/node_modules/@tensorflow/tfjs-node/{package.json,dist,lib/napi-v8,deps/lib}
//   .partial-*                        an install in progress (never read; removed by the next)
// current.json is written last (atomic rename), so a half-done install is never used.
// No vscode and no tfjs imports: the extension, the trainer and the CLI all read this.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Module from 'node:module';

export const MARKER_FILE = 'transfer-lab-native.json';
export const CURRENT_FILE = 'current.json';

export type NativeVariant = 'cpu' | 'gpu';

/** One downloaded (or local) archive of an install, as checked. */
export interface NativeSourceRecord {
  what: 'libtensorflow' | 'binding';
  /** The URL it came from, or the local file it was read from. */
  from: string;
  bytes: number;
  sha256: string;
  /** How its integrity was checked ("md5 from x-goog-hash", "sha256 pinned", "size only"). */
  checked: string;
}

export interface InstalledNative {
  tfjsNode: string;
  libtensorflow: string;
  variant: NativeVariant;
  platform: string;
  installedAt: string;
  sources: NativeSourceRecord[];
}

export function nativeInstallDirOf(storageDir: string): string {
  return path.join(storageDir, 'native');
}

/** The complete install in `nativeInstallDir`, if there is one (a root with node_modules/@tensorflow/tfjs-node). */
export function readInstalledNative(nativeInstallDir: string): { root: string; info: InstalledNative } | undefined {
  try {
    const current = JSON.parse(fs.readFileSync(path.join(nativeInstallDir, CURRENT_FILE), 'utf8')) as { folder?: unknown };
    if (typeof current.folder !== 'string' || current.folder.includes('/') || current.folder.includes('\\') || current.folder.startsWith('.')) return undefined;
    const root = path.join(nativeInstallDir, current.folder);
    const info = JSON.parse(fs.readFileSync(path.join(root, MARKER_FILE), 'utf8')) as InstalledNative;
    return { root, info };
  } catch {
    return undefined;
  }
}

/** Whether `root` is one of our installs (it holds tfjs-node's code but not its dependencies). */
export function isInstalledNativeRoot(root: string): boolean {
  return fs.existsSync(path.join(root, MARKER_FILE));
}

/**
 * An install holds only tfjs-node itself; what it requires (@tensorflow/tfjs, node-pre-gyp,
 * google-protobuf) is the copy this program ships, so one tfjs-core serves the process.
 * Node resolves bare requires from a package's own folders upward and then from NODE_PATH,
 * which it reads at start-up: _initPaths re-reads it (the documented NODE_PATH behaviour,
 * applied late).
 */
export function resolveDependenciesFrom(installRoot: string): void {
  const dir = path.join(installRoot, 'node_modules');
  const current = (process.env.NODE_PATH ?? '').split(path.delimiter).filter(Boolean);
  if (current.includes(dir)) return;
  process.env.NODE_PATH = [...current, dir].join(path.delimiter);
  (Module as unknown as { _initPaths(): void })._initPaths();
}
