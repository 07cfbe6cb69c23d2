// New Experiment: the wizard (./newExperimentWizard.ts), or scripted answers that skip it;
// either way it writes `<name>.tlexp.json` with relative paths and the validator's defaults
// (./newExperimentFile.ts), and opens it.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { BackboneSpec, StrategySpec } from '../../core/experiment';
import { allSituations, type DataSimilarity } from '../../core/strategyAdvisor';
import type { Services } from '../services';
import { trainImagesPerClass } from './datasetDiscovery';
import { advisorInputOf, buildExperiment, experimentFolderFor, validExperimentName, writeExperiment } from './newExperimentFile';
import { newExperimentWizard } from './newExperimentWizard';
import { cutToWrite } from './strategyChoices';

/** Answers that skip the wizard (tests and scripts). Paths may be absolute or workspace-relative. */
export interface NewExperimentArgs {
  dataset: string;
  /** A catalog id, or a backbone spec. */
  backbone: string | BackboneSpec;
  /** A strategy, or a situation's similarity to let the advisor choose. */
  strategy: StrategySpec | { advise: DataSimilarity };
  name: string;
  /** Folder for the file; default: the dataset's workspace folder (or the dataset's parent). */
  folder?: string;
}

function resolvePath(p: string): string {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
  return path.isAbsolute(p) ? p : path.resolve(root, p);
}

export async function newExperimentCommand(s: Services, args?: NewExperimentArgs): Promise<vscode.Uri | undefined> {
  if (args && typeof args === 'object' && 'dataset' in args) return fromArgs(s, args);
  return newExperimentWizard(s);
}

async function fromArgs(s: Services, a: NewExperimentArgs): Promise<vscode.Uri | undefined> {
  const datasetDir = resolvePath(a.dataset);
  const folder = a.folder ? resolvePath(a.folder) : experimentFolderFor(datasetDir);
  const backbone: BackboneSpec = typeof a.backbone === 'string' ? { catalog: a.backbone } : a.backbone;
  const nameProblem = await validExperimentName(a.name, folder);
  if (nameProblem) {
    void vscode.window.showErrorMessage(`Transfer Lab: ${nameProblem}`);
    return undefined;
  }
  let strategy: StrategySpec;
  if ('advise' in a.strategy) {
    const stats = await trainImagesPerClass(datasetDir, s.disk);
    const advisor = await advisorInputOf(s, backbone);
    const advice = allSituations({ imagesPerClass: stats?.perClass, ...advisor }).find(
      (x) => x.recommended && x.advice.situation.endsWith((a.strategy as { advise: DataSimilarity }).advise),
    )!.advice;
    strategy = advice.strategy;
    // A local model: the advised cut, else the cut before its old classifier head.
    const cutAt = cutToWrite(advice, 'path' in backbone ? advisor.layers : undefined);
    if (cutAt) backbone.cutAt = cutAt;
  } else {
    strategy = a.strategy;
  }
  const stats = await trainImagesPerClass(datasetDir, s.disk);
  return writeExperiment(
    s,
    buildExperiment({ name: a.name, datasetDir, folder, backbone, strategy, trainImages: stats && Math.round(stats.perClass * stats.classes) }),
    folder,
  );
}
