// The pure parts of a study: subsets (stratified, nested per seed, training split only), the
// grid as typed (input boxes and command line), the aggregation over seeds, where transfer stops paying
// off, the per-cell experiment, the study.json schema and the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetIndex } from '../../src/core/datasetIndex';
import type { DatasetItem, SplitName } from '../../src/core/datasetTypes';
import { drawSubset, restrictTraining, sizesBeyondSmallestClass, subsetSize } from '../../src/core/studySubsets';
import { parsePerClass, parseSeeds, parseStrategies } from '../../src/core/studyGridText';
import { sampleStd, summarizeStudy, summaryRows, transferStopsPayingAt } from '../../src/core/studySummary';
import { gridCells, parseStudyFile, type StudyCell, type StudyFile, type StudyGrid, type StudyStrategy } from '../../src/core/studyFile';
import { cellExperiment, chooseStudyLayers } from '../../src/core/studyPlan';
import { formatStudyTable } from '../../src/core/studyTable';
import { flowersExperiment } from '../fixtures/experiment';

function dataset(perClass: Record<SplitName, number>, classes = ['a', 'b', 'c']): DatasetIndex {
  const items: DatasetItem[] = [];
  classes.forEach((name, label) => {
    for (const split of ['train', 'val', 'test'] as const) {
      for (let i = 0; i < perClass[split] + label; i++) items.push({ path: `/d/${split}/${name}/${i}.png`, label, split });
    }
  });
  const counts = Object.fromEntries(classes.map((c, label) => [c, { train: perClass.train + label, val: perClass.val + label, test: perClass.test + label }]));
  return { root: '/d', layout: 'presplit', classes, items, skipped: [], counts };
}

test('subsets: stratified, from the training split only, nested within a seed, different across seeds', () => {
  const d = dataset({ train: 30, val: 4, test: 5 });
  const five = drawSubset(d, 5, 1);
  const ten = drawSubset(d, 10, 1);
  assert.equal(five.length, 15);
  assert.ok(five.every((i) => i.split === 'train'));
  for (let label = 0; label < 3; label++) assert.equal(five.filter((i) => i.label === label).length, 5);
  assert.ok(
    five.every((i) => ten.includes(i)),
    'the 10-per-class set contains the 5-per-class set',
  );
  assert.ok(drawSubset(d, 'all', 1).length === 30 + 31 + 32, "'all' is the whole training split");
  assert.notDeepEqual(
    drawSubset(d, 5, 2).map((i) => i.path),
    five.map((i) => i.path),
    'another seed draws other images',
  );
  assert.deepEqual(
    drawSubset(d, 5, 1).map((i) => i.path),
    five.map((i) => i.path),
    'the same seed draws the same images',
  );
  const restricted = restrictTraining(d, 5, 1);
  assert.deepEqual(
    restricted.items.filter((i) => i.split !== 'train'),
    d.items.filter((i) => i.split !== 'train'),
    'validation and test splits are untouched',
  );
  assert.deepEqual(restricted.counts.c, { train: 5, val: 6, test: 7 });
  assert.equal(subsetSize(d, 40), 30 + 31 + 32);
  assert.equal(subsetSize(d, 10), 30);
  assert.deepEqual(sizesBeyondSmallestClass(d, [5, 31, 'all', 40]), { smallest: 30, className: 'a', sizes: [31, 40] });
  assert.equal(sizesBeyondSmallestClass(d, [5, 30, 'all']), null);
});

test('the grid as typed: sizes, seeds and strategies, with errors that say what to write', () => {
  assert.deepEqual(parsePerClass('20, 5,all,10,5'), { ok: true, value: [5, 10, 20, 'all'] });
  const bad = parsePerClass('5,ten');
  assert.ok(!bad.ok && /'ten' is not a number of images per class/.test(bad.error));
  assert.ok(!parsePerClass('0').ok);
  assert.deepEqual(parseSeeds('3'), { ok: true, value: [1, 2, 3] });
  assert.deepEqual(parseSeeds('7,9'), { ok: true, value: [7, 9] });
  assert.ok(!parseSeeds('0').ok);
  assert.ok(!parseSeeds('x').ok);
  assert.deepEqual(parseStrategies('scratch,fine-tune'), { ok: true, value: ['scratch', 'fine-tune'] });
  const typo = parseStrategies('scratch,finetune');
  assert.ok(!typo.ok && /did you mean fine-tune\?/.test(typo.error));
});

test('the grid as typed in the input boxes: sizes ascending with all last, seeds counted from 1, and errors that say what to write', () => {
  assert.deepEqual(parsePerClass('20, 5,all 10,5'), { ok: true, value: [5, 10, 20, 'all'] });
  assert.deepEqual(parsePerClass('ALL'), { ok: true, value: ['all'] });
  for (const bad of ['', '5,0', '5,ten', '2.5']) {
    const p = parsePerClass(bad);
    assert.equal(p.ok, false, bad);
    assert.match(p.ok ? '' : p.error, /e\.g\. 5,10,20,50,all/);
  }
  assert.deepEqual(parseSeeds(' 3 '), { ok: true, value: [1, 2, 3] });
  for (const bad of ['0', '-1', 'three', '21', '']) assert.equal(parseSeeds(bad).ok, false, bad);
});

test('one parser for the boxes and the CLI: spaces or commas between items, seed lists in both, one seed limit', () => {
  assert.deepEqual(parsePerClass('5 10'), { ok: true, value: [5, 10] });
  assert.deepEqual(parseStrategies('scratch fine-tune,scratch'), { ok: true, value: ['scratch', 'fine-tune'] });
  assert.deepEqual(parseSeeds('7 9,7'), { ok: true, value: [7, 9] });
  assert.deepEqual(parseSeeds('4,'), { ok: true, value: [4] });
  const twenty = parseSeeds('20');
  assert.equal(twenty.ok ? twenty.value.length : 0, 20);
  const many = parseSeeds('21');
  assert.match(many.ok ? '' : many.error, /^21 seeds: give a count from 1 to 20/);
  const negative = parseSeeds('-1');
  assert.match(negative.ok ? '' : negative.error, /'-1' is not a count of seeds or a seed: write a count \(e\.g\. 3: seeds 1, 2, 3\) or a list/);
  const none = parseStrategies(' , ');
  assert.match(none.ok ? '' : none.error, /^no strategy given: write at least one of scratch, feature-extraction/);
  // No field name in the message: each caller names the field (the CLI as --per-class:, the box by its title).
  const bad = parsePerClass('ten');
  assert.match(bad.ok ? '' : bad.error, /^'ten' is not a number of images per class: use whole numbers from 1, or 'all'/);
});

function cell(strategy: StudyStrategy, perClass: number | 'all', seed: number, testAccuracy: number, extra: Partial<StudyCell> = {}): StudyCell {
  return {
    strategy,
    perClass,
    seed,
    status: 'completed',
    runId: `r-${strategy}-${perClass}-${seed}`,
    trainImages: 0,
    testAccuracy,
    bestValAccuracy: testAccuracy,
    bestEpoch: 3,
    epochs: 5,
    epochsToTarget: testAccuracy >= 0.7 ? 2 : null,
    trainSeconds: strategy === 'scratch' ? 10 : 1,
    error: null,
    ...extra,
  };
}

const GRID: StudyGrid = { perClass: [5, 20, 'all'], seeds: [1, 2, 3], strategies: ['scratch', 'feature-extraction'] };

/** Scratch catches up with feature extraction from 20 per class on (within its spread). */
function catchingUp(): StudyCell[] {
  const acc: Record<string, Record<string, number[]>> = {
    scratch: { 5: [0.4, 0.45, 0.5], 20: [0.7, 0.72, 0.74], all: [0.8, 0.82, 0.84] },
    'feature-extraction': { 5: [0.7, 0.72, 0.74], 20: [0.72, 0.76, 0.8], all: [0.8, 0.81, 0.82] },
  };
  return GRID.strategies.flatMap((s) => GRID.perClass.flatMap((size) => acc[s][String(size)].map((a, i) => cell(s, size, i + 1, a))));
}

test('aggregation over seeds: mean, sample spread, range, time, epochs to target over the seeds that reached it', () => {
  assert.equal(sampleStd([1]), 0);
  assert.ok(Math.abs(sampleStd([0.7, 0.72, 0.74]) - 0.02) < 1e-12);
  const cells = [...catchingUp(), cell('scratch', 5, 4, 0.1, { status: 'failed', testAccuracy: null })];
  const rows = summaryRows(cells, GRID);
  assert.equal(rows.length, 6);
  const s5 = rows.find((r) => r.strategy === 'scratch' && r.perClass === 5)!;
  assert.equal(s5.n, 3, 'failed cells are not averaged');
  assert.ok(Math.abs(s5.meanTestAccuracy - 0.45) < 1e-12);
  assert.equal(s5.minTestAccuracy, 0.4);
  assert.equal(s5.maxTestAccuracy, 0.5);
  assert.equal(s5.meanEpochsToTarget, null);
  const f20 = rows.find((r) => r.strategy === 'feature-extraction' && r.perClass === 20)!;
  assert.equal(f20.meanEpochsToTarget, 2);
  assert.equal(f20.reachedTarget, 3);
  assert.equal(f20.meanTrainSeconds, 1);
});

test("where transfer stops paying off: the smallest size from which scratch is within the best transfer strategy's spread", () => {
  const summary = summarizeStudy(catchingUp(), GRID)!;
  assert.equal(summary.transferStopsPayingAt, 20);
  assert.match(summary.sentence, /^Transfer pays off up to 5 per class \(feature-extraction leads scratch by 27\.0 points/);
  assert.match(summary.sentence, /from 20 per class on, scratch is within the spread/);
  // Scratch far behind everywhere: transfer pays at every size.
  const behind = catchingUp().map((c) => (c.strategy === 'scratch' ? { ...c, testAccuracy: c.testAccuracy! - 0.3 } : c));
  const never = summarizeStudy(behind, GRID)!;
  assert.equal(never.transferStopsPayingAt, null);
  assert.match(never.sentence, /^Transfer pays off at every size measured: feature-extraction leads scratch by/);
  // Scratch ahead everywhere: transfer never pays.
  const ahead = catchingUp().map((c) => (c.strategy === 'scratch' ? { ...c, testAccuracy: c.testAccuracy! + 0.3 } : c));
  assert.equal(summarizeStudy(ahead, GRID)!.transferStopsPayingAt, 5);
  // A size where scratch is close but a larger one where transfer leads again: not "from there on".
  const rows = summaryRows(catchingUp(), GRID).map((r) => (r.strategy === 'scratch' && r.perClass === 'all' ? { ...r, meanTestAccuracy: 0.5 } : r));
  assert.equal(transferStopsPayingAt(rows).at, null);
  assert.match(
    summarizeStudy(
      catchingUp().filter((c) => c.strategy !== 'scratch'),
      GRID,
    )!.sentence,
    /^Nothing to compare/,
  );
});

test('cells: grid order, the cell experiment keeps the split and varies train.seed, earlier-cut and fine-tune choices', () => {
  assert.deepEqual(
    gridCells({ perClass: [5, 10], seeds: [1, 2], strategies: ['scratch'] }).map((c) => `${c.perClass}/${c.seed}`),
    ['5/1', '5/2', '10/1', '10/2'],
  );
  const base = flowersExperiment();
  const layers = chooseStudyLayers(
    ['input', 'block_1_dw', 'block_3_pw_relu', 'block_5_dw', 'out'].map((name) => ({ name, className: name === 'input' ? 'InputLayer' : 'Conv2D' })),
    'out',
    'fmnist-mini',
    { ...GRID, strategies: ['earlier-cut', 'fine-tune'] },
  );
  assert.deepEqual(layers, { defaultCut: 'out', earlierCut: 'block_3_pw_relu', lateBlock: 'block_5_dw' });
  const early = cellExperiment(base, 'earlier-cut', 7, layers);
  assert.equal(early.backbone.cutAt, 'block_3_pw_relu');
  assert.equal(early.strategy.kind, 'feature-extraction');
  assert.equal(early.train.seed, 7);
  assert.equal(early.data.seed, base.data.seed, 'the split stays the same for every cell');
  assert.equal(base.backbone.cutAt, flowersExperiment().backbone.cutAt, 'the base experiment is not changed');
  const ft = cellExperiment({ ...base, strategy: { kind: 'feature-extraction' } }, 'fine-tune', 1, layers).strategy;
  assert.deepEqual(ft, { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: base.train.learningRate / 100, warmupEpochs: 0 });
  const own = { kind: 'fine-tune' as const, unfreezeLast: 3, baseLearningRate: 1e-4, warmupEpochs: 2 };
  assert.deepEqual(cellExperiment({ ...base, strategy: own }, 'fine-tune', 1, layers).strategy, own, "the experiment's fine-tune settings win");
  // An unknown architecture: half way to the cut.
  const unknown = chooseStudyLayers(
    ['in', 'c1', 'c2', 'c3', 'c4', 'cut'].map((name) => ({ name, className: name === 'in' ? 'InputLayer' : 'Conv2D' })),
    'cut',
    undefined,
    { ...GRID, strategies: ['earlier-cut'] },
  );
  assert.equal(unknown.earlierCut, 'c3');
});

test('study.json: what the engine writes parses back; a broken field is named', () => {
  const cells = catchingUp();
  const study: StudyFile = {
    format: 1,
    id: 's',
    experiment: '../../../x.tlexp.json',
    experimentName: 'x',
    backend: 'tensorflow',
    createdAt: new Date(0).toISOString(),
    finishedAt: null,
    grid: GRID,
    target: 0.7,
    notes: { subsets: 'nested' },
    cells,
    summary: summarizeStudy(cells, GRID),
  };
  const back = parseStudyFile(JSON.stringify(study), 'study.json');
  assert.ok(back.ok);
  assert.deepEqual(back.value, study);
  const broken = parseStudyFile(JSON.stringify({ ...study, cells: [{ ...cells[0], status: 'done' }] }), 'study.json');
  assert.ok(!broken.ok && /^study\.json: cells\.0\.status /.test(broken.error), broken.ok ? '' : broken.error);
  const table = formatStudyTable(study);
  assert.match(table[0], /^strategy\s+per class\s+seeds\s+test acc \(mean ± sd\)\s+range\s+epochs to 70% val\s+train time$/);
  assert.ok(table.some((l) => /^scratch\s+5\s+3\s+45\.0% ± 5\.0\s+40\.0%-50\.0%\s+never\s+10\.00 s$/.test(l)));
  assert.equal(table.at(-1), study.summary!.sentence);
});
