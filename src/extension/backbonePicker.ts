// The wizard's backbone step: the catalog grouped by family (a separator per family), each
// entry with its size, ImageNet top-1, input size and whether it is here; then the user's own
// model (file or URL). Picking an entry that is not downloaded checks, without blocking the
// extension host, whether its host answers; when it does not, the wizard says so before
// anything is written: continue anyway (run later), pick another backbone, or cancel.
import * as vscode from 'vscode';
import { BACKBONE_CATALOG, type BackboneCatalogEntry } from '../core/backboneCatalog';
import type { BackboneSpec } from '../core/experiment';
import type { OffThread } from './offThread';
import { KERAS_WEIGHTS_ENV } from '../engine/download/kerasWeights';
import { catalogGroups, catalogItemText, downloadUrlOf, offlineMessage, probeReachable, type Availability, type Reachability } from './backboneChoices';

export type BackboneItem = vscode.QuickPickItem & { spec?: BackboneSpec; ask?: 'file' | 'url'; entry?: BackboneCatalogEntry };

/**
 * Whether each catalog entry is here (bundled, downloaded) or needs the internet; read when the
 * step opens, off the host's thread; `probes` learn there the URL each entry would be downloaded
 * from. Empty when the check fails: every entry then shows as its kind suggests (bundled, or to
 * download).
 */
export async function catalogAvailability(disk: OffThread, cacheDir: string, probes?: ReachabilityProbes): Promise<Map<string, Availability>> {
  try {
    const listing = await disk.run({ task: 'catalog', cacheDir });
    probes?.learn(listing.map(([id, , url]) => [id, url]));
    return new Map(listing.map(([id, availability]) => [id, availability]));
  } catch {
    return new Map();
  }
}

export function backboneItems(availability: ReadonlyMap<string, Availability>): BackboneItem[] {
  const items: BackboneItem[] = [];
  for (const g of catalogGroups(BACKBONE_CATALOG)) {
    items.push({ label: g.title, kind: vscode.QuickPickItemKind.Separator });
    for (const e of g.entries) {
      const here = availability.get(e.id) ?? (e.source.kind === 'bundled' ? 'bundled' : 'download');
      items.push({ ...catalogItemText(e, here), spec: { catalog: e.id }, entry: e });
    }
  }
  items.push(
    { label: 'Your own model', kind: vscode.QuickPickItemKind.Separator },
    { label: '$(file) Local model file…', description: 'a Keras .keras or .h5 model, or a TF.js model.json, on disk', ask: 'file' },
    { label: '$(globe) URL…', description: 'a model.json on the web', ask: 'url' },
  );
  return items;
}

/** One probe per URL for the wizard's lifetime: started when the step opens, awaited when an entry is picked. */
export class ReachabilityProbes {
  private readonly probes = new Map<string, Promise<Reachability>>();
  private readonly urls = new Map<string, string | null>();
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** Download URLs as the disk worker resolved them (override manifest, mirror): that file is read there, not on the host's thread. */
  learn(urls: Iterable<[id: string, url: string | null]>): void {
    for (const [id, url] of urls) this.urls.set(id, url);
  }

  urlOf(entry: BackboneCatalogEntry): string | undefined {
    const learned = this.urls.get(entry.id);
    if (learned !== undefined) return learned ?? undefined;
    // Not learned (the worker's check failed): the catalog's URL under the mirror, without reading the override manifest here.
    return downloadUrlOf(entry, { ...this.env, [KERAS_WEIGHTS_ENV]: undefined });
  }

  probe(url: string): Promise<Reachability> {
    let p = this.probes.get(url);
    if (!p) {
      p = probeReachable(url);
      this.probes.set(url, p);
    }
    return p;
  }

  /** Starts the probes of the hosts the not-downloaded entries come from (one URL per host). */
  warm(availability: ReadonlyMap<string, Availability>): void {
    const hosts = new Set<string>();
    for (const e of BACKBONE_CATALOG) {
      if (availability.get(e.id) !== 'download') continue;
      const url = this.urlOf(e);
      if (!url) continue;
      const host = hostOf(url);
      if (hosts.has(host)) continue;
      hosts.add(host);
      void this.probe(url);
    }
  }
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

export type OfflineChoice = 'continue' | 'pick' | 'cancel';

/**
 * For an entry that is not here: checks its download URL answers; if not, asks. 'continue'
 * when it is here, reachable, or the user chose to go on.
 */
export async function checkOffline(
  entry: BackboneCatalogEntry,
  availability: ReadonlyMap<string, Availability>,
  probes: ReachabilityProbes,
  ask: (show: () => Thenable<string | undefined>) => Promise<string | undefined>,
): Promise<OfflineChoice> {
  if ((availability.get(entry.id) ?? 'download') !== 'download') return 'continue';
  const url = probes.urlOf(entry);
  if (!url) return 'continue';
  const reach = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Checking ${hostOf(url)} can be reached…` }, () =>
    probes.probe(url),
  );
  if (reach.reachable) return 'continue';
  const { message, detail } = offlineMessage(entry, url, reach.reason);
  const answer = await ask(() => vscode.window.showWarningMessage(message, { modal: true, detail }, 'Pick Another Backbone', 'Continue Anyway'));
  return answer === 'Continue Anyway' ? 'continue' : answer === 'Pick Another Backbone' ? 'pick' : 'cancel';
}
