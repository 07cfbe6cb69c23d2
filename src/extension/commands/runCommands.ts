// Run Experiment, Stop Run, Delete Run, Reveal Run Folder: the run lifecycle from the
// palette, the explorer, the editor title and the tree.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { deleteRunAsync, readRunAsync } from '../../core/runStore';
import type { Services } from '../services';
import { cacheDirOf } from '../config';
import { confirmRunWhenOffline } from '../offlineRunCheck';
import { offlinePromptHooks } from '../offlinePrompts';
import type { TreeNode } from '../experimentsTree';
import { pathExists } from '../pathChecks';
import { pickOne } from './pickers';

/** Accepts what VS Code passes: a Uri (explorer, editor), a tree node, or nothing (palette). */
export function experimentFileFrom(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.fsPath.endsWith('.tlexp.json') ? arg.fsPath : undefined;
  const node = arg as TreeNode | undefined;
  if (node?.kind === 'experiment') return node.uri.fsPath;
  if (node?.kind === 'run') return node.experiment.fsPath;
  const active = vscode.window.activeTextEditor?.document.uri;
  return active?.fsPath.endsWith('.tlexp.json') ? active.fsPath : undefined;
}

/** A run folder from a tree node, a Uri of a run folder (or a file in it), or a string. */
export async function runDirFrom(arg: unknown): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) {
    const p = arg.fsPath;
    if (await pathExists(path.join(p, 'run.json'))) return p;
    return (await pathExists(path.join(path.dirname(p), 'run.json'))) ? path.dirname(p) : undefined;
  }
  const node = arg as TreeNode | undefined;
  return node?.kind === 'run' ? node.dir : undefined;
}

/** An experiment file of the workspace: the only one, or the user's pick; with none, New Experiment is offered. */
export async function pickExperiment(
  s: Services,
  placeHolder = 'Which experiment?',
  noneMessage = 'Transfer Lab: no experiment files (*.tlexp.json) in this workspace.',
): Promise<string | undefined> {
  await s.experiments.reload();
  const none = { message: noneMessage, action: 'New Experiment', command: 'transferLab.newExperiment' };
  const file = await pickOne(s.experiments.experimentFiles, none, (files) =>
    vscode.window
      .showQuickPick(
        files.map((f) => ({ label: path.basename(f.fsPath, '.tlexp.json'), description: vscode.workspace.asRelativePath(f), file: f })),
        { placeHolder },
      )
      .then((pick) => pick?.file),
  );
  return file?.fsPath;
}

export async function pickRun(s: Services, placeHolder: string, filter: (status: string) => boolean = () => true): Promise<string | undefined> {
  await s.runIndex.refresh();
  const runs = s.runIndex.all().filter((e) => filter(e.record.status));
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Transfer Lab: no matching runs yet. Run an experiment first.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    runs.map((e) => ({
      label: e.record.id,
      description: `${e.record.experiment.name} · ${e.record.status}${typeof e.record.metrics.accuracy === 'number' ? ` · ${(e.record.metrics.accuracy * 100).toFixed(1)}%` : ''}`,
      dir: e.dir,
    })),
    { placeHolder },
  );
  return pick?.dir;
}

export function registerRunCommands(s: Services): void {
  s.context.subscriptions.push(
    ...offlinePromptHooks(s.context),
    vscode.commands.registerCommand('transferLab.runExperiment', async (arg?: unknown) => {
      const file = experimentFileFrom(arg) ?? (await pickExperiment(s));
      if (!file) return undefined;
      if (!(await confirmRunWhenOffline(file, s.disk, cacheDirOf(s.context)))) return undefined;
      const run = await s.runs.start(file);
      if (run) void vscode.commands.executeCommand('transferLab.openDashboard', vscode.Uri.file(file));
      return run ? { experimentFile: run.experimentFile } : undefined;
    }),
    vscode.commands.registerCommand('transferLab.stopRun', async (arg?: unknown) => {
      const target = (await runDirFrom(arg)) ?? experimentFileFrom(arg);
      const active = s.runs.active();
      const chosen =
        target ??
        (active.length === 1
          ? active[0].experimentFile
          : (
              await vscode.window.showQuickPick(
                active.map((r) => ({ label: path.basename(r.experimentFile, '.tlexp.json'), file: r.experimentFile })),
                { placeHolder: 'Stop which run?' },
              )
            )?.file);
      if (!chosen) return false;
      const stopped = s.runs.stop(chosen);
      if (!stopped) void vscode.window.showInformationMessage('Transfer Lab: that experiment is not running.');
      return stopped;
    }),
    vscode.commands.registerCommand('transferLab.deleteRun', async (arg?: unknown, confirmed?: boolean) => {
      const dir = (await runDirFrom(arg)) ?? (await pickRun(s, 'Delete which run?', (st) => st !== 'running'));
      if (!dir) return false;
      if (s.runs.byRunDir(dir)) {
        void vscode.window.showWarningMessage('Transfer Lab: stop the run before deleting it.');
        return false;
      }
      const record = await readRunAsync(dir);
      const name = record.ok ? record.value.id : path.basename(dir);
      // `confirmed` lets tests and scripts skip the modal; users are always asked.
      const answer =
        confirmed === true
          ? 'Delete'
          : await vscode.window.showWarningMessage(`Delete run ${name} and everything in its folder (metrics, model)?`, { modal: true }, 'Delete');
      if (answer !== 'Delete') return false;
      await deleteRunAsync(dir);
      await s.runIndex.refresh();
      return true;
    }),
    vscode.commands.registerCommand('transferLab.revealRun', async (arg?: unknown) => {
      const dir = (await runDirFrom(arg)) ?? (await pickRun(s, 'Reveal which run folder?'));
      if (!dir) return;
      // In the explorer always; in the OS file manager only where there is one beside the
      // editor (desktop, local): a browser or remote window has no such thing.
      await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
      if (vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName) {
        await Promise.resolve(vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(dir, 'run.json')))).catch(() => undefined);
      }
    }),
  );
}
