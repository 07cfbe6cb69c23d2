// The extension host's worker thread for disk work (started and owned by offThread.ts) whose
// rules live in blocking code shared with the CLI and the trainer: which catalog backbones are
// already here (cli/catalogCommand.ts reads and stats cache files) and where each would be
// downloaded from (the Keras weights override manifest is a file), and indexing or checking a
// dataset (core/datasetIndex.ts lists and stats every image: a folder of 50,000 images takes
// seconds). The host must never wait on the disk; this thread may. Requests are answered in order.
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { catalogListing } from '../cli/catalogCommand';
import { findCatalogEntry } from '../core/backboneCatalog';
import { indexDataset, type IndexOptions } from '../core/datasetIndex';
import type { DatasetCheck, DiskReplies, DiskReply, DiskRequest } from './diskWorkerProtocol';
import { downloadUrlOf } from './backboneChoices';
import { KERAS_WEIGHTS_ENV } from '../engine/download/kerasWeights';

/** Only the problems and the counts per class go back, not the file lists, so the answer is small. */
function checkDataset(dir: string, opts: IndexOptions): DatasetCheck {
  try {
    if (!fs.existsSync(dir)) return { missing: true, errors: [], warnings: [] };
    const index = indexDataset(dir, opts);
    return index.ok
      ? { missing: false, errors: [], warnings: index.warnings, index: { classes: index.value.classes, counts: index.value.counts } }
      : { missing: false, errors: index.errors, warnings: [] };
  } catch (e) {
    return {
      missing: false,
      errors: [{ path: 'data.dir', message: `the dataset folder could not be read (${(e as Error).message})` }],
      warnings: [],
    };
  }
}

/** Where a run would download the entry from; a manifest that cannot be read is the run's to report (with what to fix), not the picker's. */
function downloadUrl(id: string): string | null {
  const entry = findCatalogEntry(id)!;
  try {
    return downloadUrlOf(entry, process.env) ?? null;
  } catch {
    return downloadUrlOf(entry, { ...process.env, [KERAS_WEIGHTS_ENV]: undefined }) ?? null;
  }
}

function answer(req: DiskRequest): DiskReplies[DiskRequest['task']] {
  switch (req.task) {
    case 'catalog':
      return catalogListing(req.cacheDir).map((l) => [l.id, l.availability, downloadUrl(l.id)]);
    case 'index':
      return indexDataset(req.dir, req.opts);
    case 'check':
      return checkDataset(req.dir, req.opts);
  }
}

parentPort?.on('message', (req: DiskRequest) => {
  let reply: DiskReply;
  try {
    reply = { id: req.id, ok: true, value: answer(req) };
  } catch (e) {
    reply = { id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(reply);
});
