// Owns the dataset-index worker (datasetIndexWorker.ts) of the experiment editor and New
// Experiment: one thread, started on first use, ended with the extension. Requests are
// answered in order.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InputProblem } from '../core/experiment';
import type { IndexOptions, SplitCounts } from '../core/datasetIndex';
import { Disposable, toDisposable } from './disposable';

export interface DatasetCheckRequest {
  id: number;
  dir: string;
  opts: IndexOptions;
}

export interface DatasetCheckReply {
  id: number;
  /** The folder does not exist. */
  missing: boolean;
  errors: InputProblem[];
  warnings: InputProblem[];
  /** The classes and their images per split, when the folder is a valid dataset (no file lists). */
  index?: { classes: string[]; counts: Record<string, SplitCounts> };
}

export class DatasetChecker extends Disposable {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (r: DatasetCheckReply) => void; reject: (e: Error) => void }>();

  constructor(private readonly extensionPath: string) {
    super();
    this._register(
      toDisposable(() => {
        void this.worker?.terminate();
        this.worker = undefined;
        for (const w of this.waiting.values()) w.reject(new Error('the extension is shutting down'));
        this.waiting.clear();
      }),
    );
  }

  check(dir: string, opts: IndexOptions): Promise<DatasetCheckReply> {
    // A check asked for while shutting down must not start a thread nobody ends.
    if (this.isDisposed) return Promise.reject(new Error('the extension is shutting down'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, dir, opts } satisfies DatasetCheckRequest);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(path.join(this.extensionPath, 'dist', 'datasetIndexWorker.js'));
    worker.on('message', (reply: DatasetCheckReply) => {
      this.waiting.get(reply.id)?.resolve(reply);
      this.waiting.delete(reply.id);
    });
    const fail = (e: Error) => {
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => code !== 0 && fail(new Error(`the dataset checker stopped (exit code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
