import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseExperimentText } from '../../src/core/experimentValidation';
import { datasetDirSuggestion, quickFixFor, type TextEdit } from '../../src/core/experimentFixes';
import { datasetOfInvalid } from '../../src/core/experimentResolution';
import type { InputProblem } from '../../src/core/experiment';

const apply = (text: string, e: TextEdit) => text.slice(0, e.offset) + e.text + text.slice(e.offset + e.length);

const file = (over: object) =>
  JSON.stringify(
    { name: 'x', data: { dir: 'images' }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' }, train: { epochs: 5 }, ...over },
    null,
    2,
  );

function errorsOf(text: string): InputProblem[] {
  const parsed = parseExperimentText(text, '/w/x.tlexp.json');
  assert.equal(parsed.ok, false);
  return parsed.ok ? [] : parsed.errors;
}

test('a misspelt key carries a rename fix; applied, the file is valid and keeps its value', () => {
  const text = file({ train: { epoch: 7, batchSize: 8 } });
  const problem = errorsOf(text).find((p) => p.path === 'train.epoch')!;
  assert.match(problem.hint ?? '', /Did you mean "epochs"/);
  assert.deepEqual(problem.fix, { kind: 'rename-key', to: 'epochs' });
  const fix = quickFixFor(text, problem)!;
  assert.equal(fix.title, 'Rename to "epochs"');
  const fixed = parseExperimentText(apply(text, fix.edit), '/w/x.tlexp.json');
  assert.ok(fixed.ok);
  assert.equal(fixed.value.train?.epochs, 7);
});

test('no rename fix when the meant key is already there (renaming would make a duplicate), or when nothing is close', () => {
  const both = errorsOf(file({ train: { epoch: 7, epochs: 3 } })).find((p) => p.path === 'train.epoch')!;
  assert.equal(both.fix, undefined);
  const far = errorsOf(file({ train: { wholeNewThing: 1 } })).find((p) => p.path === 'train.wholeNewThing')!;
  assert.equal(far.fix, undefined);
});

test('a misspelt option carries a replace fix for the value', () => {
  const text = file({ train: { optimizer: 'adma' } });
  const problem = errorsOf(text).find((p) => p.path === 'train.optimizer')!;
  const fix = quickFixFor(text, problem)!;
  assert.equal(fix.title, 'Change to "adam"');
  assert.equal(JSON.parse(apply(text, fix.edit)).train.optimizer, 'adam');
});

test('every error is reported at once, from every section, with the warnings found beside them', () => {
  const text = file({ epochz: 1, train: { epochs: -1, optimizer: 'adma' }, strategy: { kind: 'fine-tunee' }, head: { dropout: 2 } });
  const parsed = parseExperimentText(text, '/w/x.tlexp.json');
  assert.equal(parsed.ok, false);
  if (parsed.ok) return;
  const paths = parsed.errors.map((e) => e.path);
  for (const p of ['epochz', 'train.epochs', 'train.optimizer', 'strategy.kind', 'head.dropout']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  assert.ok(Array.isArray(parsed.warnings));
});

test('the dataset of a file with errors elsewhere is still checked; not when "data" itself has an error', () => {
  const value = { data: { dir: 'imgs', split: { val: 0.3 } } };
  assert.deepEqual(datasetOfInvalid(value, [{ path: 'train.epochs', message: 'bad' }], '/w/x.tlexp.json'), {
    written: 'imgs',
    dir: '/w/imgs',
    split: { val: 0.3, test: 0.1 },
    seed: 42,
  });
  assert.equal(datasetOfInvalid(value, [{ path: 'data.split.val', message: 'bad' }], '/w/x.tlexp.json'), undefined);
  assert.equal(datasetOfInvalid({ data: {} }, [], '/w/x.tlexp.json'), undefined);
});

test('a dataset folder that does not exist: the close sibling, with the path written as it was', () => {
  assert.equal(datasetDirSuggestion('datasets/fashon-target', ['fashion-target', 'flowers']), 'datasets/fashion-target');
  assert.equal(datasetDirSuggestion('Flowers/', ['flowers', 'fashion-target']), 'flowers');
  assert.equal(datasetDirSuggestion('../data/cats', ['dogs', 'birds']), undefined);
  assert.equal(datasetDirSuggestion('..', ['a']), undefined);
});
