// Minimal text edits to an experiment file for changes made from the UI (layer tree):
// formatting, comments' absence and every other field are kept as the user wrote them.
import { applyEdits, modify, type Edit } from 'jsonc-parser';

const FORMAT = { formattingOptions: { insertSpaces: true, tabSize: 2 } };

export type ExperimentChange =
  | { kind: 'trainFrom'; layer: string }
  | { kind: 'freezeAll' }
  | { kind: 'cutAt'; layer: string | undefined };

export function editsFor(text: string, change: ExperimentChange): Edit[] {
  const steps: [(string | number)[], unknown][] =
    change.kind === 'trainFrom'
      ? [
          [['strategy', 'kind'], 'fine-tune'],
          [['strategy', 'unfreezeLast'], undefined],
          [['strategy', 'unfreezeFrom'], change.layer],
        ]
      : change.kind === 'freezeAll'
        ? [[['strategy'], { kind: 'feature-extraction' }]]
        : [[['backbone', 'cutAt'], change.layer]];
  // Each modify is computed on the text the previous edits produced, then merged into one.
  let current = text;
  for (const [path, value] of steps) current = applyEdits(current, modify(current, path, value, FORMAT));
  return current === text ? [] : [{ offset: 0, length: text.length, content: current }];
}

export function applyChange(text: string, change: ExperimentChange): string {
  return applyEdits(text, editsFor(text, change));
}
