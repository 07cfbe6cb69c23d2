// Predict Image: classify one or more images with a succeeded run's model, from the
// explorer's context menu (Uri, or the multi-selection) or the palette (file dialog). The
// trainer process does the work; the host only shows the top labels.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { isImageFile } from '../../core/datasetIndex';
import type { Prediction } from '../../core/layerSummary';
import type { RunEntry } from '../../core/runStore';
import { cacheDirOf } from '../config';
import { runDirFrom } from './runCommands';
import { pickOne } from './pickers';
import type { Services } from '../services';

/** Test/script arguments: which run's model, and which images. */
export interface PredictArgs {
  runDir?: string;
  images?: string[];
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;
const top3 = (p: Prediction) =>
  p.top
    .slice(0, 3)
    .map((t) => `${t.label} ${pct(t.probability)}`)
    .join(', ');

function imagesFrom(arg: unknown, selected: unknown): string[] | undefined {
  if (Array.isArray(selected) && selected.length > 0 && selected.every((u) => u instanceof vscode.Uri)) return (selected as vscode.Uri[]).map((u) => u.fsPath);
  if (arg instanceof vscode.Uri) return [arg.fsPath];
  if (Array.isArray(arg) && arg.every((u) => u instanceof vscode.Uri)) return (arg as vscode.Uri[]).map((u) => u.fsPath);
  const images = (arg as PredictArgs | undefined)?.images ?? (selected as PredictArgs | undefined)?.images;
  return Array.isArray(images) ? images : undefined;
}

/** The model to use: the one named, the only succeeded run, or the user's pick (latest first). */
async function chooseRun(s: Services, named: string | undefined): Promise<string | undefined> {
  if (named) return named;
  await s.runIndex.refresh();
  const none = {
    message: 'Transfer Lab: no trained model yet. Run an experiment first; its model is then used for predictions.',
    action: 'Run Experiment',
    command: 'transferLab.runExperiment',
  };
  const run = await pickOne(
    s.runIndex.all().filter((e) => e.record.status === 'succeeded'),
    none,
    pickLatestFirst,
  );
  return run?.dir;
}

/** The user's pick among several runs, listed latest first. */
async function pickLatestFirst(runs: readonly RunEntry[]): Promise<RunEntry | undefined> {
  const sorted = [...runs].sort((a, b) => Date.parse(b.record.timings.startedAt) - Date.parse(a.record.timings.startedAt));
  const pick = await vscode.window.showQuickPick(
    sorted.map((e, i) => ({
      label: e.record.id,
      description: [
        i === 0 ? 'latest' : undefined,
        e.record.experiment.name,
        typeof e.record.metrics.accuracy === 'number' && Number.isFinite(e.record.metrics.accuracy) ? `test acc ${pct(e.record.metrics.accuracy)}` : undefined,
      ]
        .filter(Boolean)
        .join(' · '),
      entry: e,
    })),
    { title: 'Transfer Lab: Predict Image', placeHolder: "Which run's model? (the latest is first)" },
  );
  return pick?.entry;
}

export async function predictImageCommand(s: Services, arg?: unknown, selected?: unknown): Promise<Prediction[] | undefined> {
  let images = imagesFrom(arg, selected);
  if (!images) {
    const picked = await vscode.window.showOpenDialog({
      title: 'Images to classify',
      openLabel: 'Predict',
      canSelectMany: true,
      filters: { Images: ['png', 'jpg', 'jpeg', 'webp', 'gif', 'bmp', 'tif', 'tiff'] },
      defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
    });
    if (!picked || picked.length === 0) return undefined;
    images = picked.map((u) => u.fsPath);
  }
  const notImages = images.filter((f) => !isImageFile(f));
  if (notImages.length > 0) {
    void vscode.window.showWarningMessage(
      `Transfer Lab: not an image (${notImages.map((f) => path.basename(f)).join(', ')}); pick .png, .jpg, .webp, .gif, .bmp or .tif files.`,
    );
    images = images.filter((f) => isImageFile(f));
    if (images.length === 0) return undefined;
  }
  const named =
    (arg as PredictArgs | undefined)?.runDir ??
    (selected as PredictArgs | undefined)?.runDir ??
    (arg instanceof vscode.Uri ? undefined : await runDirFrom(arg));
  const runDir = await chooseRun(s, named);
  if (!runDir) return undefined;
  const runName = path.basename(runDir);

  const result = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: `Transfer Lab: classifying ${images.length === 1 ? path.basename(images[0]) : `${images.length} images`} with ${runName}…`,
    },
    () => s.trainers.predict(runDir, images!, cacheDirOf(s.context)),
  );
  if (!result.ok) {
    const o = result.outcome;
    s.output.appendLine(`[predict] ${runName}: ${o.reason}${o.hint ? ` — ${o.hint}` : ''}`);
    void vscode.window.showErrorMessage(`Transfer Lab: prediction with ${runName} failed: ${o.reason}.${o.hint ? ` ${o.hint}` : ''}`);
    return undefined;
  }
  const predictions = result.value;
  s.output.appendLine(`[predict] model of ${runName}:`);
  for (const p of predictions) s.output.appendLine(`  ${p.file}: ${p.error ? `error: ${p.error}` : top3(p)}`);

  if (predictions.length === 1) {
    const p = predictions[0];
    if (p.error) void vscode.window.showErrorMessage(`Transfer Lab: cannot classify ${path.basename(p.file)}: ${p.error}`);
    else void vscode.window.showInformationMessage(`${path.basename(p.file)}: ${top3(p)} (model: ${runName})`);
  } else {
    const failed = predictions.filter((p) => p.error);
    // A list the user can scan and filter; picking one opens the image.
    void vscode.window
      .showQuickPick(
        predictions.map((p) => ({
          label: `${p.error ? '$(error)' : '$(file-media)'} ${path.basename(p.file)}`,
          description: p.error ? `error: ${p.error}` : top3(p),
          detail: vscode.workspace.asRelativePath(p.file),
          file: p.file,
        })),
        {
          title: `Predictions of ${runName}${failed.length ? ` (${failed.length} failed)` : ''}`,
          placeHolder: 'Top-3 labels per image; pick one to open it',
          matchOnDescription: true,
        },
      )
      .then((pick) => pick && vscode.commands.executeCommand('vscode.open', vscode.Uri.file(pick.file)));
  }
  return predictions;
}
