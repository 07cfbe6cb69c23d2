// A short-lived worker thread of the extension host (started by offThread.ts) for disk work
// whose rules live in blocking code shared with the CLI and the trainer: which catalog
// backbones are already here (cli/catalogCommand.ts reads and stats cache files), and indexing
// a dataset before it is split on disk (core/datasetIndex.ts lists and stats every image).
// The host must never wait on the disk; this thread may. One task, one answer, then it ends.
import { parentPort, workerData } from 'node:worker_threads';
import { catalogListing } from '../cli/catalogCommand';
import { indexDataset } from '../core/datasetIndex';
import type { DiskReplies, DiskTask } from './offThread';

const task = workerData as DiskTask;
const reply: DiskReplies[DiskTask['task']] =
  task.task === 'catalog' ? catalogListing(task.cacheDir).map((l) => [l.id, l.availability]) : indexDataset(task.dir, task.opts);
parentPort?.postMessage(reply);
