// The walkthrough "From images to a first result" (package.json contributes.walkthroughs) checks
// its steps off by itself: a step whose action leaves a trace (the sample copied, an experiment
// file, a succeeded run, a prediction made) completes on a context key set here when that
// happened; the others complete on their command (onCommand:...). Also Try the Sample and
// Open Walkthrough, the ways in from the Experiments view's welcome content.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { Disposable } from './disposable';
import { pathExists } from './pathChecks';
import { testHooks } from './testHooks';
import { SAMPLE_FOLDER, trySampleCommand, type TrySampleArgs } from './commands/trySample';
import type { Services } from './services';

export const WALKTHROUGH_ID = 'transfer-lab.transfer-lab#transferLab.firstResult';
/** The steps that complete on a context key `transferLab.walkthrough.<step>`. */
export const CONTEXT_STEPS = ['sample', 'experiment', 'run', 'predict'] as const;
export type ContextStep = (typeof CONTEXT_STEPS)[number];

export const contextKeyOf = (step: ContextStep) => `transferLab.walkthrough.${step}`;

export class WalkthroughProgress extends Disposable {
  private readonly keys = new Map<string, boolean>();

  /** Sets the step's context key (once): the walkthrough shows the step done. */
  mark(step: ContextStep): void {
    const key = contextKeyOf(step);
    if (this.keys.get(key)) return;
    this.keys.set(key, true);
    void vscode.commands.executeCommand('setContext', key, true);
  }

  /** The context keys set so far (VS Code cannot be asked; the test hook reads this). */
  get contextKeys(): Record<string, boolean> {
    return Object.fromEntries(this.keys);
  }
}

/** What a workspace opened already holds: steps done in an earlier session stay done. */
async function markWhatIsThere(progress: WalkthroughProgress): Promise<void> {
  for (const f of vscode.workspace.workspaceFolders ?? []) if (await pathExists(path.join(f.uri.fsPath, SAMPLE_FOLDER))) progress.mark('sample');
}

export function registerWalkthrough(s: Services, onDidPredict: vscode.Event<unknown>): WalkthroughProgress {
  const progress = new WalkthroughProgress();
  const check = () => {
    if (s.experiments.count > 0) progress.mark('experiment');
    if (s.runIndex.all().some((e) => e.record.status === 'succeeded')) progress.mark('run');
  };
  s.context.subscriptions.push(
    progress,
    s.experiments.onDidChangeTreeData(check),
    s.runIndex.onDidChange(check),
    onDidPredict(() => progress.mark('predict')),
    vscode.commands.registerCommand('transferLab.trySample', (args?: TrySampleArgs) =>
      trySampleCommand(s.context.extensionPath, progress, typeof args === 'object' && args !== null && !(args instanceof vscode.Uri) ? args : undefined),
    ),
    vscode.commands.registerCommand('transferLab.openWalkthrough', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false),
    ),
    ...testHooks(s.context, { 'transferLab.walkthrough.contextKeys': () => progress.contextKeys }),
  );
  void markWhatIsThere(progress);
  return progress;
}
