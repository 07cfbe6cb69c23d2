// A study in the Experiments tree: experiment name, grid and how far it got ("6 of 36 cells"),
// collapsed over its cells' runs; clicking it opens the Study panel.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { StudyEntry } from '../core/studyGrouping';
import { describeGrid, studyProgress, studyStatusText } from '../core/studyGrouping';
import type { StudyFile } from '../core/studyFile';
import type { LiveStudy } from './studyRunner';
import type { StudyNode } from './experimentsTree';

export function studyItem(node: StudyNode, entry: StudyEntry<StudyFile> | undefined, live: LiveStudy | undefined): vscode.TreeItem {
  // While it runs, the trainer's events are newer than the file the index last read.
  const study = live?.study ?? entry?.study;
  const name = study ? `Study: ${study.experimentName} · ${describeGrid(study.grid)}` : `Study ${path.basename(node.dir)}`;
  const item = new vscode.TreeItem(name, vscode.TreeItemCollapsibleState.Collapsed);
  item.id = `study:${node.dir}`;
  item.description = study ? studyStatusText(study, live !== undefined) : 'unreadable study.json';
  const p = study ? studyProgress(study) : undefined;
  item.iconPath = live
    ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue'))
    : new vscode.ThemeIcon('graph-scatter', p?.unfinished ? new vscode.ThemeColor('disabledForeground') : undefined);
  item.contextValue = live ? 'study.running' : p?.unfinished ? 'study.unfinished' : 'study';
  const tooltip = new vscode.MarkdownString(undefined, true);
  tooltip.appendMarkdown(`**${name}**\n\n${item.description}\n\n`);
  if (study?.summary) tooltip.appendMarkdown(`${study.summary.sentence}\n\n`);
  tooltip.appendMarkdown(`\`${node.dir}\``);
  item.tooltip = tooltip;
  item.command = { command: 'transferLab.openStudy', title: 'Open Study', arguments: [node.dir] };
  return item;
}
