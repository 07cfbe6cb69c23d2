// Run Data-Efficiency Study from VS Code: a tiny study (2 sizes x 1 seed x 2 strategies) runs in
// a trainer, study.json and the cells' run folders are complete, the Study panel draws a line
// and a band per strategy with the sentence and a row per cell; Stop ends the trainer within
// 2 s and leaves study.json consistent, and Resume runs only the cells that were missing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { StudySnapshot } from '../../src/extension/studyPanel';
import { parseStudyFile, type StudyFile } from '../../src/core/studyFile';
import { api, note, repo, test, waitFor, workspace } from './harness';
// @ts-expect-error: plain ESM helper shared with the e2e tests (no types; esbuild bundles it)
import { copyShippedDataset, writeTinyExperiment } from '../support/datasets.mjs';

type Live = { experimentFile: string; studyDir?: string; stopping: boolean }[];
const grid = { perClass: '2,4', seeds: '1', strategies: ['scratch', 'feature-extraction'], resume: 'new' };

/** An experiment on its own tiny copy of the shipped data (8 train, 4 val, 4 test images per class). */
function tinyExperiment(name: string, epochs: number): string {
  const dir = path.join(workspace(), `study-${name}`);
  copyShippedDataset(path.join(dir, 'data'), { train: 8, val: 4, test: 4 }, repo);
  return writeTinyExperiment(path.join(dir, `${name}.tlexp.json`), { name, train: { epochs, batchSize: 4 } });
}

const live = async (file: string) => ((await vscode.commands.executeCommand('transferLab.study.live')) as Live).find((l) => l.experimentFile === file);

function readStudy(dir: string): StudyFile {
  const parsed = parseStudyFile(fs.readFileSync(path.join(dir, 'study.json'), 'utf8'), dir);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
  return parsed.value;
}

test('study: the command runs a tiny study, study.json is complete and the panel draws it', async () => {
  await api();
  const file = tinyExperiment('tiny-study', 2);
  const doc = await vscode.workspace.openTextDocument(file);
  const lenses = await waitFor('the Study lens', async () => {
    const l = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri)) as vscode.CodeLens[];
    return l.find((x) => x.command?.command === 'transferLab.runStudy');
  });
  assert.match(lenses.command!.title, /Study/);
  const started = (await vscode.commands.executeCommand('transferLab.runStudy', vscode.Uri.file(file), grid)) as { experimentFile: string } | undefined;
  assert.equal(started?.experimentFile, file);
  const studyDir = await waitFor('the study folder', async () => (await live(file))?.studyDir, 60_000);
  await waitFor('the study to end', async () => !(await live(file)), 180_000);
  const study = readStudy(studyDir);
  assert.deepEqual(
    study.cells.map((c) => `${c.strategy}/${c.perClass}/${c.status}`),
    ['scratch/2/completed', 'scratch/4/completed', 'feature-extraction/2/completed', 'feature-extraction/4/completed'],
  );
  for (const c of study.cells) assert.ok(fs.existsSync(path.join(studyDir, c.runId!, 'run.json')), `cell ${c.runId} has its run folder`);
  assert.ok(study.finishedAt && study.summary, 'finished, with a summary');

  await vscode.commands.executeCommand('transferLab.openStudy', studyDir);
  const shown = await waitFor(
    'the panel to render the study',
    async () => {
      const s = (await vscode.commands.executeCommand('transferLab.study.snapshot', studyDir)) as StudySnapshot | undefined;
      // The panel opened when the study started and renders as cells finish: wait for the render of the finished study.
      const last = s?.rendered.at(-1);
      return last?.rows === 4 && last.points === 4 && s?.posted.at(-1)?.finished ? s : undefined;
    },
    30_000,
  );
  assert.deepEqual(shown.rendered.at(-1), { type: 'rendered', protocol: 1, lines: 2, bands: 2, points: 4, rows: 4, sentence: true });
  const state = shown.posted.at(-1)!;
  assert.deepEqual([state.done, state.total, state.finished, state.running], [4, 4, true, null]);
  assert.equal(state.sentence, study.summary!.sentence);
  note(`study panel: ${state.sentence}`);
  // A row opens its cell's run; a cell index the panel does not show is refused.
  assert.equal(await vscode.commands.executeCommand('transferLab.study.receive', studyDir, { type: 'open-run', protocol: 1, cell: 9 }), 'refused');
  const opened = (await vscode.commands.executeCommand('transferLab.study.receive', studyDir, { type: 'open-run', protocol: 1, cell: 1 })) as { type: string };
  assert.equal(opened.type, 'open-run');
  const dashboards = async () => (await vscode.commands.executeCommand('transferLab.dashboardStats')) as { runDir: string }[];
  await waitFor("the cell's dashboard", async () => (await dashboards()).some((d) => d.runDir === path.join(studyDir, study.cells[1].runId!)), 20_000);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}, 300_000);

test('study: Stop ends the trainer within 2 s with study.json consistent, and Resume runs only what is missing', async () => {
  const tl = await api();
  // Long enough cells that Stop lands inside one.
  const file = tinyExperiment('stop-study', 150);
  await vscode.commands.executeCommand('transferLab.runStudy', vscode.Uri.file(file), grid);
  const studyDir = await waitFor('the study folder', async () => (await live(file))?.studyDir, 60_000);
  await waitFor(
    'the first cell to complete',
    () => fs.existsSync(path.join(studyDir, 'study.json')) && readStudy(studyDir).cells[0].status === 'completed',
    240_000,
  );
  const pids = tl.trainers.activePids();
  assert.equal(pids.length, 1, 'one trainer runs the study');
  const stopAt = Date.now();
  assert.equal(await vscode.commands.executeCommand('transferLab.study.stop', file), true);
  await waitFor('the trainer to exit', () => !tl.trainers.activePids().includes(pids[0]), 5_000);
  const stopMs = Date.now() - stopAt;
  await waitFor('the study to end', async () => !(await live(file)), 10_000);
  note(`Stop: trainer gone ${stopMs} ms after the request`);
  assert.ok(stopMs <= 2_500, `the trainer ended ${stopMs} ms after Stop`);
  const stopped = readStudy(studyDir);
  const statuses = stopped.cells.map((c) => c.status);
  assert.equal(statuses[0], 'completed');
  assert.ok(!statuses.includes('running'), `no cell left running: ${statuses.join(',')}`);
  assert.ok(
    statuses.slice(1).every((s) => s === 'cancelled' || s === 'pending'),
    statuses.join(','),
  );
  assert.equal(stopped.finishedAt, null);

  const resumed = (await vscode.commands.executeCommand('transferLab.runStudy', vscode.Uri.file(file), { resume: 'resume' })) as
    { studyDir?: string } | undefined;
  assert.equal(resumed?.studyDir, studyDir, 'Resume continues the same study');
  await waitFor('the resumed study to end', async () => !(await live(file)), 300_000);
  const done = readStudy(studyDir);
  assert.deepEqual(
    done.cells.map((c) => c.status),
    ['completed', 'completed', 'completed', 'completed'],
  );
  assert.equal(done.cells[0].runId, stopped.cells[0].runId, 'the completed cell was not run again');
  assert.ok(done.finishedAt && done.summary);
}, 600_000);
