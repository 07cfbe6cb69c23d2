// What the cache needs to know about a TF.js model.json: that it is one, which weight files
// its weightsManifest names (and that they stay inside the model's folder), where tfjs
// fetches them from, and how many bytes they should add up to.
import { ModelDownloadError } from './errors';

/**
 * Why a weightsManifest path is unsafe, or null when it is a plain relative path. Shared by
 * the URL cache and the local-file loader: the same rule for both.
 */
export function unsafeWeightPathReason(p: unknown): string | null {
  if (typeof p !== 'string' || p.length === 0) return 'it is not a non-empty string';
  if (p.includes('\0')) return 'it contains a NUL character';
  if (p.includes('\\')) return 'it contains a backslash';
  if (p.startsWith('/')) return 'it is an absolute path';
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p)) return 'it names another location (a URL scheme or drive letter)';
  if (p.includes('?') || p.includes('#')) return 'it contains a query or fragment';
  let decoded: string;
  try {
    decoded = decodeURIComponent(p);
  } catch {
    return 'it has invalid percent-encoding';
  }
  for (const candidate of [p, decoded]) {
    if (candidate.startsWith('/') || candidate.includes('\\')) return 'it is an absolute path once decoded';
    if (candidate.split('/').some((s) => s === '..' || s === '.')) return "it contains '..' or '.' segments";
  }
  return null;
}

export function weightPathError(p: unknown, modelJsonWhere: string, folder: string, reason: string): ModelDownloadError {
  return new ModelDownloadError(
    'weight-path',
    `${modelJsonWhere}: weight path '${String(p)}' is not allowed (${reason}): weight files must sit inside the model's folder ${folder}. ` +
      'This model.json is malformed or was tampered with; get the model from a trusted source.',
  );
}

/**
 * tfjs's rule: weights live at <folder of model.json> + path + <model.json's query> (so TF
 * Hub's and Kaggle's `?tfjs-format=file` reaches every weight file).
 */
export function resolveWeightUrl(modelJsonUrl: string, weightPath: string): string {
  const u = new URL(modelJsonUrl);
  const folder = new URL('.', u);
  const reason = unsafeWeightPathReason(weightPath);
  if (reason) throw weightPathError(weightPath, modelJsonUrl, folder.href, reason);
  const resolved = new URL(folder.href + weightPath + u.search);
  if (resolved.origin !== folder.origin || !resolved.pathname.startsWith(folder.pathname)) {
    throw weightPathError(weightPath, modelJsonUrl, folder.href, 'it resolves outside that folder');
  }
  return resolved.href;
}

/** The weightsManifest paths of a model.json, in order (throws on a malformed manifest). */
export function manifestPaths(modelJson: Record<string, unknown>, where: string): string[][] {
  const manifest = modelJson.weightsManifest;
  if (manifest === undefined) return [];
  if (!Array.isArray(manifest)) throw new ModelDownloadError('bad-model-json', `${where}: weightsManifest is not a list. Re-export or re-download the model.`);
  return manifest.map((group, i) => {
    const paths = (group as { paths?: unknown })?.paths;
    if (!Array.isArray(paths))
      throw new ModelDownloadError('bad-model-json', `${where}: weightsManifest[${i}].paths is not a list. Re-export or re-download the model.`);
    return paths as string[];
  });
}

/** Each weight file of a model.json with the URL it is fetched from (path checks included). */
export function weightFilesOf(modelJson: Record<string, unknown>, url: string): { path: string; url: string }[] {
  return manifestPaths(modelJson, url)
    .flat()
    .map((p) => ({ path: p, url: resolveWeightUrl(url, p) }));
}

/** Expected bytes of all weights from the manifest's specs (undefined when not computable). */
export function expectedWeightBytes(modelJson: Record<string, unknown>): number | undefined {
  const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };
  let total = 0;
  for (const group of (modelJson.weightsManifest as { weights?: unknown[] }[] | undefined) ?? []) {
    for (const w of (group.weights ?? []) as { shape?: number[]; dtype?: string; quantization?: { dtype?: string } }[]) {
      const dtype = w.quantization?.dtype ?? w.dtype ?? 'float32';
      if (!Array.isArray(w.shape) || !(dtype in bytesPer)) return undefined;
      total += w.shape.reduce((a, b) => a * b, 1) * bytesPer[dtype];
    }
  }
  return total;
}

/** The bytes as a TF.js model.json object, or 'bad-model-json' naming the URL. */
export function parseModelJson(data: Buffer, url: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (e) {
    throw new ModelDownloadError(
      'bad-model-json',
      `${url}: not a model.json (${(e as Error).message.split('\n')[0]}). Check that the URL points at a TF.js model.json.`,
      url,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !('modelTopology' in parsed)) {
    throw new ModelDownloadError('bad-model-json', `${url}: not a TF.js model.json (no modelTopology). Check that the URL points at a TF.js model.json.`, url);
  }
  return parsed as Record<string, unknown>;
}
