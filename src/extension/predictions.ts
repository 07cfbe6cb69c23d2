// The Predictions controller: one panel, one prediction at a time (a new one cancels the
// last), and the history of recent ones in workspaceState (newest first, clearable). Predict
// Image(s), drops and picks on the panel, "another model" and the history list all come here.
import * as vscode from 'vscode';
import type { PredictionSet, PredictionsRequest } from '../core/predictionsMessages';
import { addToHistory, historyItems, readHistory } from '../core/predictionHistory';
import { cacheDirOf } from './config';
import { Disposable, toDisposable } from './disposable';
import { collectInputs, pathsFromUriList, pickInputs } from './predictionInputs';
import { chooseModel, lookUpModel } from './predictionModel';
import { PredictionRun } from './predictionRun';
import { createPredictionsWebviewPanel, PREDICTIONS_VIEW_TYPE, PredictionsPanel, type PredictionsSnapshot } from './predictionsPanel';
import type { Services } from './services';

const HISTORY_KEY = 'transferLab.predictions.history';
/** Batches arrive fast on a small model: the panel is redrawn at most this often while running. */
const REDRAW_MS = 150;

export class Predictions extends Disposable {
  private panel: PredictionsPanel | undefined;
  private lastSnapshot: PredictionsSnapshot | undefined;
  private history: PredictionSet[];
  private current: PredictionSet | undefined;
  private run: PredictionRun | undefined;
  private redrawTimer: NodeJS.Timeout | undefined;
  private readonly predicted = this._register(new vscode.EventEmitter<PredictionSet>());
  /** Fires when a prediction ends with at least one image classified. */
  readonly onDidPredict = this.predicted.event;

  constructor(private readonly s: Services) {
    super();
    this.history = readHistory(s.context.workspaceState.get(HISTORY_KEY));
    this.current = this.history[0];
    this._register(toDisposable(() => clearTimeout(this.redrawTimer)));
    this._register(toDisposable(() => this.run?.dispose()));
    this._register(toDisposable(() => this.panel?.panel.dispose()));
    // After a reload the panel comes back with the latest prediction and the history.
    this._register(
      vscode.window.registerWebviewPanelSerializer(PREDICTIONS_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => this.attach(panel).show(this.current, historyItems(this.history)),
      }),
    );
  }

  get snapshot(): PredictionsSnapshot | undefined {
    return this.panel?.snapshot ?? this.lastSnapshot;
  }

  /** Opens the panel on the latest prediction (or an empty one that says how to start). */
  open(): PredictionsSnapshot {
    const panel = this.panel ?? this.attach(createPredictionsWebviewPanel(this.s.context.extensionUri));
    panel.show(this.current, historyItems(this.history));
    panel.reveal();
    return panel.snapshot;
  }

  /**
   * Predicts the images in `paths` (files and folders) with the model of `target` (a run or
   * model folder), asked when not given; `askModel` asks even when one run would do.
   */
  async predict(paths: readonly string[], target?: string, askModel = false): Promise<PredictionRun | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(
        'Transfer Lab: prediction is disabled in Restricted Mode. Trust this workspace (Manage Workspace Trust) to load models.',
      );
      return undefined;
    }
    const modelDir = await chooseModel(this.s, target, askModel);
    if (!modelDir) return undefined;
    const [model, inputs] = await Promise.all([lookUpModel(modelDir), collectInputs(paths)]);
    if (!model.ok) {
      void vscode.window.showErrorMessage(`Transfer Lab: ${model.error}`);
      return undefined;
    }
    this.run?.dispose();
    this.open();
    const run = new PredictionRun({
      trainers: this.s.trainers,
      cacheDir: cacheDirOf(this.s.context),
      model: model.info,
      inputs,
      onUpdate: () => this.scheduleRedraw(),
      log: (line) => this.s.output.appendLine(line),
    });
    this.run = run;
    this.current = run.set;
    this.redraw();
    const final = await run.finished;
    if (final.rows.length > 0) {
      this.history = addToHistory(this.history, final);
      await this.saveHistory();
      this.predicted.fire(final);
    }
    if (final.status === 'failed') void vscode.window.showErrorMessage(`Transfer Lab: prediction failed: ${final.error}`);
    this.redraw();
    return run;
  }

  private attach(webviewPanel: vscode.WebviewPanel): PredictionsPanel {
    this.panel?.panel.dispose();
    const created: PredictionsPanel = new PredictionsPanel(
      webviewPanel,
      this.s.context.extensionUri,
      (request) => void this.handle(request),
      (line) => this.s.output.appendLine(line),
      () => {
        this.lastSnapshot = created.snapshot;
        if (this.panel === created) this.panel = undefined;
        // Closing the panel stops a prediction still running.
        this.run?.cancel();
      },
    );
    this.panel = created;
    return created;
  }

  private async handle(request: PredictionsRequest): Promise<void> {
    const model = this.current?.model.target;
    switch (request.type) {
      case 'pick': {
        const paths = await pickInputs(request.folders);
        if (paths) await this.predict(paths, model);
        break;
      }
      case 'drop': {
        const { paths, refused } = pathsFromUriList(request.uris);
        if (refused.length > 0) void vscode.window.showWarningMessage(`Transfer Lab: cannot predict ${refused.join('; ')}`);
        if (paths.length > 0) await this.predict(paths, model);
        break;
      }
      case 'cancel':
        this.run?.cancel();
        break;
      case 'change-model':
        if (this.current) await this.predict(this.current.inputs, undefined, true);
        break;
      case 'clear-history':
        this.history = [];
        await this.saveHistory();
        this.redraw();
        break;
      case 'show-history':
        this.current = this.history.find((h) => h.id === request.id) ?? this.current;
        this.redraw();
        break;
    }
  }

  private saveHistory(): Thenable<void> {
    return this.s.context.workspaceState.update(HISTORY_KEY, this.history);
  }

  private scheduleRedraw(): void {
    if (this.redrawTimer || this.isDisposed) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      this.redraw();
    }, REDRAW_MS);
  }

  private redraw(): void {
    // A copy: the run goes on changing its set while the message is on its way.
    const current = this.current && { ...this.current, rows: [...this.current.rows], accuracy: [...this.current.accuracy] };
    this.panel?.show(current, historyItems(this.history));
  }
}
