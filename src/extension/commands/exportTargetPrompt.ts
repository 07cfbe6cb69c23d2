// The folder prompt of Export Model: a path to type (a new folder is created, unlike an open
// dialog, which demands one that exists), checked as it is typed, with Browse… for an
// existing folder.
import * as vscode from 'vscode';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportTargetProblem, resolveExportTarget } from '../../core/exportTarget';
import { pathKind } from '../pathChecks';
import { pickFolder } from './pickers';

const BROWSE: vscode.QuickInputButton = { iconPath: new vscode.ThemeIcon('folder-opened'), tooltip: 'Browse for an existing folder…' };

/** The absolute folder to export into, or undefined when cancelled. */
export function askExportFolder(runName: string, folderName: string, modelDir: string): Promise<string | undefined> {
  const base = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir();
  const box = vscode.window.createInputBox();
  box.title = `Export the model of ${runName}`;
  box.prompt = 'The folder to export into: a new one is created; in an existing one nothing is replaced without asking. Relative to the workspace.';
  box.value = path.join(base, folderName);
  box.valueSelection = [box.value.length - folderName.length, box.value.length];
  box.buttons = [BROWSE];
  box.ignoreFocusOut = true;
  let checks = 0;
  // The open dialog hides the box: that is not a cancel.
  let browsing = false;
  const check = async (typed: string): Promise<string | undefined> => {
    const target = resolveExportTarget(typed, base, os.homedir());
    return exportTargetProblem(target, typed.trim() ? await pathKind(target) : undefined, modelDir, typed);
  };
  const validate = async (typed: string) => {
    const n = ++checks;
    const problem = await check(typed);
    // Only the answer for the latest text counts (checks finish in any order).
    if (n === checks) box.validationMessage = problem;
  };
  return new Promise<string | undefined>((resolve) => {
    let done = false;
    const finish = (value: string | undefined) => {
      if (done) return;
      done = true;
      resolve(value);
      box.dispose();
    };
    box.onDidChangeValue((v) => void validate(v));
    box.onDidTriggerButton(async () => {
      browsing = true;
      const picked = await pickFolder(`Export the model of ${runName} to…`, 'Export Here');
      browsing = false;
      if (done) return;
      if (picked) box.value = picked;
      await validate(box.value);
      box.show();
    });
    box.onDidAccept(async () => {
      const typed = box.value;
      const problem = await check(typed);
      if (problem) box.validationMessage = problem;
      else finish(resolveExportTarget(typed, base, os.homedir()));
    });
    box.onDidHide(() => !browsing && finish(undefined));
    box.show();
  });
}
