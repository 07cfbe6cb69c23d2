// What the wizard's backbone step shows for each catalog entry (grouped by family: size,
// ImageNet top-1, input size, whether it is here or needs the internet), and the quick check
// of whether a not-yet-downloaded entry can be downloaded now, so the wizard says "offline"
// before the experiment is written instead of the run failing later. No `vscode` here: the
// unit tests read it; backbonePicker.ts turns it into quick pick items.
import type { BackboneCatalogEntry, BackboneFamily } from '../core/backboneCatalog';
import type { CatalogListing } from '../cli/catalogCommand';
import { kerasWeightsUrl } from '../engine/download/kerasWeights';

export type Availability = CatalogListing['availability'];

/** Group titles, in the words of each family's papers and keras.io. */
export const FAMILY_TITLES: Record<BackboneFamily, string> = {
  'fmnist-mini': 'Ships with Transfer Lab',
  mobilenet_v1: 'MobileNet v1',
  mobilenet_v2: 'MobileNet v2',
  mobilenet_v3: 'MobileNet v3',
  resnet: 'ResNet',
  resnet_v2: 'ResNet v2',
  vgg: 'VGG',
  inception_v3: 'Inception v3',
  inception_resnet_v2: 'Inception-ResNet v2',
  xception: 'Xception',
  densenet: 'DenseNet',
  efficientnet: 'EfficientNet',
  efficientnet_v2: 'EfficientNet v2',
  nasnet: 'NASNet',
  convnext: 'ConvNeXt',
};

export function formatParams(n: number | null): string | undefined {
  if (n === null) return undefined;
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M params` : `${Math.round(n / 1e3)}k params`;
}

/** As `transfer-lab catalog` writes sizes. */
const fmtMB = (mb: number) => `${mb} MB`;

/** "not downloaded yet (needs internet, 16.2 MB)", "downloaded", "ships with Transfer Lab". */
export function availabilityText(entry: Pick<BackboneCatalogEntry, 'downloadMB'>, availability: Availability): string {
  if (availability === 'bundled') return 'ships with Transfer Lab';
  if (availability === 'cached') return 'downloaded';
  return `not downloaded yet (needs internet, ${fmtMB(entry.downloadMB)})`;
}

const AVAILABILITY_ICON: Record<Availability, string> = { bundled: '$(package)', cached: '$(check)', download: '$(cloud-download)' };

export interface CatalogItemText {
  label: string;
  description: string;
  detail: string;
}

/**
 * One entry's quick pick texts. The label is the catalog id (what the experiment file says,
 * and what the filter matches first); the description the numbers; the detail whether it is
 * here, then its title.
 */
export function catalogItemText(e: BackboneCatalogEntry, availability: Availability): CatalogItemText {
  const size = [formatParams(e.params), e.downloadMB > 0 ? fmtMB(e.downloadMB) : undefined].filter(Boolean).join(', ');
  const quality =
    e.imagenetTop1 !== null ? `ImageNet top-1 ${e.imagenetTop1}%` : `trained on ${e.trainedOn.split(' (')[0].replace(/^./, (c) => c.toLowerCase())}`;
  const description = [size || undefined, quality, `${e.inputSize[0]}×${e.inputSize[1]} input`].filter(Boolean).join(' · ');
  const detail = [
    `${AVAILABILITY_ICON[availability]} ${availabilityText(e, availability)}`,
    e.title,
    e.format === 'graph' ? 'feature extraction only' : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  return { label: e.id, description, detail };
}

/** Entries by family, families in catalog order. */
export function catalogGroups(entries: readonly BackboneCatalogEntry[]): { family: BackboneFamily; title: string; entries: BackboneCatalogEntry[] }[] {
  const groups = new Map<BackboneFamily, BackboneCatalogEntry[]>();
  for (const e of entries) groups.set(e.family, [...(groups.get(e.family) ?? []), e]);
  return [...groups].map(([family, list]) => ({ family, title: FAMILY_TITLES[family] ?? family, entries: list }));
}

// ---- can it be downloaded now? --------------------------------------------------------

/**
 * The URL a run would download the entry from: the model.json, or Keras's weight file as
 * engine/download/kerasWeights.ts resolves it (override manifest, mirror). Undefined when
 * nothing is downloaded (bundled, or an override naming a local file).
 */
export function downloadUrlOf(e: BackboneCatalogEntry, env: NodeJS.ProcessEnv): string | undefined {
  const s = e.source;
  if (s.kind === 'bundled') return undefined;
  if (s.kind === 'url') return s.modelJsonUrl;
  return kerasWeightsUrl({ entryId: e.id, ...s.weights }, { env });
}

export type Reachability = { reachable: true } | { reachable: false; reason: string };

/** Node's fetch hides the socket error in `cause`: "getaddrinfo ENOTFOUND host", "connect ECONNREFUSED 127.0.0.1:9". */
function reasonOf(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  return err?.cause?.message ?? err?.cause?.code ?? err?.message ?? String(e);
}

/**
 * Whether the host of `url` answers at all (a HEAD request; any HTTP status counts as
 * reachable: the run reports a wrong status itself), within `timeoutMs`. Never throws.
 */
export async function probeReachable(url: string, timeoutMs = 4000, fetchImpl: typeof fetch = fetch): Promise<Reachability> {
  try {
    const res = await fetchImpl(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    void res.body?.cancel().catch(() => undefined);
    return { reachable: true };
  } catch (e) {
    return { reachable: false, reason: reasonOf(e, timeoutMs) };
  }
}

/** The wizard's warning when the chosen backbone is not here and its host cannot be reached. */
export function offlineMessage(e: BackboneCatalogEntry, url: string, reason: string): { message: string; detail: string } {
  let host = url;
  try {
    host = new URL(url).host;
  } catch {
    // keep the URL as it is
  }
  return {
    message: `Transfer Lab: ${e.id} is not downloaded yet (${fmtMB(e.downloadMB)}), and ${host}, where it downloads from, cannot be reached now (${reason}).`,
    detail:
      'A run of this experiment would stop at the download. Continue Anyway writes the experiment file now: run it once this machine is online (the download happens once, then it works offline). Or pick a backbone that is already here.',
  };
}
