// probe.json: what one layer probe measured (a backbone on an experiment's dataset): per
// block the output shape, the linear probe's accuracy and LogME, the backbone's score and the
// recommendation. Written by the engine (CLI or trainer) under .transferlab/probes/, read by
// Show Layers and the wizard, and sent over the trainer protocol as it is. Defined once here;
// every reader parses it.
import * as v from 'valibot';
import { count } from './messageProtocol';

export const PROBE_FORMAT = 1;

const finite = v.pipe(v.number(), v.finite());
const accuracy = v.pipe(v.number(), v.minValue(0), v.maxValue(1));

export const ProbeBlockSchema = v.object({
  /** The block as Show Layers names it (core/layerBlocks.ts, else the layer-name prefix); the cut layer itself when it ends no block. */
  block: v.string(),
  /** The layer whose output is probed: the block's last layer. */
  layer: v.string(),
  /** The block's first layer: where fine-tuning "from this block" starts. */
  firstLayer: v.string(),
  /** Its output shape without the batch dimension; features are its global average over space. */
  shape: v.array(count),
  features: count,
  accuracy,
  accuracyOn: v.picklist(['val', 'train (leave-one-out)']),
  trainAccuracy: accuracy,
  /** LogME per sample, averaged over classes (You et al., ICML 2021): higher separates the classes better. */
  logme: finite,
  /** Ridge strength chosen by leave-one-out, relative to the mean eigenvalue. */
  lambda: finite,
  /** Time for this block's probe and LogME. */
  ms: finite,
});
export type ProbeBlock = v.InferOutput<typeof ProbeBlockSchema>;

const StrategySchema = v.variant('kind', [
  v.object({ kind: v.literal('feature-extraction') }),
  v.object({ kind: v.literal('fine-tune'), unfreezeFrom: v.optional(v.string()) }),
  v.object({ kind: v.literal('scratch') }),
]);

export const ProbeAdviceSchema = v.object({
  situation: v.picklist(['small-similar', 'small-different', 'large-similar', 'large-different']),
  strategy: StrategySchema,
  /** The layer to cut at, when it is not the backbone's usual cut. */
  cutAt: v.optional(v.string()),
  /** The block the recommendation cuts after or trains from. */
  block: v.optional(v.string()),
  title: v.string(),
  reason: v.string(),
  /** What was measured, in one sentence. */
  measured: v.string(),
  /** Transfer may not pay here: a study against scratch is the next step. */
  lowScore: v.boolean(),
});
export type ProbeAdvice = v.InferOutput<typeof ProbeAdviceSchema>;

export const ProbeFileSchema = v.object({
  format: v.literal(PROBE_FORMAT),
  experiment: v.string(),
  experimentFile: v.string(),
  /** Catalog id, path or URL of the backbone. */
  backbone: v.string(),
  /** The usual cut of the backbone (the last block probed ends there). */
  cutAt: v.string(),
  createdAt: v.string(),
  backend: v.string(),
  dataset: v.object({
    root: v.string(),
    classes: v.array(v.string()),
    train: count,
    val: count,
    /** Training images per class used (the mean over classes). */
    imagesPerClass: finite,
    maxPerClass: v.optional(count),
  }),
  blocks: v.array(ProbeBlockSchema),
  /** The backbone's transferability score: the highest LogME over its blocks, and where. */
  score: v.object({ logme: finite, block: v.string() }),
  advice: ProbeAdviceSchema,
  timings: v.object({ loadMs: finite, featurizeMs: finite, probeMs: finite, totalMs: finite }),
  skipped: count,
});
export type ProbeFile = v.InferOutput<typeof ProbeFileSchema>;

/** Parses probe.json text; the error names the file and the field. */
export function parseProbeFile(text: string, file: string): { ok: true; value: ProbeFile } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${file}: not JSON (${(e as Error).message}). Run the probe again to rewrite it.` };
  }
  const result = v.safeParse(ProbeFileSchema, raw);
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  return { ok: false, error: `${file}: ${v.getDotPath(issue) ?? '(the file)'}: ${issue.message}. Run the probe again to rewrite it.` };
}

/** How probe.json names a backbone: its catalog id, path or URL. */
export const probeBackboneLabel = (b: { catalog: string } | { path: string } | { url: string }): string =>
  'catalog' in b ? b.catalog : 'path' in b ? b.path : b.url;

/** Where the probe of `experiment` with `backbone` lives: `<probesDir>/<experiment>-<backbone>.json`, names made file-safe. */
export function probeFileName(experiment: string, backbone: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'model';
  const base = backbone
    .replace(/\/model\.json$|\.(keras|h5|json)$/i, '')
    .split(/[\\/]/)
    .filter(Boolean)
    .slice(-2)
    .join('-');
  return `${safe(experiment)}-${safe(base)}.json`;
}

/** The probes folder beside a runs folder: `.transferlab/runs` -> `.transferlab/probes`. */
export function probesDirFor(runsDir: string): string {
  const parent = runsDir.replace(/[\\/]+$/, '').replace(/[\\/][^\\/]*$/, '');
  return `${parent || '.'}/probes`;
}
