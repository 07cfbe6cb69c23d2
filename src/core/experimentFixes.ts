// The quick fixes the experiment editor offers, as plain text edits: pure, so each one is
// unit-tested on the text it changes (the editor turns them into WorkspaceEdits).
import type { InputProblem } from './experiment';
import { closest } from './didYouMean';
import { outlineJson, type JsonOutline } from './jsonPositions';

/** Replace `length` characters at `offset` with `text`. */
export interface TextEdit {
  offset: number;
  length: number;
  text: string;
}

export interface QuickFix {
  title: string;
  edit: TextEdit;
}

/** Length of the JSON string token (quotes included) that starts at `offset`, when one does. */
function stringTokenLength(text: string, offset: number): number | undefined {
  if (text[offset] !== '"') return undefined;
  for (let i = offset + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i - offset + 1;
  }
  return undefined;
}

/** The edit a problem's fix makes to the text, when the text still has the field it is about. */
export function quickFixFor(text: string, p: InputProblem, outline: JsonOutline = outlineJson(text)): QuickFix | undefined {
  const field = p.fix && outline.fields.get(p.path);
  if (!p.fix || !field) return undefined;
  const to = JSON.stringify(p.fix.to);
  if (p.fix.kind === 'rename-key') {
    const length = stringTokenLength(text, field.offset);
    return length === undefined ? undefined : { title: p.fix.title ?? `Rename to ${to}`, edit: { offset: field.offset, length, text: to } };
  }
  if (!field.value) return undefined;
  return { title: p.fix.title ?? `Change to ${to}`, edit: { offset: field.value.offset, length: field.value.length, text: to } };
}

/**
 * A sibling folder whose name is close to a dataset folder that does not exist: the path as
 * written with its last part replaced (so a relative path stays relative), or undefined.
 */
export function datasetDirSuggestion(written: string, siblings: readonly string[]): string | undefined {
  const trimmed = written.replace(/[\\/]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  const name = trimmed.slice(cut + 1);
  if (!name || name === '.' || name === '..') return undefined;
  const near = siblings.find((s) => s.toLowerCase() === name.toLowerCase() && s !== name) ?? closest(name, siblings);
  return near && near !== name ? trimmed.slice(0, cut + 1) + near : undefined;
}
