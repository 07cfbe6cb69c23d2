// transfer-lab catalog [--json]: the backbones a catalog id can name, what each expects and
// whether it is already here (bundled, downloaded into the cache, or, for a Keras
// Application, in Keras's own cache) or needs the internet. No TensorFlow.js is loaded: the
// catalog is data. Two tables: the TF.js-hosted and bundled models, then the Keras
// Applications (with ImageNet top-1 and Keras's weight file and hash); --json lists every
// entry with its URL and full hash.
import { BACKBONE_CATALOG, type BackboneCatalogEntry, type KerasWeightsFile } from '../core/backboneCatalog';
import { cachedModelInfo } from '../engine/modelCache';
import { kerasWeightsAvailability, KERAS_MIRROR_ENV, KERAS_WEIGHTS_ENV } from '../engine/download/kerasWeights';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, type CliContext } from './context';

export interface CatalogListing {
  id: string;
  title: string;
  family: BackboneCatalogEntry['family'];
  format: BackboneCatalogEntry['format'];
  /** bundled: ships with Transfer Lab; tfjs: a TF.js model.json URL; keras-application: shipped topology + Keras's weight file. */
  source: BackboneCatalogEntry['source']['kind'];
  inputSize: [number, number, number];
  params: number | null;
  preprocessing: string;
  /** ImageNet top-1 (%) of the full classifier, where its authors / keras.io report one. */
  imagenetTop1: number | null;
  fineTunable: boolean;
  trainedOn: string;
  /** What is downloaded: the model.json URL, or Keras's weight file URL; null when bundled. */
  url: string | null;
  /** Keras Applications: Keras's weight file, its hash (null where Keras lists none) and algorithm. */
  weights: KerasWeightsFile | null;
  /** bundled: ships with Transfer Lab; cached: downloaded before (or in Keras's cache), works offline; download: needs the internet. */
  availability: 'bundled' | 'cached' | 'download';
  /** Where a cached Keras weight file is (our cache or Keras's ~/.keras/models). */
  cachedFile?: string;
  downloadMB: number;
}

/** Whether one entry is here: shipped, in our cache (or Keras's), or to be downloaded. */
export function entryAvailability(
  e: BackboneCatalogEntry,
  cacheDir: string,
  env: NodeJS.ProcessEnv = process.env,
): { availability: CatalogListing['availability']; cachedFile?: string } {
  const s = e.source;
  if (s.kind === 'bundled') return { availability: 'bundled' };
  if (s.kind === 'url') return { availability: cachedModelInfo(cacheDir, s.modelJsonUrl) ? 'cached' : 'download' };
  const here = kerasWeightsAvailability({ entryId: e.id, ...s.weights }, { cacheDir, env });
  return here.state === 'download' ? { availability: 'download' } : { availability: 'cached', cachedFile: here.file };
}

export function catalogListing(cacheDir: string, env: NodeJS.ProcessEnv = process.env): CatalogListing[] {
  return BACKBONE_CATALOG.map((e): CatalogListing => {
    const s = e.source;
    const { availability, cachedFile } = entryAvailability(e, cacheDir, env);
    return {
      id: e.id,
      title: e.title,
      family: e.family,
      format: e.format,
      source: s.kind,
      inputSize: e.inputSize,
      params: e.params,
      preprocessing: e.preprocessing,
      imagenetTop1: e.imagenetTop1,
      fineTunable: e.fineTunable,
      trainedOn: e.trainedOn,
      url: s.kind === 'url' ? s.modelJsonUrl : s.kind === 'keras-application' ? s.weights.url : null,
      weights: s.kind === 'keras-application' ? s.weights : null,
      availability,
      ...(cachedFile ? { cachedFile } : {}),
      downloadMB: e.downloadMB,
    };
  });
}

const fmtParams = (n: number | null) => (n === null ? '-' : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1e3)}k`);
const here = (r: CatalogListing) => (r.availability === 'download' ? `not downloaded yet (needs internet, ${r.downloadMB} MB)` : r.availability);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export async function catalogCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0)
    throw new UsageError(`catalog takes no arguments (got '${args.positionals[0]}'); use \`transfer-lab inspect <id>\` for one backbone's layers`);
  const rows = catalogListing(ctx.cacheDir);
  if (ctx.json) {
    ctx.out(JSON.stringify(rows));
    return EXIT.ok;
  }
  const tfjs = rows.filter((r) => r.source !== 'keras-application');
  const keras = rows.filter((r) => r.source === 'keras-application');
  const first = table(
    ['id', 'format', 'input', 'params', 'pixels', 'fine-tunable', 'here'],
    tfjs.map((r) => [
      r.id,
      r.format,
      `${r.inputSize[0]}x${r.inputSize[1]}`,
      fmtParams(r.params),
      r.preprocessing,
      r.fineTunable ? 'yes' : 'no (feature extraction)',
      here(r),
    ]),
  );
  const second = table(
    ['id', 'input', 'params', 'pixels', 'top-1', 'here', 'weights (Keras file, hash)'],
    keras.map((r) => [
      r.id,
      `${r.inputSize[0]}x${r.inputSize[1]}`,
      fmtParams(r.params),
      r.preprocessing,
      r.imagenetTop1 === null ? '-' : `${r.imagenetTop1.toFixed(1)}%`,
      here(r),
      `${r.weights!.fileName} ${r.weights!.hash ? `${r.weights!.hashAlgorithm}:${r.weights!.hash.slice(0, 8)}…` : '(Keras lists no hash)'}`,
    ]),
  );
  ctx.out(
    [
      first,
      '',
      `Keras Applications (include_top=False; topology ships, ImageNet weights are Keras's own files, checked against Keras's hashes; fine-tunable):`,
      second,
      '',
      `Weights come from storage.googleapis.com as Keras downloads them (--json lists each URL and full hash); a copy in Keras's ~/.keras/models is used offline.`,
      `Behind a firewall: ${KERAS_MIRROR_ENV}=<base URL of a mirror>. Air-gapped: ${KERAS_WEIGHTS_ENV}=<override manifest> (see the README).`,
    ].join('\n'),
  );
  return EXIT.ok;
}
