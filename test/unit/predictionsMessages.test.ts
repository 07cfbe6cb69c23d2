// The Predictions panel's boundary: what the webview may ask (checked before the host acts),
// what the host sends, and the history kept in workspaceState (bounded, validated on reading).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PREDICTIONS_PROTOCOL, describeModel, parsePredictionsRequest, parsePredictionsState, type PredictionSet } from '../../src/core/predictionsMessages';
import { addToHistory, historyItems, readHistory, titleOf, trimmed } from '../../src/core/predictionHistory';

const P = PREDICTIONS_PROTOCOL;
const model = {
  target: '/w/.transferlab/runs/r1',
  source: 'run' as const,
  runId: 'r1',
  strategy: 'fine-tune',
  backbone: 'fmnist-mini',
  labels: ['cat', 'dog'],
};
function set(id: string, rows = 2, extra: Partial<PredictionSet> = {}): PredictionSet {
  return {
    id,
    at: '2026-12-03T01:00:00.000Z',
    inputs: ['/w/data/test'],
    model,
    rows: Array.from({ length: rows }, (_, i) => ({
      file: `/w/data/test/cat/${i}.png`,
      root: '/w/data/test',
      truth: 'cat',
      top: [{ label: 'cat', probability: 0.9 }],
    })),
    total: rows,
    status: 'done',
    problems: [],
    accuracy: [{ folder: '/w/data/test', labelled: rows, correct: rows - 1, unlabelled: 0, accuracy: (rows - 1) / rows }],
    ...extra,
  };
}

test('requests from the webview are parsed: the known ones pass, a row must be one shown, a drop is bounded', () => {
  assert.deepEqual(parsePredictionsRequest({ type: 'pick', protocol: P, folders: true }, 0), { ok: true, value: { type: 'pick', protocol: P, folders: true } });
  assert.ok(parsePredictionsRequest({ type: 'open-image', protocol: P, row: 1 }, 2).ok);
  const outside = parsePredictionsRequest({ type: 'open-image', protocol: P, row: 2 }, 2);
  assert.equal(outside.ok, false);
  assert.match(outside.ok ? '' : outside.error, /row: 2 is not one of the 2 rows shown/);
  const empty = parsePredictionsRequest({ type: 'drop', protocol: P, uris: [] }, 0);
  assert.equal(empty.ok, false, 'an empty drop');
  assert.equal(parsePredictionsRequest({ type: 'drop', protocol: P, uris: Array(1001).fill('file:///a.png') }, 0).ok, false, 'a flood');
  const bad = parsePredictionsRequest({ type: 'drop', protocol: P, uris: 'file:///a.png' }, 0);
  assert.match(bad.ok ? '' : bad.error, /'drop' message: uris/);
  const unknown = parsePredictionsRequest({ type: 'delete-everything', protocol: P }, 0);
  assert.match(unknown.ok ? '' : unknown.error, /unknown message type "delete-everything"/);
  const stale = parsePredictionsRequest({ type: 'ready', protocol: P + 1 }, 0);
  assert.equal(!stale.ok && stale.mismatch, true, 'another version is recognised');
});

test('the state the host posts parses on the webview side, deeply', () => {
  const state = { type: 'state', protocol: P, current: set('a'), images: ['https://x/0.png', ''], history: historyItems([set('a')]) };
  assert.ok(parsePredictionsState(state).ok);
  const broken = parsePredictionsState({ ...state, current: { ...set('a'), status: 'exploded' } });
  assert.match(broken.ok ? '' : broken.error, /'state' message: current\.status/);
});

test('the history: newest first, one copy per prediction, at most the limit, big folders trimmed with a count', () => {
  let h: PredictionSet[] = [];
  for (const id of ['a', 'b', 'c']) h = addToHistory(h, set(id), 2);
  assert.deepEqual(
    h.map((x) => x.id),
    ['c', 'b'],
  );
  h = addToHistory(h, set('b', 3), 2);
  assert.deepEqual(
    h.map((x) => [x.id, x.rows.length]),
    [
      ['b', 3],
      ['c', 2],
    ],
    'a prediction shown again moves to the top, replaced',
  );
  const big = trimmed(set('big', 250), 200);
  assert.equal(big.rows.length, 200);
  assert.equal(big.droppedRows, 50);
  assert.equal(big.total, 250, 'the total stays');
});

test('the history read back keeps the valid entries only, and lists each in one line', () => {
  const raw = [set('a'), { id: 'broken' }, 'junk', set('b', 1, { inputs: ['/w/x.png', '/w/y.png'], accuracy: [] })];
  const read = readHistory(raw);
  assert.deepEqual(
    read.map((x) => x.id),
    ['a', 'b'],
  );
  assert.deepEqual(readHistory(undefined), []);
  const [a, b] = historyItems(read);
  assert.deepEqual(a, { id: 'a', at: '2026-12-03T01:00:00.000Z', title: 'test', model: 'fine-tune · fmnist-mini · run r1', images: 2, accuracy: 0.5 });
  assert.equal(b.title, 'x.png and 1 more');
  assert.equal(b.accuracy, undefined, 'no folder, no accuracy');
  assert.equal(titleOf(set('c', 0, { inputs: [] })), 'nothing');
  assert.equal(describeModel({ target: '/m/exported', source: 'export', labels: [] }), 'exported model exported');
});
