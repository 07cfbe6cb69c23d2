// transfer-lab catalog [--json]: the backbones a catalog id can name, what each expects and
// whether it is already here (bundled, or downloaded into the cache) or needs the internet.
// No TensorFlow.js is loaded: the catalog is data.
import { BACKBONE_CATALOG, type BackboneCatalogEntry } from '../core/backboneCatalog';
import { cachedModelInfo } from '../engine/modelCache';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, type CliContext } from './context';

export interface CatalogListing {
  id: string;
  title: string;
  format: BackboneCatalogEntry['format'];
  inputSize: [number, number, number];
  params: number | null;
  preprocessing: string;
  fineTunable: boolean;
  trainedOn: string;
  /** bundled: ships with Transfer Lab; cached: downloaded before, works offline; download: needs the internet. */
  availability: 'bundled' | 'cached' | 'download';
  downloadMB: number;
}

export function catalogListing(cacheDir: string): CatalogListing[] {
  return BACKBONE_CATALOG.map((e) => ({
    id: e.id,
    title: e.title,
    format: e.format,
    inputSize: e.inputSize,
    params: e.params,
    preprocessing: e.preprocessing,
    fineTunable: e.fineTunable,
    trainedOn: e.trainedOn,
    availability: e.source.kind === 'bundled' ? 'bundled' : e.source.kind === 'url' && cachedModelInfo(cacheDir, e.source.modelJsonUrl) ? 'cached' : 'download',
    downloadMB: e.downloadMB,
  }));
}

const fmtParams = (n: number | null) => (n === null ? '-' : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1e3)}k`);

export async function catalogCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) throw new UsageError(`catalog takes no arguments (got '${args.positionals[0]}'); use \`transfer-lab inspect <id>\` for one backbone's layers`);
  const rows = catalogListing(ctx.cacheDir);
  if (ctx.json) {
    ctx.out(JSON.stringify(rows));
    return EXIT.ok;
  }
  const table = rows.map((r) => [
    r.id,
    r.format,
    `${r.inputSize[0]}x${r.inputSize[1]}`,
    fmtParams(r.params),
    r.preprocessing,
    r.fineTunable ? 'yes' : 'no (feature extraction)',
    r.availability === 'download' ? `not downloaded yet (needs internet, ${r.downloadMB} MB)` : r.availability,
  ]);
  const head = ['id', 'format', 'input', 'params', 'pixels', 'fine-tunable', 'here'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  ctx.out([line(head), line(widths.map((w) => '-'.repeat(w))), ...table.map(line)].join('\n'));
  return EXIT.ok;
}
