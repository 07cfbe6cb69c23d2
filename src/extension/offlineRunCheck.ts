// Before Run Experiment creates a run: if the experiment names a catalog backbone whose
// weights are not here and whose host does not answer, say so now (a modal) instead of
// letting the run fail at the download. The wizard does the same when the entry is picked
// (backbonePicker.ts); this covers files written by hand, or while online.
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import { findCatalogEntry } from '../core/backboneCatalog';
import { catalogAvailability, ReachabilityProbes } from './backbonePicker';
import type { OffThread } from './offThread';
import { offlineMessage } from './backboneChoices';
import { askOffline, offlineRunDetail } from './offlinePrompts';

/** The catalog id an experiment file names, if it names one (unreadable or invalid files: none; the run reports those). */
async function catalogIdOf(file: string): Promise<string | undefined> {
  try {
    const exp = JSON.parse(await fs.promises.readFile(file, 'utf8')) as { backbone?: { catalog?: unknown } };
    return typeof exp?.backbone?.catalog === 'string' ? exp.backbone.catalog : undefined;
  } catch {
    return undefined;
  }
}

/** True when the run should start: the backbone is here, its host answers, or the user chose Run Anyway. */
export async function confirmRunWhenOffline(file: string, disk: OffThread, cacheDir: string, probes = new ReachabilityProbes()): Promise<boolean> {
  const id = await catalogIdOf(file);
  const entry = id ? findCatalogEntry(id) : undefined;
  if (!entry || entry.source.kind === 'bundled') return true;
  // Checked off the host's thread; a failed check counts as not here (then the probe decides).
  if (((await catalogAvailability(disk, cacheDir, probes)).get(entry.id) ?? 'download') !== 'download') return true;
  const url = probes.urlOf(entry);
  if (!url) return true;
  const reach = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Checking ${new URL(url).host} can be reached…` }, () =>
    probes.probe(url),
  );
  if (reach.reachable) return true;
  const { message } = offlineMessage(entry, url, reach.reason);
  return (await askOffline(message, offlineRunDetail(cacheDir), 'Run Anyway')) === 'Run Anyway';
}
