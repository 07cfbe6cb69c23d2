// Try the Sample: the dataset that ships with the extension (media/datasets/fashion-target,
// five Fashion-MNIST classes the shipped backbone never saw) copied into the workspace, so a
// new user has images to train on. With no folder open it asks where to put it and opens that
// folder as the workspace. Never copies over what is there.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathExists } from '../pathChecks';
import type { WalkthroughProgress } from '../walkthroughProgress';

export const SAMPLE_NAME = 'fashion-target';
/** Where the sample goes inside a workspace folder. */
export const SAMPLE_FOLDER = path.join('datasets', SAMPLE_NAME);

/** Test/script arguments: the workspace-like folder to copy into (default: the first workspace folder). */
export interface TrySampleArgs {
  into?: string;
}

/** Copies the sample into `folder`/datasets/fashion-target unless it is there; returns that folder. */
export async function copySample(extensionPath: string, folder: string): Promise<{ dir: string; copied: boolean }> {
  const source = path.join(extensionPath, 'media', 'datasets', SAMPLE_NAME);
  const dir = path.join(folder, SAMPLE_FOLDER);
  if (await pathExists(dir)) return { dir, copied: false };
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await fs.cp(source, dir, { recursive: true, errorOnExist: true, force: false });
  return { dir, copied: true };
}

async function chooseHome(): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title: 'Transfer Lab: where should the sample project go? (a folder "transfer-lab-sample" is made in it)',
    openLabel: 'Put the Sample Here',
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
  });
  return picked?.[0] && path.join(picked[0].fsPath, 'transfer-lab-sample');
}

export async function trySampleCommand(extensionPath: string, progress: WalkthroughProgress, args?: TrySampleArgs): Promise<string | undefined> {
  const workspace = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const target = args?.into ?? workspace ?? (await chooseHome());
  if (!target) return undefined;
  let result;
  try {
    result = await copySample(extensionPath, target);
  } catch (e) {
    void vscode.window.showErrorMessage(
      `Transfer Lab: could not copy the sample dataset into ${path.join(target, SAMPLE_FOLDER)}: ${e instanceof Error ? e.message : String(e)}. Check that the folder is writable, or pick another one.`,
    );
    return undefined;
  }
  progress.mark('sample');
  const opensWorkspace = !args?.into && !workspace;
  if (opensWorkspace) {
    // The window reloads into the new folder; the walkthrough goes on from there.
    await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(target), { forceNewWindow: false });
    return result.dir;
  }
  const rel = vscode.workspace.asRelativePath(result.dir);
  void vscode.window
    .showInformationMessage(
      `Transfer Lab: ${result.copied ? 'copied the sample dataset to' : 'the sample dataset is already in'} ${rel}: 5 classes, 20 training, 10 validation and 50 test images each.`,
      'New Experiment on It',
      'Reveal in Explorer',
    )
    .then((pick) => {
      if (pick === 'New Experiment on It') void vscode.commands.executeCommand('transferLab.newExperiment');
      if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(result.dir));
    });
  return result.dir;
}
