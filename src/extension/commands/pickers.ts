// The questions several commands ask alike: which one of these (or, when there are none,
// the command that makes one), and which folder.
import * as vscode from 'vscode';

/** What to say, and which command to offer, when there is nothing to choose from. */
export interface NoChoice {
  message: string;
  action: string;
  command: string;
}

/** The only choice when there is one, the user's pick among several; undefined (after offering `none`) when there are none. */
export async function pickOne<T>(choices: readonly T[], none: NoChoice, pick: (choices: readonly T[]) => Thenable<T | undefined>): Promise<T | undefined> {
  if (choices.length === 0) {
    const answer = await vscode.window.showInformationMessage(none.message, none.action);
    if (answer) void vscode.commands.executeCommand(none.command);
    return undefined;
  }
  if (choices.length === 1) return choices[0];
  return pick(choices);
}

/** One folder from the open dialog, starting in the workspace; undefined when cancelled. */
export async function pickFolder(title: string, openLabel: string): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title,
    openLabel,
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
  });
  return picked?.[0]?.fsPath;
}
