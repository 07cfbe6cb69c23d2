// One Predict, from start to end: a trainer process classifies the images in batches, each
// batch becomes rows (with the true class a folder names) and a new folder accuracy, and the
// panel hears of every step. Progress shows in a cancellable notification; cancelling there
// or in the panel stops the trainer at its next batch, and what was done stays shown.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { folderAccuracies, misclassifiedFirst, truthOf, type PredictionRow } from '../core/folderAccuracy';
import { describeModel, type ModelInfo, type PredictionSet } from '../core/predictionsMessages';
import type { TrainerMessage } from '../core/protocol';
import type { TrainerHost, TrainerJob } from './trainerHost';
import type { PredictionInputs } from './predictionInputs';
import { Disposable, toDisposable } from './disposable';

export interface PredictionRunOptions {
  trainers: TrainerHost;
  cacheDir: string;
  model: ModelInfo;
  inputs: PredictionInputs;
  /** Every change of the set (a batch, the end). */
  onUpdate: (set: PredictionSet) => void;
  log: (line: string) => void;
}

export class PredictionRun extends Disposable {
  readonly set: PredictionSet;
  /** Settles with the final set (done, cancelled or failed); never rejects. */
  readonly finished: Promise<PredictionSet>;
  private readonly rows: PredictionRow[] = [];
  private job: TrainerJob | undefined;
  private cancelled = false;
  private readonly folders: string[];
  private readonly rootOf: Map<string, string | undefined>;

  constructor(private readonly o: PredictionRunOptions) {
    super();
    const { inputs, model } = o;
    this.folders = [...new Set(inputs.images.flatMap((i) => (i.root ? [i.root] : [])))];
    this.rootOf = new Map(inputs.images.map((i) => [i.file, i.root]));
    const problems = [...inputs.problems, ...inputs.truncated.map((f) => `${f}: more than the images predicted here; predict its subfolders one at a time.`)];
    this.set = {
      id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      at: new Date().toISOString(),
      inputs: inputs.inputs,
      model: { ...model },
      rows: [],
      total: inputs.images.length,
      status: inputs.images.length === 0 ? 'failed' : 'loading',
      ...(inputs.images.length === 0 ? { error: 'Nothing to predict: no images among what was given (see below). Drop images or folders of images.' } : {}),
      problems,
      accuracy: [],
    };
    // Closing the panel (or the extension ending) stops the trainer.
    this._register(toDisposable(() => this.cancel()));
    this.finished = this.set.status === 'failed' ? Promise.resolve(this.set) : this.start();
  }

  /** The rows in the order the images were given (the panel shows mistakes first). */
  get rowsInOrder(): PredictionRow[] {
    return [...this.rows];
  }

  cancel(): void {
    if (this.set.status !== 'loading' && this.set.status !== 'running') return;
    this.cancelled = true;
    this.job?.cancel();
  }

  private start(): Promise<PredictionSet> {
    const images = this.o.inputs.images.map((i) => i.file);
    const title = `Transfer Lab: classifying ${images.length === 1 ? 'an image' : `${images.length} images`} with ${describeModel(this.o.model)}`;
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        this._register(token.onCancellationRequested(() => this.cancel()));
        let reported = 0;
        this.job = this.o.trainers.startPredict(this.o.model.target, images, this.o.cacheDir, (m) => {
          this.receive(m);
          if (m.type !== 'prediction-batch') return;
          const percent = (100 * m.done) / Math.max(1, m.total);
          progress.report({ increment: percent - reported, message: `${m.done} of ${m.total}` });
          reported = percent;
        });
        if (this.cancelled) this.job.cancel();
        const outcome = await this.job.outcome;
        if (!outcome.ok && !this.cancelled) {
          this.set.status = 'failed';
          this.set.error = `${outcome.reason}.${outcome.hint ? ` ${outcome.hint}` : ''}`;
          this.o.log(`[predict] ${describeModel(this.o.model)}: ${this.set.error}`);
        } else this.set.status = this.cancelled && this.rows.length < images.length ? 'cancelled' : 'done';
        this.o.onUpdate(this.set);
        return this.set;
      }),
    );
  }

  private receive(m: TrainerMessage): void {
    if (m.type === 'predictor') {
      // A trainer retried after a oneDNN crash starts over: its batches replace the first one's.
      this.rows.length = 0;
      this.set.model.labels = m.labels;
      this.set.status = 'running';
      this.o.onUpdate(this.set);
    }
    if (m.type !== 'prediction-batch') return;
    const labels = new Set(this.set.model.labels);
    for (const p of m.predictions) {
      const root = this.rootOf.get(p.file);
      const truth = root ? truthOf(p.file, root, labels) : undefined;
      this.rows.push({ ...p, ...(root ? { root } : {}), ...(truth ? { truth } : {}) });
    }
    this.set.rows = misclassifiedFirst(this.rows);
    this.set.accuracy = folderAccuracies(this.rows, this.folders);
    this.o.onUpdate(this.set);
  }
}
