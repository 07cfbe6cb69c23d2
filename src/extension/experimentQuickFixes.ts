// Quick fixes in *.tlexp.json files where the fix is obvious: a misspelt key renamed, a value
// replaced by the one meant (an option, a layer, a dataset folder), a stale wizard description
// rewritten. The edits themselves are computed in core (experimentFixes.ts) from the problems
// the diagnostics showed; this module only turns them into code actions.
import * as vscode from 'vscode';
import type { InputProblem } from '../core/experiment';
import { quickFixFor } from '../core/experimentFixes';
import { jsonFieldAt, outlineJson } from '../core/jsonPositions';

/** The inside of the string value of the field a diagnostic starts at (what a quick fix replaces). */
function stringValueRange(doc: vscode.TextDocument, d: vscode.Diagnostic): vscode.Range | undefined {
  const value = jsonFieldAt(outlineJson(doc.getText()).fields, doc.offsetAt(d.range.start))?.value;
  if (value?.type !== 'string') return undefined;
  return new vscode.Range(doc.positionAt(value.offset + 1), doc.positionAt(value.offset + value.length - 1));
}

function replaceAction(
  doc: vscode.TextDocument,
  d: vscode.Diagnostic,
  title: string,
  range: vscode.Range,
  text: string,
  preferred: boolean,
): vscode.CodeAction {
  const action = new vscode.CodeAction(title, vscode.CodeActionKind.QuickFix);
  action.edit = new vscode.WorkspaceEdit();
  action.edit.replace(doc.uri, range, text);
  action.diagnostics = [d];
  action.isPreferred = preferred;
  return action;
}

export class ExperimentFixes implements vscode.CodeActionProvider {
  /** The problems last shown per document, with their fixes: a diagnostic finds its own here by path and message. */
  private readonly shown = new Map<string, InputProblem[]>();

  remember(uri: vscode.Uri, problems: InputProblem[]): void {
    this.shown.set(uri.toString(), problems);
  }

  forget(uri: vscode.Uri): void {
    this.shown.delete(uri.toString());
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const d of context.diagnostics) {
      if (d.source !== 'Transfer Lab' || typeof d.code !== 'string') continue;
      const fixed = this.problemFix(doc, d);
      if (fixed) actions.push(fixed);
      if (d.code.startsWith('layer:')) {
        const near = d.code.slice('layer:'.length);
        const value = stringValueRange(doc, d);
        if (value) actions.push(replaceAction(doc, d, `Change to '${near}'`, value, near, true));
      } else if (d.code === 'graph-fine-tune') {
        const value = stringValueRange(doc, d);
        if (value) actions.push(replaceAction(doc, d, 'Use feature-extraction', value, 'feature-extraction', false));
      } else if (d.code === 'data.dir' && /does not exist/.test(d.message)) {
        const action = new vscode.CodeAction('Scaffold a dataset here', vscode.CodeActionKind.QuickFix);
        action.command = { command: 'transferLab.scaffoldDataset', title: 'Scaffold Dataset' };
        action.diagnostics = [d];
        actions.push(action);
      }
    }
    return actions;
  }

  /** The fix a problem carries (rename the key, replace the value), at the field as the text is now. */
  private problemFix(doc: vscode.TextDocument, d: vscode.Diagnostic): vscode.CodeAction | undefined {
    const problem = this.shown.get(doc.uri.toString())?.find((p) => p.fix && p.path === d.code && d.message.startsWith(`${p.path}: ${p.message}`));
    const fix = problem && quickFixFor(doc.getText(), problem);
    if (!fix) return undefined;
    const range = new vscode.Range(doc.positionAt(fix.edit.offset), doc.positionAt(fix.edit.offset + fix.edit.length));
    return replaceAction(doc, d, fix.title, range, fix.edit.text, true);
  }
}
