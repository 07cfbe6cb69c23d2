// The Study panel's state from study.json, the validation of what the view sends, and the
// settling of a study whose trainer died mid-cell (the grid as typed: studyCore.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildStudyState, axisPositions } from '../../src/core/studyView';
import { parseStudyState, parseStudyViewMessage, STUDY_PROTOCOL } from '../../src/core/studyMessages';
import { settleInterruptedCells } from '../../src/core/studyRecovery';
import { summarizeStudy } from '../../src/core/studySummary';
import { gridCells, type StudyCell, type StudyFile, type StudyGrid } from '../../src/core/studyFile';

const grid: StudyGrid = { strategies: ['scratch', 'feature-extraction'], perClass: [5, 'all'], seeds: [1, 2] };
/** 5 classes; 5 per class = 25 images, all = 60 (12 per class). */
const images = (perClass: number | 'all') => (perClass === 'all' ? 60 : perClass * 5);

function studyWith(results: (number | null)[], status: StudyCell['status'][] = results.map((r) => (r === null ? 'pending' : 'completed'))): StudyFile {
  const cells: StudyCell[] = gridCells(grid).map((c, i) => ({
    ...c,
    status: status[i],
    runId: status[i] === 'pending' ? null : `run-${i}`,
    trainImages: images(c.perClass),
    testAccuracy: results[i],
    bestValAccuracy: results[i],
    bestEpoch: results[i] === null ? null : 1,
    epochs: results[i] === null ? null : 2,
    epochsToTarget: null,
    trainSeconds: results[i] === null ? null : c.strategy === 'scratch' ? 10 : 1,
    error: null,
  }));
  return {
    format: 1,
    id: 's1',
    experiment: '../../../tiny.tlexp.json',
    experimentName: 'tiny',
    backend: 'tensorflow',
    createdAt: '2026-12-03T01:00:00.000Z',
    finishedAt: null,
    grid,
    target: 0.7,
    notes: {},
    cells,
    summary: summarizeStudy(cells, grid),
  };
}

test('the state has a line per strategy from the completed seeds, on a log axis where all sits at its mean per class', () => {
  // Cell order: scratch 5 s1, s2; scratch all s1, s2; feature-extraction 5 s1, s2; all s1, s2.
  const study = studyWith([0.4, 0.5, 0.8, null, 0.7, 0.9, null, null]);
  assert.deepEqual(
    [...axisPositions(study)],
    [
      [5, 5],
      ['all', 12],
    ],
  );
  const state = buildStudyState('/runs/studies/s1', study, true);
  assert.equal(parseStudyState(state).ok, true, 'what the host sends is what the view accepts');
  assert.deepEqual(
    state.lines.map((l) => [l.strategy, l.points.map((p) => [p.perClass, p.x, p.n, Number(p.mean.toFixed(3)), p.min, p.max])]),
    [
      [
        'scratch',
        [
          [5, 5, 2, 0.45, 0.4, 0.5],
          ['all', 12, 1, 0.8, 0.8, 0.8],
        ],
      ],
      ['feature-extraction', [[5, 5, 2, 0.8, 0.7, 0.9]]],
    ],
  );
  assert.deepEqual([state.done, state.total, state.failed, state.finished], [5, 8, 0, false]);
  assert.equal(state.grid, '5, all per class × 2 seeds × 2 strategies');
  assert.equal(state.running, 'starting', 'live with no cell running yet');
  assert.match(state.sentence ?? '', /feature-extraction leads scratch by 35\.0 points at 5 per class/);
  assert.deepEqual(
    state.cells.map((c) => c.hasRun),
    [true, true, true, false, true, true, false, false],
  );
});

test('a running cell is named only while a trainer runs the study; no completed cell means no lines and no sentence', () => {
  const study = studyWith([0.4, null, null, null, null, null, null, null], ['completed', 'running', ...Array<StudyCell['status']>(6).fill('pending')]);
  assert.equal(buildStudyState('/s', study, true).running, 'scratch, 5 per class, seed 2');
  assert.equal(buildStudyState('/s', study, false).running, null, "a dead trainer's cell is not running");
  const empty = buildStudyState('/s', studyWith(Array(8).fill(null)), false);
  assert.deepEqual([empty.lines, empty.sentence], [[], null]);
});

test("the view's messages are checked: the protocol, the fields, and a cell that is one of those shown", () => {
  const rendered = { type: 'rendered', protocol: STUDY_PROTOCOL, lines: 2, bands: 2, points: 3, rows: 8, sentence: true };
  assert.equal(parseStudyViewMessage(rendered, 8).ok, true);
  assert.equal(parseStudyViewMessage({ type: 'open-run', protocol: STUDY_PROTOCOL, cell: 7 }, 8).ok, true);
  const beyond = parseStudyViewMessage({ type: 'open-run', protocol: STUDY_PROTOCOL, cell: 8 }, 8);
  assert.equal(beyond.ok, false);
  assert.match(beyond.ok ? '' : beyond.error, /cell: 8 is not one of the 8 cells shown/);
  const stale = parseStudyViewMessage({ type: 'ready', protocol: STUDY_PROTOCOL + 1 }, 8);
  assert.equal(!stale.ok && stale.mismatch, true);
  const bad = parseStudyViewMessage({ ...rendered, lines: -1 }, 8);
  assert.match(bad.ok ? '' : bad.error, /'rendered' message: lines/);
  assert.equal(parseStudyViewMessage({ type: 'delete-everything', protocol: STUDY_PROTOCOL }, 8).ok, false);
});

test('a trainer that died mid-cell: its running cell is cancelled when stopped, failed with the reason otherwise; nothing else changes', () => {
  const study = {
    ...studyWith([0.4, null, null, null, null, null, null, null], ['completed', 'running', ...Array<StudyCell['status']>(6).fill('pending')]),
    finishedAt: null,
  };
  const stopped = settleInterruptedCells(study, { stopped: true, reason: 'killed by SIGTERM' })!;
  assert.deepEqual(
    stopped.cells.map((c) => c.status),
    ['completed', 'cancelled', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending'],
  );
  const crashed = settleInterruptedCells(study, { stopped: false, reason: 'the trainer ran out of memory' })!;
  assert.deepEqual([crashed.cells[1].status, crashed.cells[1].error], ['failed', 'the trainer stopped: the trainer ran out of memory']);
  assert.deepEqual(crashed.cells[0], study.cells[0]);
  assert.equal(settleInterruptedCells(stopped, { stopped: true, reason: 'x' }), undefined, 'nothing left running: nothing to write');
});
