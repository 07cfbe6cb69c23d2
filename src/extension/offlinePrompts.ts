// The modal Run Experiment shows when its catalog backbone is not downloaded and its host
// cannot be reached: what the run would hit, and the three ways out (run once online, point
// transferLab.cacheFolder at a folder that has the weights, or choose a backbone that is
// here). Under test, a hook answers it and records what it said (a modal cannot be clicked
// from an integration test).
import * as vscode from 'vscode';
import { testHooks } from './testHooks';

/** What the run check says besides the message (which names the backbone, the host and the network error). */
export function offlineRunDetail(cacheDir: string): string {
  return [
    'The run would stop at the download. Either:',
    '• run it once this machine is online (the download happens once, then it works offline);',
    `• or set transferLab.cacheFolder to a folder that already has this backbone downloaded (now: ${cacheDir});`,
    '• or choose a backbone that is already here: fmnist-mini ships with Transfer Lab, or give your own model file as backbone.path (Transfer Lab: New Experiment lists which are here).',
  ].join('\n');
}

interface Scripted {
  answer: string | undefined;
  asked: { message: string; detail: string }[];
}
let scripted: Scripted | undefined;

/** The modal, or under test the scripted answer. */
export function askOffline(message: string, detail: string, ...buttons: string[]): Thenable<string | undefined> {
  if (scripted) {
    scripted.asked.push({ message, detail });
    return Promise.resolve(scripted.answer);
  }
  return vscode.window.showWarningMessage(message, { modal: true, detail }, ...buttons);
}

/** `transferLab.offlinePrompts(answer)`: from now on answer with `answer` (undefined: dismissed); returns what was asked so far. `(null)` restores the modal. */
export function offlinePromptHooks(context: vscode.ExtensionContext): vscode.Disposable[] {
  return testHooks(context, {
    'transferLab.offlinePrompts': (answer?: string | null) => {
      const asked = scripted?.asked ?? [];
      scripted = answer === null ? undefined : { answer, asked };
      return asked;
    },
  });
}
