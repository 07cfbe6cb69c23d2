// Where a Keras Applications weight file may come from, before anything is read: the override
// manifest (TRANSFER_LAB_KERAS_WEIGHTS), the mirror (TRANSFER_LAB_KERAS_MIRROR), Keras's own
// URL and hash, and Keras's own cache folder. kerasWeights.ts describes the order and checks.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelDownloadError } from './errors';
import type { DownloadLimits } from './httpClient';

export type HashAlgorithm = 'sha256' | 'md5';

/** What to fetch: a catalog entry's Keras weight file. */
export interface KerasWeightsRequest {
  /** Catalog id (messages, and the key of the override manifest). */
  entryId: string;
  /** The URL Keras downloads. */
  url: string;
  /** Keras's cache name, `~/.keras/models/<fileName>`. */
  fileName: string;
  /** The hash Keras lists, or null (MobileNet, MobileNetV2). */
  hash: string | null;
  hashAlgorithm: HashAlgorithm | null;
  /** About how many bytes (for progress and the size limit). */
  approxBytes?: number;
}

export interface KerasWeightsOptions extends DownloadLimits {
  cacheDir: string;
  onProgress?: (loadedBytes: number, totalBytes?: number) => void;
  /** Aborting it stops a download ('cancelled'). */
  signal?: AbortSignal;
  /** Base URL replacing `https://storage.googleapis.com/`; default: TRANSFER_LAB_KERAS_MIRROR. */
  mirror?: string;
  /** Override manifest; default: TRANSFER_LAB_KERAS_WEIGHTS. */
  overridesFile?: string;
  /** Keras's home folder (its cache is `<home>/models`); default as Keras decides; false: never look. */
  kerasHome?: string | false;
  /** Where the defaults above are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export const KERAS_MIRROR_ENV = 'TRANSFER_LAB_KERAS_MIRROR';
export const KERAS_WEIGHTS_ENV = 'TRANSFER_LAB_KERAS_WEIGHTS';
const GOOGLE_STORAGE = 'https://storage.googleapis.com/';

export interface Expected {
  algorithm: HashAlgorithm;
  hash: string;
  /** Who says so, for messages: "the md5 Keras lists", "the sha256 in <manifest>", "the sha256 recorded …". */
  by: string;
}

/** The request after the override manifest and the mirror: where to look, what to expect. */
export interface Effective {
  source: { url: string } | { path: string };
  /** null: Keras lists no hash and nothing is recorded yet (trust on first use). */
  expected: Expected | null;
  override?: string;
  /** The index key of this file in our cache. */
  key: string;
  /** Look in Keras's cache too (not for override files pointing elsewhere with other hashes). */
  kerasFileName: string;
}

const HEX = /^[0-9a-f]+$/i;

function envOf(opts: KerasWeightsOptions): NodeJS.ProcessEnv {
  return opts.env ?? process.env;
}

/** Keras's `https://storage.googleapis.com/…` URL under a mirror base. */
export function mirroredUrl(url: string, mirror: string | undefined): string {
  if (!mirror || !url.startsWith(GOOGLE_STORAGE)) return url;
  return `${mirror.replace(/\/+$/, '')}/${url.slice(GOOGLE_STORAGE.length)}`;
}

function overrideError(file: string, message: string): ModelDownloadError {
  return new ModelDownloadError('bad-model-json', `${KERAS_WEIGHTS_ENV}=${file}: ${message}`);
}

/**
 * The override manifest's entry for `entryId`, checked; undefined when there is none. Read
 * synchronously: this runs in the trainer, the CLI and the extension host's disk worker
 * (diskWorker.ts resolves the download URLs the wizard probes), never on the host's thread.
 */
function readOverride(file: string, entryId: string): { source: { url: string } | { path: string }; expected: Expected } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw overrideError(
      file,
      code ? `cannot read the override manifest (${code === 'ENOENT' ? 'no such file' : code}).` : `not valid JSON (${(e as Error).message.split('\n')[0]}).`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw overrideError(file, 'the override manifest must be a JSON object: { "<catalog id>": { "url": "…", "sha256": "…" } }.');
  const entry = (parsed as Record<string, unknown>)[entryId];
  if (entry === undefined) return undefined;
  const e = entry as Record<string, unknown>;
  if (!e || typeof e !== 'object') throw overrideError(file, `'${entryId}' must be an object with "url" or "path", and "sha256" or "md5".`);
  const where = typeof e.url === 'string' ? { url: e.url } : typeof e.path === 'string' ? { path: path.resolve(path.dirname(file), e.path) } : undefined;
  if (!where) throw overrideError(file, `'${entryId}' names no "url" or "path" for the weight file.`);
  const algorithm: HashAlgorithm | undefined = typeof e.sha256 === 'string' ? 'sha256' : typeof e.md5 === 'string' ? 'md5' : undefined;
  const hash = algorithm ? String(e[algorithm]).toLowerCase() : undefined;
  if (!algorithm || !hash || !HEX.test(hash) || hash.length !== (algorithm === 'sha256' ? 64 : 32)) {
    throw overrideError(
      file,
      `'${entryId}' needs the file's "sha256" (64 hex digits; \`sha256sum file.h5\` prints it) or "md5" (32), so the weights can be checked.`,
    );
  }
  return { source: where, expected: { algorithm, hash, by: `the ${algorithm} in ${file}` } };
}

export function effectiveRequest(req: KerasWeightsRequest, opts: KerasWeightsOptions): Effective {
  const env = envOf(opts);
  const overridesFile = opts.overridesFile ?? env[KERAS_WEIGHTS_ENV];
  const override = overridesFile ? readOverride(path.resolve(overridesFile), req.entryId) : undefined;
  const mirror = opts.mirror ?? env[KERAS_MIRROR_ENV];
  if (override) {
    const source = 'url' in override.source ? { url: mirroredUrl(override.source.url, mirror) } : override.source;
    return {
      source,
      expected: override.expected,
      override: path.resolve(overridesFile!),
      key: `${override.expected.algorithm}:${override.expected.hash}`,
      kerasFileName: req.fileName,
    };
  }
  const expected: Expected | null =
    req.hash && req.hashAlgorithm
      ? { algorithm: req.hashAlgorithm, hash: req.hash.toLowerCase(), by: `the ${req.hashAlgorithm} Keras lists for ${req.fileName}` }
      : null;
  return {
    source: { url: mirroredUrl(req.url, mirror) },
    expected,
    key: expected ? `${expected.algorithm}:${expected.hash}` : `unhashed:${req.url}`,
    kerasFileName: req.fileName,
  };
}

/**
 * The URL a download of `req` would use (override manifest, then mirror, then Keras's), or
 * undefined when the override names a local file. A broken manifest is the download's to
 * report, with its details: here it counts as absent.
 */
export function kerasWeightsUrl(req: KerasWeightsRequest, opts: Pick<KerasWeightsOptions, 'env' | 'overridesFile' | 'mirror'> = {}): string | undefined {
  try {
    const { source } = effectiveRequest(req, opts as KerasWeightsOptions);
    return 'url' in source ? source.url : undefined;
  } catch {
    return mirroredUrl(req.url, opts.mirror ?? envOf(opts as KerasWeightsOptions)[KERAS_MIRROR_ENV]);
  }
}

/** Keras's cache files that may hold `fileName`, as keras.src.utils.file_utils.get_file places them. */
export function kerasCacheFiles(fileName: string, opts: Pick<KerasWeightsOptions, 'kerasHome' | 'env'> = {}): string[] {
  if (opts.kerasHome === false) return [];
  const env = opts.env ?? process.env;
  // keras.src.backend.config: KERAS_HOME, else ~/.keras, else (home not writable) /tmp/.keras;
  // get_file also falls back to /tmp/.keras when that folder is not writable.
  const tmpKeras = path.join(fs.existsSync('/tmp') ? '/tmp' : os.tmpdir(), '.keras');
  const writable = (d: string) => {
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  let home = opts.kerasHome ?? env.KERAS_HOME ?? (writable(os.homedir()) ? path.join(os.homedir(), '.keras') : tmpKeras);
  if (fs.existsSync(home) && !writable(home)) home = tmpKeras;
  return [path.join(path.resolve(home), 'models', fileName)];
}
