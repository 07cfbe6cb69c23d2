// Blocking disk work the extension host hands to a worker thread (diskWorker.ts, built to
// dist/), so that the logic stays in one blocking implementation that the CLI and the trainer
// share, and the host's thread never waits on the disk.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CatalogListing } from '../cli/catalogCommand';
import type { Validated } from '../core/experiment';
import type { DatasetIndex, IndexOptions } from '../core/datasetIndex';

export type DiskTask = { task: 'catalog'; cacheDir: string } | { task: 'index'; dir: string; opts: IndexOptions };

/** The answer to each task: each catalog id's availability; the dataset index, as indexDataset returns it. */
export interface DiskReplies {
  catalog: [id: string, availability: CatalogListing['availability']][];
  index: Validated<DatasetIndex>;
}

/** Runs `task` in a new worker thread; rejects with what the worker threw, or when it ends without answering. */
export function offThread<T extends DiskTask>(extensionPath: string, task: T): Promise<DiskReplies[T['task']]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(extensionPath, 'dist', 'diskWorker.js'), { workerData: task });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the disk worker ended (exit code ${code}) without answering`))); // after an answer: no effect
  });
}
