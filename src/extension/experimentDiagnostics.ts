// What the experiment editor finds in a *.tlexp.json file, all at once: the text's own
// problems (JSON, fields, values), a wizard description gone stale, and the dataset folder's
// (checked even while other sections have errors, with "did you mean" for a misspelt folder).
import * as vscode from 'vscode';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { InputProblem, ResolvedExperiment } from '../core/experiment';
import { parseExperimentText, resolveExperiment } from '../core/experimentValidation';
import { datasetOfInvalid } from '../core/experimentResolution';
import { datasetDirSuggestion } from '../core/experimentFixes';
import { staleDescriptionProblem } from '../core/wizardDescription';
import { locateJsonPath, outlineJson } from '../core/jsonPositions';
import type { OffThread } from './offThread';

export interface Found {
  problem: InputProblem;
  severity: vscode.DiagnosticSeverity;
}

/** The dataset folder a file names: as written (for a fix) and resolved (for the walk). */
export interface DatasetTarget {
  written: string;
  dir: string;
  split: { val: number; test: number };
  seed: number;
}

export interface TextCheck {
  found: Found[];
  /** Set when the file is valid: the checks that need the backbone run on it. */
  resolved?: ResolvedExperiment;
  /** Set whenever "data" is valid, even if other sections are not. */
  dataset?: DatasetTarget;
}

const { Error: E, Warning: W, Information: I } = vscode.DiagnosticSeverity;
const as = (severity: vscode.DiagnosticSeverity) => (problem: InputProblem) => ({ problem, severity });
const key = (p: InputProblem) => `${p.path}\u0000${p.message}`;

/** The checks of the text itself (parse, fields, resolution): instant. The dataset walk is separate (checkDataset). */
export function checkText(text: string, file: string): TextCheck {
  const parsed = parseExperimentText(text, file);
  if (!parsed.ok) {
    let value: unknown;
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch {
      return { found: parsed.errors.map(as(E)) };
    }
    return { found: [...parsed.errors.map(as(E)), ...(parsed.warnings ?? []).map(as(W))], dataset: datasetOfInvalid(value, parsed.errors, file) };
  }
  const found = parsed.warnings.map(as(W));
  const stale = staleDescriptionProblem(parsed.value);
  if (stale) found.push(as(I)(stale));
  const resolved = resolveExperiment(parsed.value, file);
  if (!resolved.ok) return { found: [...found, ...resolved.errors.map(as(E))], dataset: datasetOfInvalid(parsed.value, resolved.errors, file) };
  // resolveExperiment re-checks the file: its warnings repeat the parser's.
  const seen = new Set(parsed.warnings.map(key));
  found.push(...resolved.warnings.filter((w) => !seen.has(key(w))).map(as(W)));
  const data = resolved.value.data;
  return { found, resolved: resolved.value, dataset: { written: parsed.value.data.dir, dir: data.dir, split: data.split, seed: data.seed } };
}

async function siblingFolders(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(path.dirname(dir), { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() || e.isSymbolicLink()).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The dataset, checked without decoding anything: a folder walk, in the disk worker thread. */
export async function checkDataset(target: DatasetTarget, disk: Pick<OffThread, 'checkDataset'>): Promise<Found[]> {
  const reply = await disk.checkDataset(target.dir, { split: target.split, seed: target.seed });
  if (reply.missing) {
    const near = datasetDirSuggestion(target.written, await siblingFolders(target.dir));
    const missing: InputProblem = {
      path: 'data.dir',
      message: `the dataset folder ${target.dir} does not exist`,
      hint: `${near ? `Did you mean "${near}"? Or create` : 'Create'} it with Transfer Lab: Scaffold Dataset, or fix the path (relative to this file).`,
    };
    if (near) missing.fix = { kind: 'replace-value', to: near };
    return [as(E)(missing)];
  }
  // The dataset's problems belong to data.dir unless they name another field.
  const at = (p: InputProblem) => ({ ...p, path: p.path || 'data.dir' });
  return [...reply.errors.map(at).map(as(E)), ...reply.warnings.map(at).map(as(W))];
}

/** Where a JSON path (`train.epochs`) is in the text: from its key (or its nearest ancestor's) to the end of that line, else the first line. */
export function rangeOfPath(text: string, jsonPath: string, doc: vscode.TextDocument): vscode.Range {
  const field = locateJsonPath(outlineJson(text).fields, jsonPath);
  if (!field || field.path === '') return new vscode.Range(0, 0, 0, doc.lineAt(0).text.length);
  const start = doc.positionAt(field.offset);
  return new vscode.Range(start, doc.lineAt(start.line).range.end);
}

/** Problems as diagnostics: at their line when they have one, else at their JSON path in the text. */
export function toDiagnostics(doc: vscode.TextDocument, found: readonly Found[]): vscode.Diagnostic[] {
  const text = doc.getText();
  return found.map(({ problem: p, severity }) => {
    const range = p.line !== undefined ? new vscode.Range(p.line - 1, (p.column ?? 1) - 1, p.line - 1, (p.column ?? 1) + 20) : rangeOfPath(text, p.path, doc);
    const d = new vscode.Diagnostic(range, `${p.path ? `${p.path}: ` : ''}${p.message}${p.hint ? ` ${p.hint}` : ''}`, severity);
    d.source = 'Transfer Lab';
    d.code = p.path || undefined;
    return d;
  });
}
