// Studies beside runs: cell runs grouped under their study (by run id or folder), the tree's
// status line, the progress notification's line, and which study Resume offers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellProgressText,
  describeGrid,
  groupRunsByStudy,
  resumableStudy,
  studyProgress,
  studyStatusText,
  type StudyShape,
} from '../../src/core/studyGrouping';

function study(statuses: string[], runIds: (string | null)[] = statuses.map(() => null)): StudyShape {
  const strategies = ['scratch', 'fine-tune'];
  const perClass = [5, 'all'] as const;
  const cells = statuses.map((status, i) => ({ strategy: strategies[i % 2], perClass: perClass[Math.floor(i / 2) % 2], seed: 1, status, runId: runIds[i] }));
  return { experimentName: 'tiny', finishedAt: null, grid: { perClass: [...perClass], seeds: [1], strategies }, cells };
}

const run = (dir: string, id: string) => ({ dir, record: { id } });

test("a study's cell runs go under the study, by run id or by living in its folder; other runs stay loose", () => {
  const a = { dir: '/w/runs/studies/s1', study: study(['completed', 'completed'], ['r1', 'r2']) };
  const b = { dir: '/w/runs/studies/s2', study: study(['pending']) };
  const runs = [
    run('/w/runs/r1', 'r1'),
    run('/w/runs/mine', 'mine'),
    run('/w/runs/r2', 'r2'),
    run('/w/runs/studies/s2/r9', 'r9'),
    run('/w/runs/studies/s20/x', 'x'),
  ];
  const { loose, byStudy } = groupRunsByStudy(runs, [a, b]);
  assert.deepEqual(
    loose.map((r) => r.record.id),
    ['mine', 'x'],
    'a folder whose name only starts like a study folder is not inside it',
  );
  assert.deepEqual(
    byStudy.get(a.dir)!.map((r) => r.record.id),
    ['r1', 'r2'],
  );
  assert.deepEqual(
    byStudy.get(b.dir)!.map((r) => r.record.id),
    ['r9'],
  );
  // With no studies every run is loose.
  assert.equal(groupRunsByStudy(runs, []).loose.length, runs.length);
});

test('the grid and the status line say sizes, seeds, strategies and how many cells are done', () => {
  const s = study(['completed', 'failed', 'running', 'pending']);
  assert.equal(describeGrid(s.grid), '5, all per class × 1 seed × 2 strategies');
  assert.deepEqual(studyProgress(s), { done: 1, total: 4, failed: 1, running: 1, unfinished: true, stopped: true });
  assert.equal(studyStatusText(s, true), '1 of 4 cells, 1 failed · running');
  assert.equal(studyStatusText(s, false), '1 of 4 cells, 1 failed · stopped (Resume runs the rest)');
  assert.equal(studyStatusText(study(['completed', 'completed']), false), '2 of 2 cells');
  // A failed cell has no result (Resume tries it again) but the study was not stopped.
  assert.deepEqual(studyProgress(study(['completed', 'failed'])), { done: 1, total: 2, failed: 1, running: 0, unfinished: true, stopped: false });
  assert.equal(studyStatusText(study(['completed', 'failed']), false), '1 of 2 cells, 1 failed');
});

test('the progress line names the cell by its place in the grid', () => {
  const s = study(['completed', 'completed', 'pending', 'pending']);
  assert.equal(cellProgressText(s, { strategy: 'fine-tune', perClass: 'all', seed: 1 }), 'cell 4 of 4: fine-tune, all images, seed 1');
  assert.equal(cellProgressText(s, { strategy: 'scratch', perClass: 5, seed: 1 }), 'cell 1 of 4: scratch, 5 per class, seed 1');
});

test('Resume offers the newest study with cells left that is not running now', () => {
  const done = { dir: '/s/done', study: study(['completed', 'completed']) };
  const stopped = { dir: '/s/stopped', study: study(['completed', 'cancelled']) };
  const older = { dir: '/s/older', study: study(['pending', 'pending']) };
  assert.equal(resumableStudy([done, stopped, older], () => false)?.dir, '/s/stopped');
  assert.equal(resumableStudy([done, stopped, older], (d) => d === '/s/stopped')?.dir, '/s/older');
  assert.equal(
    resumableStudy([done], () => false),
    undefined,
  );
});
