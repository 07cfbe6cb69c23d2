// The workflow commands around runs: Scaffold Dataset, New Experiment (wizard), Predict
// Image, Export Model and Compare Runs. Each command lives in its own module; this file only
// registers them. Every command also accepts arguments that skip its questions (tests, scripts).
import * as vscode from 'vscode';
import { testHooks } from './testHooks';
import type { Services } from './services';
import { scaffoldDatasetCommand, type ScaffoldArgs } from './commands/scaffoldDataset';
import { newExperimentCommand, type NewExperimentArgs } from './commands/newExperiment';
import { predictImageCommand } from './commands/predictImage';
import { exportModelCommand } from './commands/exportModel';
import { exportKerasScriptCommand, KerasScriptExporter } from './commands/exportKerasScript';
import { CompareRuns } from './comparePanel';
import { Predictions } from './predictions';
import { registerWalkthrough } from './walkthroughProgress';

export function registerWorkflows(s: Services): void {
  const compare = new CompareRuns(s);
  const predictions = new Predictions(s);
  const kerasScripts = new KerasScriptExporter(s.context.extensionPath);
  s.context.subscriptions.push(
    compare,
    predictions,
    kerasScripts,
    vscode.commands.registerCommand('transferLab.exportKerasScript', (arg?: unknown, outDir?: unknown) =>
      exportKerasScriptCommand(s, kerasScripts, arg, outDir),
    ),
    vscode.commands.registerCommand('transferLab.scaffoldDataset', (args?: ScaffoldArgs) => scaffoldDatasetCommand(s, isPlainObject(args) ? args : undefined)),
    vscode.commands.registerCommand('transferLab.newExperiment', (args?: NewExperimentArgs) => newExperimentCommand(s, isPlainObject(args) ? args : undefined)),
    vscode.commands.registerCommand('transferLab.predictImage', (arg?: unknown, selected?: unknown) => predictImageCommand(predictions, arg, selected)),
    vscode.commands.registerCommand('transferLab.showPredictions', () => predictions.open()),
    vscode.commands.registerCommand('transferLab.exportModel', (arg?: unknown, target?: unknown, overwrite?: boolean, format?: unknown) =>
      exportModelCommand(s, arg, target, overwrite, format),
    ),
    vscode.commands.registerCommand('transferLab.compareRuns', (arg?: unknown, selected?: unknown) => compare.command(arg, selected)),
    // What the Compare panel last posted and heard.
    ...testHooks(s.context, { 'transferLab.compareRuns.snapshot': () => compare.snapshot, 'transferLab.predictions.snapshot': () => predictions.snapshot }),
  );
  registerWalkthrough(s, predictions.onDidPredict);
}

/** Arguments from scripts are plain objects; menus pass Uris or tree nodes, which are ignored here. */
function isPlainObject<T>(v: T | undefined): v is T {
  return typeof v === 'object' && v !== null && !(v instanceof vscode.Uri) && !('kind' in (v as object));
}
