// `transfer-lab demo --json`: one JSON document per line, each with a type; the study's events
// as they come (not the cells' run events), then exactly one summary line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoLine, parseDemoLine, type DemoLine } from '../../src/core/demoOutput';
import type { RunEvent } from '../../src/core/runEvents';
import type { StudyCell, StudyEvent, StudyFile } from '../../src/core/studyFile';
import { studyProgress } from '../../src/cli/studyCommand';
import type { CliContext } from '../../src/cli/context';

const unmeasured = { testAccuracy: null, bestValAccuracy: null, bestEpoch: null, epochs: null, epochsToTarget: null, trainSeconds: null, error: null };
const cell: StudyCell = { strategy: 'fine-tune', perClass: 5, seed: 1, status: 'pending', runId: null, trainImages: 25, ...unmeasured };
const done: StudyCell = { ...cell, status: 'completed', runId: 'r1', testAccuracy: 0.8, bestValAccuracy: 0.84, bestEpoch: 3, epochs: 5, trainSeconds: 1.5 };
const study: StudyFile = {
  format: 1,
  id: 's1',
  experiment: 'demo.tlexp.json',
  experimentName: 'demo',
  backend: 'tensorflow',
  createdAt: '2026-12-03T01:00:00.000Z',
  finishedAt: null,
  grid: { perClass: [5], seeds: [1], strategies: ['fine-tune'] },
  target: 0.7,
  // A newline inside a value must not split the document over two lines.
  notes: { subsets: 'nested per seed,\ndrawn from the training split' },
  cells: [cell],
  summary: null,
};

/** What the demo writes on stdout in --json mode: the study's progress, then its summary line. */
function demoStdout(events: (StudyEvent | RunEvent)[]): string[] {
  const out: string[] = [];
  const ctx: CliContext = {
    installRoot: '',
    cacheDir: '',
    backend: 'auto',
    nativeDevice: { device: 'auto', setBy: '--device' },
    json: true,
    out: (l) => out.push(l),
    err: () => undefined,
  };
  const onEvent = studyProgress(ctx);
  for (const e of events) onEvent(e);
  const finished = { ...study, finishedAt: '2026-12-03T01:01:00.000Z', cells: [done] };
  out.push(demoLine({ type: 'summary', status: 'completed', backend: 'tensorflow', seconds: 61.5, studyDir: '/tmp/demo/runs/studies/s1', study: finished }));
  return out;
}

test('demo --json: every stdout line is one typed document; the study events in order, the cells’ run events left out, one summary last', () => {
  const lines = demoStdout([
    { type: 'study-started', studyDir: '/tmp/d', study },
    { type: 'study-cell-started', studyDir: '/tmp/d', index: 0, cell: { ...cell, status: 'running', runId: 'r1' } },
    { type: 'warning', message: 'guessed the value range' },
    { type: 'study-cell-finished', studyDir: '/tmp/d', index: 0, cell: done },
    { type: 'study-finished', studyDir: '/tmp/d', status: 'completed', summary: null, cache: { hits: 3, misses: 25 }, durationMs: 60_000 },
  ]);
  const parsed: DemoLine[] = lines.map((l, i) => {
    assert.ok(!l.includes('\n'), `line ${i} is one line`);
    const p = parseDemoLine(l);
    assert.ok(p.ok, p.ok ? '' : `line ${i}: ${p.error}`);
    return p.value;
  });
  assert.deepEqual(
    parsed.map((p) => p.type),
    ['study-started', 'study-cell-started', 'study-cell-finished', 'study-finished', 'summary'],
  );
  const summary = parsed.at(-1)!;
  assert.ok(summary.type === 'summary');
  assert.deepEqual([summary.status, summary.backend, summary.seconds, summary.study.cells[0].testAccuracy], ['completed', 'tensorflow', 61.5, 0.8]);
  assert.equal(summary.study.notes.subsets, study.notes.subsets);
});

test('demo --json lines read back strictly: an untyped or malformed line is refused, naming its type and field', () => {
  const untyped = parseDemoLine(JSON.stringify({ backend: 'tensorflow', seconds: 1, studyDir: 'd', study }));
  assert.equal(untyped.ok, false, 'the old summary, without a type');
  const badSummary = parseDemoLine(JSON.stringify({ type: 'summary', status: 'completed', backend: 'gpu', seconds: 1, studyDir: 'd', study }));
  assert.match(badSummary.ok ? '' : badSummary.error, /^'summary' line: backend: /);
  const badCell = parseDemoLine(JSON.stringify({ type: 'study-cell-finished', studyDir: 'd', index: -1, cell: done }));
  assert.match(badCell.ok ? '' : badCell.error, /^'study-cell-finished' line: index: /);
  assert.equal(parseDemoLine('{"type":"summary"').ok, false, 'a cut-off line');
  const notJson = parseDemoLine('demo: 157 s in all');
  assert.match(notJson.ok ? '' : notJson.error, /^not a JSON document: demo: 157 s/);
});
