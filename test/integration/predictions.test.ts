// The Predictions panel and the walkthrough in a real VS Code: Try the Sample copies the
// shipped dataset in, a real run trains on it, and Predict Image(s) from the explorer's context
// menu on its test/ folder opens the panel with one row per image, the folder's accuracy and
// the mistakes first; what cannot be predicted is named; the history outlives the panel; the
// walkthrough's steps are contributed and check themselves off.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Prediction } from '../../src/core/layerSummary';
import type { PredictionsSnapshot } from '../../src/extension/predictionsPanel';
import { isCorrect } from '../../src/core/folderAccuracy';
import { api, note, test, waitFor, workspace } from './harness';

const CLASSES = ['ankle-boot', 'coat', 'sandal', 'shirt', 'sneaker'];
const contextKeys = async () => (await vscode.commands.executeCommand('transferLab.walkthrough.contextKeys')) as Record<string, boolean>;
const snapshot = async () => (await vscode.commands.executeCommand('transferLab.predictions.snapshot')) as PredictionsSnapshot | undefined;

/** Runs a command that may ask which run's model to use: the latest (first) is accepted until the panel shows `input`. */
async function acceptingLatestRun<T>(run: Thenable<T>, input: string): Promise<T> {
  let settled = false;
  const result = Promise.resolve(run).finally(() => (settled = true));
  while (!settled) {
    await new Promise((r) => setTimeout(r, 700));
    const s = await snapshot();
    // Accepting when no pick is open does nothing.
    if (!settled && !s?.posted.some((p) => p.current?.inputs.includes(input)))
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  return result;
}

test('walkthrough: its seven steps are contributed, each checked off by a command or a context key the extension sets', async () => {
  const tl = await api();
  assert.ok(tl);
  const pkg = vscode.extensions.getExtension('transfer-lab.transfer-lab')!.packageJSON as {
    contributes: { walkthroughs: { id: string; steps: { id: string; description: string; completionEvents: string[] }[] }[] };
  };
  const [walk] = pkg.contributes.walkthroughs;
  assert.equal(walk.id, 'transferLab.firstResult');
  assert.deepEqual(
    walk.steps.map((s) => s.id),
    ['sample', 'experiment', 'run', 'dashboard', 'layers', 'compare', 'predict'],
  );
  const commands = new Set(await vscode.commands.getCommands(true));
  for (const step of walk.steps) {
    // Every button of a step runs a command the extension registers.
    for (const [, id] of step.description.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(commands.has(id), `${step.id}: ${id} is registered`);
    assert.ok(step.completionEvents.length > 0, `${step.id} checks itself off`);
    for (const e of step.completionEvents) {
      const [, kind, what] = /^(onCommand|onContext):(.+)$/.exec(e) ?? [];
      assert.ok(kind, `${step.id}: ${e}`);
      if (kind === 'onCommand') assert.ok(commands.has(what), `${step.id}: ${what} is registered`);
      else assert.equal(what, `transferLab.walkthrough.${step.id}`, 'a context key named for its step');
    }
  }

  // Step 1 done: the sample lands in the workspace and its key is set.
  const dir = (await vscode.commands.executeCommand('transferLab.trySample', { into: workspace() })) as string | undefined;
  assert.equal(dir, path.join(workspace(), 'datasets', 'fashion-target'));
  for (const c of CLASSES) assert.equal(fs.readdirSync(path.join(dir, 'test', c)).length, 50, `test/${c}`);
  assert.equal((await contextKeys())['transferLab.walkthrough.sample'], true);
  // A second time copies nothing over what is there.
  fs.writeFileSync(path.join(dir, 'mine.txt'), 'kept');
  assert.equal(await vscode.commands.executeCommand('transferLab.trySample', { into: workspace() }), dir);
  assert.equal(fs.readFileSync(path.join(dir, 'mine.txt'), 'utf8'), 'kept');
});

test('predictions: the explorer menu on a folder opens the panel with one row per image, the folder accuracy and the mistakes first', async () => {
  const tl = await api();
  await vscode.commands.executeCommand('transferLab.trySample', { into: workspace() });
  const file = (await vscode.commands.executeCommand('transferLab.newExperiment', {
    dataset: 'datasets/fashion-target',
    backbone: 'fmnist-mini',
    strategy: { kind: 'feature-extraction' },
    name: 'predict-folder',
  })) as vscode.Uri;
  const exp = JSON.parse(fs.readFileSync(file.fsPath, 'utf8'));
  exp.train.epochs = 3;
  fs.writeFileSync(file.fsPath, JSON.stringify(exp, null, 2));
  await vscode.commands.executeCommand('transferLab.runExperiment', file);
  await waitFor('the run to finish', () => !tl.runs.running(file.fsPath), 150_000);
  await tl.runIndex.refresh();
  const [run] = tl.runIndex.forExperiment(file.fsPath);
  assert.equal(run?.record.status, 'succeeded', run?.record.failure?.message);
  await waitFor('the run step checked off', async () => (await contextKeys())['transferLab.walkthrough.run']);
  assert.equal((await contextKeys())['transferLab.walkthrough.experiment'], true);

  // As the explorer calls it: (clicked, selected[]) with the folder.
  const testDir = vscode.Uri.file(path.join(workspace(), 'datasets', 'fashion-target', 'test'));
  const rows = (await acceptingLatestRun(vscode.commands.executeCommand('transferLab.predictImage', testDir, [testDir]), testDir.fsPath)) as
    Prediction[] | undefined;
  assert.equal(rows?.length, 250, 'one prediction per image of the folder');
  const snap = await waitFor('the panel to render the folder', async () => {
    const s = await snapshot();
    return s?.received.some((m) => m.type === 'rendered' && m.rows === 250) ? s : undefined;
  });
  const state = snap.posted.at(-1)!;
  const current = state.current!;
  assert.equal(current.status, 'done');
  assert.equal(current.model.runId, run.record.id, 'the model used is said');
  assert.equal(current.model.strategy, 'feature-extraction');
  assert.deepEqual([...current.model.labels].sort(), CLASSES);
  assert.equal(current.rows.length, 250);
  assert.equal(state.images.filter((u) => u.length > 0).length, 250, 'every image is shown');
  const [acc] = current.accuracy;
  assert.equal(acc.folder, testDir.fsPath);
  assert.equal(acc.labelled, 250, 'every image has its class folder');
  assert.ok(acc.accuracy !== undefined && acc.accuracy > 0.2, `accuracy ${acc.accuracy}`);
  assert.equal(acc.correct, current.rows.filter((r) => isCorrect(r)).length);
  const firstRight = current.rows.findIndex((r) => isCorrect(r) === true);
  assert.equal(firstRight, acc.labelled - acc.correct, 'the misclassified come first');
  const rendered = [...snap.received].reverse().find((m) => m.type === 'rendered');
  assert.deepEqual(rendered && 'accuracy' in rendered ? rendered.accuracy : undefined, [acc.accuracy], 'the view shows the accuracy');
  assert.equal(state.history[0]?.id, current.id, 'the newest prediction heads the history');
  assert.equal((await contextKeys())['transferLab.walkthrough.predict'], true, 'the predict step is checked off');
  note(`test/ with ${run.record.id}: ${(acc.accuracy * 100).toFixed(1)}% (${acc.correct}/${acc.labelled})`);

  // What cannot be predicted is named with what to do, next to what could.
  const notImage = path.join(workspace(), 'notes.txt');
  fs.writeFileSync(notImage, 'hello');
  const image = path.join(testDir.fsPath, 'coat', fs.readdirSync(path.join(testDir.fsPath, 'coat'))[0]);
  const mixed = (await vscode.commands.executeCommand('transferLab.predictImage', {
    runDir: run.dir,
    images: [image, notImage, path.join(workspace(), 'gone.png')],
  })) as Prediction[];
  assert.equal(mixed.length, 1);
  const problems = (await snapshot())!.posted.at(-1)!.current!.problems;
  assert.ok(
    problems.some((p) => p.startsWith(notImage) && /not an image/.test(p)),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => /gone\.png: not found/.test(p)),
    problems.join('\n'),
  );

  // The history outlives the panel: reopened, it lists both predictions, the newest first.
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  // Closing is finished only when no tab is left: a panel opened sooner can be closed with the rest.
  await waitFor('every editor closed', () => vscode.window.tabGroups.all.every((g) => g.tabs.length === 0));
  await vscode.commands.executeCommand('transferLab.showPredictions');
  // Ask the hook (the command's result is not the live snapshot), for as long as a page that lost its script takes to be loaded again twice.
  const shown = await waitFor('the reopened panel', async () => (await snapshot())?.posted.at(-1), 45_000);
  assert.ok(shown.history.length >= 2, 'both predictions are listed');
  assert.equal(shown.history[1].id, current.id);
  assert.equal(shown.current?.id, shown.history[0].id, 'it opens on the latest');
});
