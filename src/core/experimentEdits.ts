// Minimal text edits to an experiment file for changes made from the UI (the layer tree):
// set the cut, train from a layer, switch the strategy. Only the characters that must change
// are replaced, so the user's formatting, key order and every other field stay as written
// and the editor's undo shows one small change.
import { applyEdits, findNodeAtLocation, modify, parseTree, type Edit, type FormattingOptions, type ParseError } from 'jsonc-parser';
import type { StrategySpec } from './experiment';

export type StrategyKind = StrategySpec['kind'];

export type ExperimentChange =
  /** Fine-tune from `layer` on: strategy.kind "fine-tune", unfreezeFrom = layer, no unfreezeLast. */
  | { kind: 'trainFrom'; layer: string }
  /** Feature extraction: the whole base frozen. */
  | { kind: 'freezeAll' }
  /** Another strategy kind; fields the new kind does not accept are removed. */
  | { kind: 'strategy'; strategy: StrategyKind }
  /** backbone.cutAt = layer (undefined removes it: the backbone's usual cut). */
  | { kind: 'cutAt'; layer: string | undefined };

export type TextEdit = Edit;

export type EditResult = { ok: true; edits: TextEdit[] } | { ok: false; message: string };

/** Strategy fields only fine-tuning accepts (experimentValidation refuses them elsewhere). */
const FINE_TUNE_ONLY = ['unfreezeFrom', 'unfreezeLast', 'baseLearningRate', 'warmupEpochs'] as const;

type Step = [path: (string | number)[], value: unknown];

/** The indentation and line ends the file already uses, for any line an edit has to add. */
export function formattingOf(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n([ \t]+)"/.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent ? indent.length : 2, eol };
}

function stepsFor(text: string, change: ExperimentChange): Step[] | string {
  const root = parseTree(text);
  const strategy = root && findNodeAtLocation(root, ['strategy']);
  const strategyIsObject = strategy?.type === 'object';
  const backbone = root && findNodeAtLocation(root, ['backbone']);
  const present = (key: string) => strategyIsObject && findNodeAtLocation(strategy, [key]) !== undefined;
  const switchTo = (kind: StrategyKind): Step[] => {
    if (!strategyIsObject) return [[['strategy'], { kind }]];
    const steps: Step[] = [[['strategy', 'kind'], kind]];
    if (kind !== 'fine-tune') for (const key of FINE_TUNE_ONLY) if (present(key)) steps.push([['strategy', key], undefined]);
    return steps;
  };
  switch (change.kind) {
    case 'trainFrom':
      if (!strategyIsObject) return [[['strategy'], { kind: 'fine-tune', unfreezeFrom: change.layer }]];
      return [
        [['strategy', 'kind'], 'fine-tune'],
        ...(present('unfreezeLast') ? [[['strategy', 'unfreezeLast'], undefined] as Step] : []),
        [['strategy', 'unfreezeFrom'], change.layer],
      ];
    case 'freezeAll':
      return switchTo('feature-extraction');
    case 'strategy':
      return switchTo(change.strategy);
    case 'cutAt':
      if (backbone?.type !== 'object') return 'the experiment has no "backbone" object to set the cut in';
      if (change.layer === undefined && !findNodeAtLocation(backbone, ['cutAt'])) return [];
      return [[['backbone', 'cutAt'], change.layer]];
  }
}

/**
 * The edits (offsets in `text`) that make the change: one replacement spanning only the
 * characters that differ. Refuses a file that is not a JSON object (the user is mid-edit).
 */
export function editsFor(text: string, change: ExperimentChange): EditResult {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false });
  if (!root || root.type !== 'object' || errors.length > 0)
    return { ok: false, message: 'the experiment file is not valid JSON right now; fix it (or undo) and try again' };
  const steps = stepsFor(text, change);
  if (typeof steps === 'string') return { ok: false, message: steps };
  const formattingOptions = formattingOf(text);
  // Each step is computed on the text the previous ones produced, then the whole change is
  // reduced to the one span where the old and the new text differ.
  let current = text;
  for (const [path, value] of steps) current = applyEdits(current, modifyInStyle(current, path, value, formattingOptions));
  return { ok: true, edits: diffSpan(text, current) };
}

/**
 * jsonc-parser's modify, formatted like its surroundings: in an object written over several
 * lines, new members get their own line with the file's indent; in an object written on one
 * line (`{ "kind": "fine-tune" }` or compact `{"kind":"x"}`) they stay on it, spaced alike.
 */
function modifyInStyle(text: string, path: (string | number)[], value: unknown, formattingOptions: FormattingOptions): TextEdit[] {
  const root = parseTree(text);
  const parent = root && findNodeAtLocation(root, path.slice(0, -1));
  if (!parent || parent.type !== 'object') return modify(text, path, value, { formattingOptions });
  const parentText = text.slice(parent.offset, parent.offset + parent.length);
  if (/[\r\n]/.test(parentText)) return modify(text, path, value, { formattingOptions });
  const spaced = (parent.children?.length ?? 0) > 1 ? /,\s/.test(parentText) : /^\{\s|":\s/.test(parentText) || !parent.children?.length;
  const comma = spaced ? ', ' : ',';
  const colon = /":\s/.test(parentText) || !parent.children?.length ? ': ' : ':';
  return modify(text, path, value, {}).map((e) => ({
    ...e,
    content: e.content.replace(/^,\s*/, comma).replace(/^((?:,\s*)?"(?:[^"\\]|\\.)*"):\s*/, `$1${colon}`),
  }));
}

/** The smallest single replacement turning `before` into `after` ([] when equal). */
export function diffSpan(before: string, after: string): TextEdit[] {
  if (before === after) return [];
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  return [{ offset: start, length: before.length - start - end, content: after.slice(start, after.length - end) }];
}

/** The text after the change (unchanged when the change cannot be made). */
export function applyChange(text: string, change: ExperimentChange): string {
  const result = editsFor(text, change);
  return result.ok ? applyEdits(text, result.edits) : text;
}

/** What the change does, for a status message: "strategy: fine-tune from block_5_dw". */
export function describeChange(change: ExperimentChange): string {
  switch (change.kind) {
    case 'trainFrom':
      return `strategy: fine-tune from ${change.layer}`;
    case 'freezeAll':
      return 'strategy: feature extraction (the whole base frozen)';
    case 'strategy':
      return `strategy: ${change.strategy}`;
    case 'cutAt':
      return change.layer ? `backbone.cutAt: ${change.layer}` : 'backbone.cutAt removed (the usual cut)';
  }
}

/**
 * The notice after a change: whether the file is still unsaved (with files.autoSave, or once
 * the user saves, it is not), and that Ctrl+Z in the file undoes it either way.
 */
export function changeNotice(file: string, change: ExperimentChange, unsaved: boolean): string {
  return `${file}: ${describeChange(change)} (${unsaved ? 'unsaved; ' : 'saved; '}Ctrl+Z in the file undoes it).`;
}
