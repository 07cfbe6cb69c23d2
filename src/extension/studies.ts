// Data-efficiency studies in VS Code: the runner (trainer jobs), the index of study folders, the
// Study panels, their place in the Experiments tree, and the commands. Registers them only.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Services } from './services';
import { StudyRunner } from './studyRunner';
import { StudyIndex } from './studyIndex';
import { STUDY_VIEW_TYPE, StudyPanels } from './studyPanel';
import { runStudyCommand, type RunStudyArgs } from './commands/runStudy';
import { testHooks } from './testHooks';

export function registerStudies(s: Services): void {
  const runner = new StudyRunner(s.trainers, s.context, s.output);
  const index = new StudyIndex((line) => s.output.appendLine(line));
  const panels = new StudyPanels(s.context.extensionUri, runner, s.output);
  s.experiments.attachStudies(index, runner);
  s.context.subscriptions.push(
    runner,
    index,
    panels,
    // A study starting, a cell ending, the study ending: study.json changed.
    runner.onDidChange(() => index.scheduleRefresh()),
    vscode.window.registerWebviewPanelSerializer(STUDY_VIEW_TYPE, panels),
    vscode.commands.registerCommand('transferLab.runStudy', (arg?: unknown, args?: RunStudyArgs) =>
      runStudyCommand(s, runner, index, arg, typeof args === 'object' && args !== null ? args : {}),
    ),
    vscode.commands.registerCommand('transferLab.openStudy', async (arg?: unknown) => {
      const dir = await studyDirFrom(arg, index);
      return dir ? panels.open(dir).studyDir : undefined;
    }),
    ...testHooks(s.context, {
      'transferLab.study.live': () => runner.active().map((st) => ({ experimentFile: st.experimentFile, studyDir: st.studyDir, stopping: st.stopping })),
      'transferLab.study.stop': (target: string) => runner.stop(target),
      'transferLab.study.snapshot': (studyDir: string) => panels.snapshot(studyDir),
      'transferLab.study.receive': (studyDir: string, raw: unknown) => panels.receive(studyDir, raw),
    }),
  );
}

/** A study folder from a tree node, a path or Uri (of the folder or its study.json), or the user's pick. */
async function studyDirFrom(arg: unknown, index: StudyIndex): Promise<string | undefined> {
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return path.basename(arg.fsPath) === 'study.json' ? path.dirname(arg.fsPath) : arg.fsPath;
  const node = arg as { kind?: string; dir?: string } | undefined;
  if (node?.kind === 'study' && node.dir) return node.dir;
  await index.refresh();
  const studies = index.all();
  if (studies.length === 0) {
    void vscode.window.showInformationMessage('Transfer Lab: no studies yet. Run Data-Efficiency Study on an experiment first.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    studies.map((e) => ({ label: e.study.experimentName, description: e.study.createdAt.slice(0, 16).replace('T', ' '), detail: e.dir, dir: e.dir })),
    { placeHolder: 'Open which study?' },
  );
  return pick?.dir;
}
