// A study end to end on the native backend and tiny data: stopped while its second cell runs,
// study.json reads back consistent (one cell completed, the stopped one cancelled, the rest
// pending); resumed, it runs only what is missing, keeps the completed cell's run, and ends
// with every cell completed and a summary. The frozen base's activations are cached across
// cells (the second feature-extraction cell sees images the first one computed).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadBackend } from '../../src/engine/backend';
import { runStudy, type StudyOptions } from '../../src/engine/study/runStudy';
import { readStudy } from '../../src/engine/study/studyFolder';
import type { StudyEvent, StudyGrid } from '../../src/core/studyFile';
import type { RunEvent } from '../../src/core/runEvents';
// @ts-expect-error: plain ESM helper shared with the scripts (no types)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

const repo = path.resolve(__dirname, '../../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-study-'));

before(async () => {
  await loadBackend({ preference: 'tensorflow', installRoot: repo });
  copyShippedDataset(path.join(root, 'data'), { train: 4, val: 2, test: 2 }, repo);
});

const GRID: StudyGrid = { perClass: [2, 'all'], seeds: [1], strategies: ['feature-extraction', 'scratch'] };

function options(events: (StudyEvent | RunEvent)[], shouldStop: () => boolean, resume?: string): StudyOptions {
  return {
    experimentFile: writeTinyExperiment(path.join(root, 'tiny.tlexp.json')),
    runsDir: path.join(root, 'runs'),
    cacheDir: path.join(root, 'cache'),
    installRoot: repo,
    backend: 'tensorflow',
    grid: GRID,
    resume,
    onEvent: (e) => events.push(e),
    shouldStop,
  };
}

const started = (events: (StudyEvent | RunEvent)[]) => events.flatMap((e) => (e.type === 'study-cell-started' ? [e.index] : []));

test('a study stopped during a cell reads back consistent; --resume runs only the missing cells', { timeout: 300_000 }, async () => {
  const first: (StudyEvent | RunEvent)[] = [];
  // Stop as soon as the second cell has started: it is cancelled mid-run.
  const stopped = await runStudy(options(first, () => started(first).length >= 2));
  assert.equal(stopped.status, 'cancelled');
  assert.deepEqual(started(first), [0, 1]);
  const onDisk = readStudy(stopped.studyDir);
  assert.deepEqual(
    onDisk.cells.map((c) => c.status),
    ['completed', 'cancelled', 'pending', 'pending'],
  );
  assert.equal(onDisk.finishedAt, null);
  assert.deepEqual(
    onDisk.cells.map((c) => [c.strategy, c.perClass, c.trainImages]),
    [
      ['feature-extraction', 2, 10],
      ['feature-extraction', 'all', 20],
      ['scratch', 2, 10],
      ['scratch', 'all', 20],
    ],
  );
  const kept = onDisk.cells[0];
  assert.ok(kept.runId && fs.existsSync(path.join(stopped.studyDir, kept.runId, 'run.json')), 'the completed cell is a run folder in the study folder');
  assert.ok(kept.testAccuracy !== null && kept.epochs === 1);

  const second: (StudyEvent | RunEvent)[] = [];
  const resumed = await runStudy(options(second, () => false, stopped.studyDir));
  assert.equal(resumed.status, 'completed');
  assert.equal(resumed.studyDir, stopped.studyDir);
  assert.deepEqual(started(second), [1, 2, 3], 'only the cancelled and pending cells run again');
  const done = readStudy(stopped.studyDir);
  assert.ok(done.cells.every((c) => c.status === 'completed'));
  assert.deepEqual(done.cells[0], kept, 'the completed cell is kept as it was');
  assert.ok(done.finishedAt !== null);
  assert.deepEqual(
    done.summary?.rows.map((r) => `${r.strategy} ${r.perClass} n=${r.n}`),
    ['feature-extraction 2 n=1', 'feature-extraction all n=1', 'scratch 2 n=1', 'scratch all n=1'],
  );
  assert.ok(done.summary!.sentence.length > 0);
  // The all-images feature-extraction cell reuses the activations of the 2-per-class cell's
  // images (its subset, val and test): hits on the resumed run, which has only that frozen cell.
  assert.ok(resumed.cache.hits >= 10 + 10 + 10, `activation cache: ${resumed.cache.hits} hits, ${resumed.cache.misses} misses`);
  const runs = fs.readdirSync(stopped.studyDir).filter((f) => fs.existsSync(path.join(stopped.studyDir, f, 'run.json')));
  assert.ok(runs.length >= 4, `one run folder per cell (and the cancelled one): ${runs.join(', ')}`);
});
