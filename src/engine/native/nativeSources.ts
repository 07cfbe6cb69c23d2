// What tfjs-node's own installer (its scripts/install.js and node-pre-gyp) downloads for this
// platform, from the same hosts and honouring the same mirror variables, so a firewall rule
// or mirror set up for `npm install @tensorflow/tfjs-node` works for Install Native Backend:
//   libtensorflow  ${TFJS_NODE_BASE_URI:-${TFJS_NODE_CDN_STORAGE:-https://storage.googleapis.com/}tensorflow/libtensorflow/libtensorflow-}<cpu|gpu>-<os>-x86_64-2.9.1.tar.gz
//   the binding    ${TFJS_NODE_CDN_STORAGE:-https://storage.googleapis.com/}tf-builds/pre-built-binary/napi-v8/<version>/<CPU|GPU>-<os>-<version>.tar.gz
// (node-pre-gyp's own mirror variable, npm_config_tfjs_binding_binary_host_mirror, replaces
// the binding's host the way it does for npm.)
import type { NativeVariant } from './installedBackend';

/** tfjs-node versions we know the libtensorflow of (its scripts/deps-constants.js). */
const LIBTENSORFLOW_OF: Record<string, string> = { '4.22.0': '2.9.1' };
/** N-API version node-pre-gyp picks for tfjs-node 4.x on Node >= 16 (napi_versions 3..8). */
export const NAPI_VERSION = 8;

export interface NativeDownload {
  what: 'libtensorflow' | 'binding';
  url: string;
  /** Name of the file as the host has it. */
  fileName: string;
}

export interface NativePlan {
  tfjsNode: string;
  libtensorflow: string;
  variant: NativeVariant;
  platform: string;
  downloads: NativeDownload[];
}

export class UnsupportedPlatformError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPlatformError';
  }
}

/** Where the variant's files come from here, or why this platform has none. */
export function nativePlan(
  tfjsNodeVersion: string,
  variant: NativeVariant,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): NativePlan {
  const where = `${platform}-${arch}`;
  if (platform === 'win32') {
    throw new UnsupportedPlatformError(
      `tfjs-node publishes no prebuilt binding for Windows after version 3.18, so there is nothing to download for ${where}. Transfer Lab keeps training on WebAssembly here; to use native TensorFlow, train from WSL or a Linux machine (or build tfjs-node yourself and set transferLab.nativeBackendPath).`,
    );
  }
  const osName = platform === 'linux' ? 'linux' : platform === 'darwin' ? 'darwin' : undefined;
  if (!osName || arch !== 'x64') {
    throw new UnsupportedPlatformError(
      `tfjs-node publishes prebuilt binaries for Linux and macOS on x86-64 only, not for ${where}. Transfer Lab keeps training on WebAssembly here; to use native TensorFlow, build tfjs-node for this machine and set transferLab.nativeBackendPath.`,
    );
  }
  if (variant === 'gpu' && osName !== 'linux') {
    throw new UnsupportedPlatformError(`tfjs-node's GPU build (CUDA) exists for Linux only, not for ${where}. Install the CPU build instead.`);
  }
  const libtensorflow = LIBTENSORFLOW_OF[tfjsNodeVersion];
  if (!libtensorflow) {
    throw new UnsupportedPlatformError(
      `this Transfer Lab ships tfjs-node ${tfjsNodeVersion}, whose libtensorflow version it does not know (known: ${Object.keys(LIBTENSORFLOW_OF).join(', ')}).`,
    );
  }
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== '');
  const baseHost = withSlash(pick('TFJS_NODE_CDN_STORAGE', 'npm_config_TFJS_NODE_CDN_STORAGE', 'CDN_STORAGE') ?? 'https://storage.googleapis.com/');
  const baseUri = pick('TFJS_NODE_BASE_URI', 'npm_config_TFJS_NODE_BASE_URI') ?? `${baseHost}tensorflow/libtensorflow/libtensorflow-`;
  const bindingHost = withSlash(pick('npm_config_tfjs_binding_binary_host_mirror') ?? `${baseHost}tf-builds/pre-built-binary/`);
  const libName = `${variant}-${osName}-x86_64-${libtensorflow}.tar.gz`;
  const bindingName = `${variant.toUpperCase()}-${osName}-${tfjsNodeVersion}.tar.gz`;
  return {
    tfjsNode: tfjsNodeVersion,
    libtensorflow,
    variant,
    platform: where,
    downloads: [
      { what: 'libtensorflow', url: `${baseUri}${libName}`, fileName: `libtensorflow-${libName}` },
      { what: 'binding', url: `${bindingHost}napi-v${NAPI_VERSION}/${tfjsNodeVersion}/${bindingName}`, fileName: bindingName },
    ],
  };
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** The md5 (hex) a Google Cloud Storage response states for its body (x-goog-hash: crc32c=…,md5=<base64>). */
export function statedMd5(headers: Headers): string | undefined {
  const header = headers.get('x-goog-hash');
  const m = header?.match(/(?:^|,)\s*md5=([A-Za-z0-9+/=]+)/);
  return m ? Buffer.from(m[1], 'base64').toString('hex') : undefined;
}
