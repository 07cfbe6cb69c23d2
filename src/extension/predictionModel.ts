// Which model a prediction uses, said in the panel: a run's (its id, strategy and backbone,
// from run.json) or an exported model folder's. Read without blocking; a model that is not
// there is refused before a trainer starts, with what to do. Picking a run asks latest first.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { readRunAsync, type RunEntry } from '../core/runStore';
import type { ModelInfo } from '../core/predictionsMessages';
import { pathExists } from './pathChecks';
import { pickOne } from './commands/pickers';
import type { Services } from './services';
import { KERAS_RUN_MODEL, kerasRunModelMessage } from '../core/kerasScript/kerasRunModel';

export type ModelLookup = { ok: true; info: ModelInfo } | { ok: false; error: string };

function backboneName(b: { catalog: string } | { path: string } | { url: string }): string {
  return 'catalog' in b ? b.catalog : 'path' in b ? path.basename(b.path) : b.url;
}

/** A run folder, a run's model/ folder, an exported model folder or a model.json -> what the panel says of it. */
export async function lookUpModel(target: string): Promise<ModelLookup> {
  const abs = path.resolve(target);
  const folder = abs.endsWith('.json') ? path.dirname(abs) : abs;
  const runDir = (await pathExists(path.join(folder, 'run.json')))
    ? folder
    : (await pathExists(path.join(path.dirname(folder), 'run.json')))
      ? path.dirname(folder)
      : undefined;
  if (runDir) {
    const run = await readRunAsync(runDir);
    if (!(await pathExists(path.join(runDir, 'model', 'model.json')))) {
      if (await pathExists(path.join(runDir, 'model', KERAS_RUN_MODEL))) return { ok: false, error: kerasRunModelMessage(runDir, 'Predict') };
      const status = run.ok ? ` (it ${run.value.status})` : '';
      return {
        ok: false,
        error: `${runDir}: this run has no model (model/model.json is missing${status}). Pick a succeeded run, or run the experiment again.`,
      };
    }
    if (!run.ok) return { ok: false, error: `${runDir}/run.json: ${run.errors[0].message}. Pick another run.` };
    const r = run.value;
    return {
      ok: true,
      info: {
        target: runDir,
        source: 'run',
        runId: r.id,
        experiment: r.experiment.name,
        strategy: r.config.strategy.kind,
        backbone: backboneName(r.config.backbone),
        labels: [],
      },
    };
  }
  if (!(await pathExists(path.join(folder, 'model.json')))) {
    return { ok: false, error: `${folder}: no model here (model.json is missing). Pick a run folder or a folder written by Export Model.` };
  }
  return { ok: true, info: { target: folder, source: 'export', labels: [] } };
}

const pct = (p: number) => `${(p * 100).toFixed(1)}%`;

/** The model to use: the one named, the only succeeded run, or the user's pick (latest first); `ask` always asks. */
export async function chooseModel(s: Services, named: string | undefined, ask = false): Promise<string | undefined> {
  if (named) return named;
  await s.runIndex.refresh();
  const runs = s.runIndex.all().filter((e) => e.record.status === 'succeeded');
  const none = {
    message: 'Transfer Lab: no trained model yet. Run an experiment first; its model is then used for predictions.',
    action: 'Run Experiment',
    command: 'transferLab.runExperiment',
  };
  if (ask && runs.length === 1) return (await pickLatestFirst(runs))?.dir;
  return (await pickOne(runs, none, pickLatestFirst))?.dir;
}

/** The user's pick among several runs, listed latest first, with their strategy and score. */
async function pickLatestFirst(runs: readonly RunEntry[]): Promise<RunEntry | undefined> {
  const sorted = [...runs].sort((a, b) => Date.parse(b.record.timings.startedAt) - Date.parse(a.record.timings.startedAt));
  const score = (e: RunEntry) => {
    const m = e.record.metrics;
    if (typeof m.accuracy === 'number' && Number.isFinite(m.accuracy)) return `test acc ${pct(m.accuracy)}`;
    return typeof m.bestValAccuracy === 'number' && Number.isFinite(m.bestValAccuracy) ? `best val ${pct(m.bestValAccuracy)}` : undefined;
  };
  const pick = await vscode.window.showQuickPick(
    sorted.map((e, i) => ({
      label: e.record.id,
      description: [i === 0 ? 'latest' : undefined, e.record.experiment.name, e.record.config.strategy.kind, score(e)].filter(Boolean).join(' · '),
      entry: e,
    })),
    { title: 'Transfer Lab: Predict Image(s)', placeHolder: "Which run's model? (the latest is first)" },
  );
  return pick?.entry;
}
