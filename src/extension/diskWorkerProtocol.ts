// The requests the extension host sends its disk worker (diskWorker.ts) and the replies it
// gets: one protocol for all its off-thread disk work. Plain TS types, not valibot schemas as
// at the other boundaries (src/core/messageProtocol.ts): both ends are built from this file
// into the same dist/ by the same build and run in the same process (structured clone, no JSON,
// no other version possible), and parsing a 50,000-image index on arrival would itself block
// the host's thread, which is what the worker is for.
import type { CatalogListing } from '../cli/catalogCommand';
import type { InputProblem, Validated } from '../core/experiment';
import type { DatasetIndex, IndexOptions, SplitCounts } from '../core/datasetIndex';

export type DiskTask =
  /** Which catalog backbones are already here (cli/catalogCommand.ts reads and stats cache files), and the URL each would be downloaded from (the override manifest is read here too). */
  | { task: 'catalog'; cacheDir: string }
  /** A dataset indexed with its file lists, as indexDataset returns it (before splitting it on disk). */
  | { task: 'index'; dir: string; opts: IndexOptions }
  /** A dataset checked: its problems and counts only, small whatever the folder's size (editor diagnostics, New Experiment). */
  | { task: 'check'; dir: string; opts: IndexOptions };

export interface DatasetCheck {
  /** The folder does not exist. */
  missing: boolean;
  errors: InputProblem[];
  warnings: InputProblem[];
  /** The classes and their images per split, when the folder is a valid dataset (no file lists). */
  index?: { classes: string[]; counts: Record<string, SplitCounts> };
}

/** The answer to each task. */
export interface DiskReplies {
  catalog: [id: string, availability: CatalogListing['availability'], downloadUrl: string | null][];
  index: Validated<DatasetIndex>;
  check: DatasetCheck;
}

export type DiskRequest = DiskTask & { id: number };

/** What the worker posts for request `id`: the task's answer, or the message of what it threw. */
export type DiskReply = { id: number; ok: true; value: DiskReplies[DiskTask['task']] } | { id: number; ok: false; error: string };
