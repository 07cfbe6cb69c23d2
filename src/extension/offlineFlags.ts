// The wizard's backbone step marks, before the user picks, the catalog entries that are not
// downloaded and whose host does not answer now (offline, a firewall): picking one would only
// lead to the "cannot be reached" warning. The probes (backbonePicker.ts) start with the
// wizard, so they have usually answered by this step; this waits for them only briefly, so a
// slow network never holds the step up: an entry whose probe has not answered by then is left unmarked (and is still
// checked when picked).
import type { BackboneCatalogEntry } from '../core/backboneCatalog';
import type { Availability } from './backboneChoices';
import type { BackboneItem, ReachabilityProbes } from './backbonePicker';

/** How long the step waits for the probes before it opens. */
export const OFFLINE_FLAG_WAIT_MS = 250;

/** Each not-downloaded entry whose host has answered "unreachable" within `waitMs`: its id and why. */
export async function unreachableEntries(
  entries: readonly BackboneCatalogEntry[],
  availability: ReadonlyMap<string, Availability>,
  probes: Pick<ReachabilityProbes, 'urlOf' | 'probe'>,
  waitMs = OFFLINE_FLAG_WAIT_MS,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
  const checks = entries.map(async (e) => {
    if ((availability.get(e.id) ?? (e.source.kind === 'bundled' ? 'bundled' : 'download')) !== 'download') return;
    const url = probes.urlOf(e);
    if (!url) return;
    const reach = await probes.probe(url);
    if (!reach.reachable) out.set(e.id, reach.reason);
  });
  await Promise.race([Promise.all(checks), timeout]);
  clearTimeout(timer);
  // A copy: probes answering after the wait do not change what the step already shows.
  return new Map(out);
}

/** The items with the unreachable entries marked in their detail line. */
export function flagUnreachable(items: BackboneItem[], unreachable: ReadonlyMap<string, string>): BackboneItem[] {
  return items.map((i) =>
    i.entry && unreachable.has(i.entry.id)
      ? { ...i, detail: `$(cloud-offline) offline: cannot be downloaded now (${unreachable.get(i.entry.id)}) · ${i.detail ?? ''}` }
      : i,
  );
}
