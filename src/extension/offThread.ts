// Owns the extension host's disk worker (diskWorker.ts, built to dist/): one thread for all
// blocking disk work (the experiment editor's dataset checks, New Experiment's images per
// class, the catalog's cache checks, indexing a dataset to split it), started on first use and
// ended with the extension, so the logic stays in one blocking implementation that the CLI and
// the trainer share and the host's thread never waits on the disk. Requests are answered in order.
import * as path from 'node:path';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { DatasetCheck, DiskReplies, DiskReply, DiskRequest, DiskTask } from './diskWorkerProtocol';
import type { IndexOptions } from '../core/datasetIndex';
import { Disposable, toDisposable } from './disposable';

type Waiting = { resolve: (value: DiskReplies[DiskTask['task']]) => void; reject: (e: Error) => void };

export class OffThread extends Disposable {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  /** workerFile: the built worker (tests pass their own build's). */
  constructor(private readonly workerFile: string) {
    super();
    this._register(
      toDisposable(() => {
        void this.worker?.terminate();
        this.worker = undefined;
        this.failAll(new Error('the extension is shutting down'));
      }),
    );
  }

  /** The worker of the extension installed at extensionPath. */
  static forExtension(extensionPath: string): OffThread {
    return new OffThread(path.join(extensionPath, 'dist', 'diskWorker.js'));
  }

  /** Runs `task` in the worker; rejects with what the task threw, or when the worker stops before answering. */
  run<T extends DiskTask>(task: T): Promise<DiskReplies[T['task']]> {
    // A task asked for while shutting down must not start a thread nobody ends.
    if (this.isDisposed) return Promise.reject(new Error('the extension is shutting down'));
    const worker = this.start();
    const id = this.nextId++;
    worker.ref(); // a pending answer keeps the process alive; an idle worker does not
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as Waiting['resolve'], reject });
      worker.postMessage({ ...task, id } satisfies DiskRequest);
    });
  }

  /** The dataset's problems and counts per class (no file lists). */
  checkDataset(dir: string, opts: IndexOptions): Promise<DatasetCheck> {
    return this.run({ task: 'check', dir, opts });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // The host's environment as it is now, not a copy from the worker's start: the mirror and
    // weights-manifest variables it reads for download URLs are the ones the trainer gets.
    const worker = new Worker(this.workerFile, { env: SHARE_ENV });
    worker.on('message', (reply: DiskReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) w?.resolve(reply.value);
      else w?.reject(new Error(reply.error));
    });
    const fail = (e: Error) => {
      if (this.worker === worker) this.worker = undefined; // the next task starts a new thread
      this.failAll(e);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the disk worker stopped (exit code ${code}) without answering`))); // nothing waiting: no effect
    this.worker = worker;
    return worker;
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
