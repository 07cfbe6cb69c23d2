// Edits from the layer tree change only what they must: formatting, key order and every
// other field of the user's experiment file stay as written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdits } from 'jsonc-parser';
import { applyChange, changeNotice, diffSpan, editsFor, formattingOf } from '../../src/core/experimentEdits';

const file = [
  '{',
  '    "name": "fashion",',
  '    "data": { "dir": "../images", "split": { "val": 0.2 } },',
  '    "backbone": {',
  '        "catalog": "fmnist-mini"',
  '    },',
  '    "strategy": {',
  '        "kind": "fine-tune",',
  '        "unfreezeLast": 3,',
  '        "baseLearningRate": 0.0001',
  '    },',
  '    "train": { "epochs": 5 }',
  '}',
  '',
].join('\n');

test('train from a layer: fine-tune with unfreezeFrom, unfreezeLast removed, the rest untouched', () => {
  const out = applyChange(file, { kind: 'trainFrom', layer: 'block_5_dw' });
  assert.deepEqual(JSON.parse(out).strategy, { kind: 'fine-tune', baseLearningRate: 0.0001, unfreezeFrom: 'block_5_dw' });
  const before = file.split('\n');
  const after = out.split('\n');
  for (const line of ['    "data": { "dir": "../images", "split": { "val": 0.2 } },', '    "train": { "epochs": 5 }', '        "catalog": "fmnist-mini"'])
    assert.ok(after.includes(line), `kept: ${line}`);
  assert.ok(
    after.some((l) => l === '        "unfreezeFrom": "block_5_dw"'),
    `new field uses the file's 4-space indent:\n${out}`,
  );
  assert.equal(after.length, before.length, 'one field replaced by one field');
});

test('the edit is one small span, not the whole file', () => {
  const r = editsFor(file, { kind: 'cutAt', layer: 'block_4_pw_relu' });
  assert.ok(r.ok);
  assert.equal(r.edits.length, 1);
  assert.ok(r.edits[0].length < 10, `replaces ${r.edits[0].length} characters`);
  assert.ok(r.edits[0].offset > file.indexOf('"catalog"'), 'starts inside the backbone object');
  const out = applyEdits(file, r.edits);
  assert.deepEqual(JSON.parse(out).backbone, { catalog: 'fmnist-mini', cutAt: 'block_4_pw_relu' });
  // Moving an existing cut replaces only the name.
  const moved = editsFor(out, { kind: 'cutAt', layer: 'block_3_pw_relu' });
  assert.ok(moved.ok);
  assert.deepEqual(moved.edits, [{ offset: out.indexOf('block_4_pw_relu') + 'block_'.length, length: 1, content: '3' }]);
  assert.deepEqual(JSON.parse(applyChange(out, { kind: 'cutAt', layer: undefined })).backbone, { catalog: 'fmnist-mini' });
});

test('switching strategy drops the fields the new kind refuses and keeps fine-tune settings when fine-tuning', () => {
  const fe = applyChange(file, { kind: 'freezeAll' });
  assert.deepEqual(JSON.parse(fe).strategy, { kind: 'feature-extraction' });
  assert.deepEqual(JSON.parse(fe).train, { epochs: 5 });
  assert.deepEqual(JSON.parse(applyChange(file, { kind: 'strategy', strategy: 'scratch' })).strategy, { kind: 'scratch' });
  assert.deepEqual(JSON.parse(applyChange(file, { kind: 'strategy', strategy: 'fine-tune' })).strategy, {
    kind: 'fine-tune',
    unfreezeLast: 3,
    baseLearningRate: 0.0001,
  });
  // From feature extraction to fine-tuning from a layer.
  assert.deepEqual(JSON.parse(applyChange(fe, { kind: 'trainFrom', layer: 'x' })).strategy, { kind: 'fine-tune', unfreezeFrom: 'x' });
  // Already so: no edit at all.
  const same = editsFor(fe, { kind: 'freezeAll' });
  assert.deepEqual(same, { ok: true, edits: [] });
});

test('compact files, tabs and CRLF keep their style', () => {
  const compact = '{"name":"a","backbone":{"catalog":"m"},"strategy":{"kind":"feature-extraction"}}';
  const out = applyChange(compact, { kind: 'trainFrom', layer: 'l' });
  assert.deepEqual(JSON.parse(out).strategy, { kind: 'fine-tune', unfreezeFrom: 'l' });
  assert.equal(out, '{"name":"a","backbone":{"catalog":"m"},"strategy":{"kind":"fine-tune","unfreezeFrom":"l"}}');
  const inline = '{\n  "name": "a",\n  "strategy": { "kind": "fine-tune", "unfreezeLast": 3 },\n  "train": { "epochs": 5 }\n}\n';
  assert.equal(
    applyChange(inline, { kind: 'trainFrom', layer: 'l' }),
    '{\n  "name": "a",\n  "strategy": { "kind": "fine-tune", "unfreezeFrom": "l" },\n  "train": { "epochs": 5 }\n}\n',
  );
  const crlf = '{\r\n\t"name": "a",\r\n\t"backbone": {\r\n\t\t"catalog": "m"\r\n\t},\r\n\t"strategy": { "kind": "scratch" }\r\n}\r\n';
  assert.deepEqual(formattingOf(crlf), { insertSpaces: false, tabSize: 1, eol: '\r\n' });
  const cut = applyChange(crlf, { kind: 'cutAt', layer: 'l' });
  assert.ok(cut.includes('\t\t"cutAt": "l"'), JSON.stringify(cut));
  assert.ok(!/[^\r]\n/.test(cut), 'no bare LF added');
});

test('a missing or odd strategy is written whole; a broken file is refused, not rewritten', () => {
  assert.deepEqual(JSON.parse(applyChange('{"backbone":{"catalog":"m"}}', { kind: 'trainFrom', layer: 'l' })).strategy, {
    kind: 'fine-tune',
    unfreezeFrom: 'l',
  });
  assert.deepEqual(JSON.parse(applyChange('{"strategy":"fine-tune"}', { kind: 'freezeAll' })).strategy, { kind: 'feature-extraction' });
  const broken = '{"name": "a", "strategy": {"kind": "feature-extraction"';
  const r = editsFor(broken, { kind: 'trainFrom', layer: 'l' });
  assert.equal(r.ok, false);
  assert.equal(applyChange(broken, { kind: 'freezeAll' }), broken);
  assert.equal(editsFor('{"name":"a"}', { kind: 'cutAt', layer: 'l' }).ok, false, 'no backbone object to put the cut in');
});

test('diffSpan finds the smallest replacement', () => {
  assert.deepEqual(diffSpan('abcdef', 'abXdef'), [{ offset: 2, length: 1, content: 'X' }]);
  assert.deepEqual(diffSpan('aaa', 'aaaa'), [{ offset: 3, length: 0, content: 'a' }]);
  assert.deepEqual(diffSpan('same', 'same'), []);
  assert.equal(applyEdits('ab', diffSpan('ab', '')), '');
});

test('the change notice says "unsaved" only while the file is unsaved', () => {
  const change = { kind: 'trainFrom', layer: 'block_5_dw' } as const;
  assert.equal(changeNotice('a.tlexp.json', change, true), 'a.tlexp.json: strategy: fine-tune from block_5_dw (unsaved; Ctrl+Z in the file undoes it).');
  assert.equal(changeNotice('a.tlexp.json', change, false), 'a.tlexp.json: strategy: fine-tune from block_5_dw (saved; Ctrl+Z in the file undoes it).');
  assert.doesNotMatch(changeNotice('a.tlexp.json', change, false), /unsaved/);
});
