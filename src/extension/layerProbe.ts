// The layer probe from the extension: run it in a trainer (the probe job, engine/probe/) with
// progress in a notification, and read a saved probe.json back (Show Layers on reopen, the
// wizard). probe.json lives beside the runs folder: <workspace>/.transferlab/probes/.
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { BackboneSpec } from '../core/experiment';
import { parseProbeFile, probeBackboneLabel, probeFileName, probesDirFor, type ProbeFile } from '../core/probeFile';
import { cacheDirOf, runsDirFor } from './config';
import type { Services } from './services';

export type ProbeRun = { ok: true; probe: ProbeFile; file?: string } | { ok: false; message: string };

/** The probes folder for an experiment file (beside its runs folder). */
export const probesDirOf = (experimentFile: string): string => probesDirFor(runsDirFor(experimentFile));

/** The saved probe of this experiment and backbone, if there is a valid one; a broken file is reported on the output channel and ignored. */
export async function readSavedProbe(s: Services, experimentFile: string, experiment: string, backbone: BackboneSpec): Promise<ProbeFile | undefined> {
  const file = path.join(probesDirOf(experimentFile), probeFileName(experiment, probeBackboneLabel(backbone)));
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = parseProbeFile(text, file);
  if (!parsed.ok) {
    s.output.appendLine(`Layer probe: ${parsed.error}`);
    return undefined;
  }
  return parsed.value.backbone === probeBackboneLabel(backbone) ? parsed.value : undefined;
}

/**
 * Runs the probe in a trainer with a cancellable notification. `probesDir` null: nothing is
 * written (the wizard, before the experiment exists). `onProgress` also gets each line.
 */
export async function runProbeInTrainer(
  s: Services,
  job: { experimentFile: string; backbone?: BackboneSpec; probesDir: string | null; maxPerClass?: number },
  title: string,
  onProgress?: (message: string) => void,
): Promise<ProbeRun> {
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: false }, (progress) =>
    s.trainers.probe({ ...job, cacheDir: cacheDirOf(s.context) }, (message) => {
      progress.report({ message });
      onProgress?.(message);
    }),
  );
  if (result.ok) return { ok: true, probe: result.value.probe, file: result.value.file };
  const { reason, hint } = result.outcome;
  return { ok: false, message: `The layer probe failed: ${reason.replace(/\.?$/, '.')}${hint ? ` ${hint}` : ''}` };
}
