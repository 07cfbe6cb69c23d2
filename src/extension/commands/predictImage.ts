// Predict Image(s): classify images and folders of images with a succeeded run's model, in
// the Predictions panel. From the explorer's context menu (a file or folder Uri, or the
// multi-selection), from a run in the Experiments tree (its model; the images are asked), or
// the palette (both asked). The trainer process does the work.
import * as vscode from 'vscode';
import type { Prediction } from '../../core/layerSummary';
import type { Predictions } from '../predictions';
import { pathsFrom, pickInputs } from '../predictionInputs';
import { runDirFrom } from './runCommands';

/** Test/script arguments: which run's (or exported) model, and which images or folders. */
export interface PredictArgs {
  runDir?: string;
  images?: string[];
}

const argsOf = (x: unknown): PredictArgs | undefined =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof vscode.Uri) && !('kind' in x) ? (x as PredictArgs) : undefined;

/** Images, or folders of them? (The open dialog of Windows and Linux picks one kind at a time.) */
async function askInputs(): Promise<string[] | undefined> {
  const kind = await vscode.window.showQuickPick(
    [
      { label: '$(file-media) Images…', folders: false },
      { label: '$(folder) Folders of images…', detail: 'A folder whose subfolders are class names also gets its accuracy', folders: true },
    ],
    { title: 'Transfer Lab: Predict Image(s)', placeHolder: 'What to classify?' },
  );
  return kind ? pickInputs(kind.folders) : undefined;
}

/** The predictions made, in the order of the images given (undefined when nothing ran or it failed). */
export async function predictImageCommand(predictions: Predictions, arg?: unknown, selected?: unknown): Promise<Prediction[] | undefined> {
  const scripted = argsOf(arg) ?? argsOf(selected);
  // A run of the Experiments tree names the model; a Uri from the explorer is what to classify.
  const named = scripted?.runDir ?? (arg instanceof vscode.Uri ? undefined : await runDirFrom(arg));
  const paths = scripted?.images ?? pathsFrom(arg, selected) ?? (await askInputs());
  if (!paths || paths.length === 0) return undefined;
  const run = await predictions.predict(paths, named);
  return run && run.set.status !== 'failed' ? run.rowsInOrder : undefined;
}
