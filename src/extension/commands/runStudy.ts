// Run Data-Efficiency Study: on an experiment file, asks the grid (strategies, images per class,
// seeds; defaults prefilled, checked as typed) and runs the study in a trainer. An experiment whose
// latest study has cells without a result is offered Resume, which runs only those cells.
import * as vscode from 'vscode';
import * as path from 'node:path';
import { STUDY_STRATEGIES, type StudyGrid, type StudyStrategy } from '../../core/studyFile';
import { DEFAULT_PER_CLASS, DEFAULT_SEEDS, parsePerClass, parseSeeds, type Parsed } from '../../core/studyGridText';
import { describeGrid, resumableStudy, studyProgress } from '../../core/studyGrouping';
import type { StudyIndex } from '../studyIndex';
import type { StudyRunner } from '../studyRunner';
import type { Services } from '../services';
import { experimentFileFrom, pickExperiment } from './runCommands';

/** Scripts and tests pass these to skip the questions. */
export interface RunStudyArgs {
  perClass?: string;
  seeds?: string;
  strategies?: StudyStrategy[];
  /** What to do with a study that has cells left: resume it, or start a new one. */
  resume?: 'resume' | 'new';
}

const STRATEGY_HELP: Record<StudyStrategy, string> = {
  scratch: 'the same network from random weights, all of it trained',
  'feature-extraction': 'the pretrained base frozen, only the head trained',
  'fine-tune': 'the head first, then the top of the base unfrozen at a lower learning rate',
  'earlier-cut': 'the frozen base cut at an earlier block: how generic earlier features are',
};

export async function runStudyCommand(s: Services, runner: StudyRunner, studies: StudyIndex, arg?: unknown, args: RunStudyArgs = {}) {
  const file =
    experimentFileFrom(arg) ??
    (await pickExperiment(
      s,
      'Run a data-efficiency study of which experiment?',
      'Transfer Lab: no experiment files (*.tlexp.json) in this workspace to study.',
    ));
  if (!file) return undefined;
  if (runner.running(file)) {
    void vscode.window.showInformationMessage(`Transfer Lab: a study of ${path.basename(file)} is already running.`);
    return undefined;
  }
  await studies.refresh();
  const unfinished = resumableStudy(studies.forExperiment(file), (dir) => runner.byStudyDir(dir) !== undefined);
  const choice = unfinished ? (args.resume ?? (await askResume(unfinished.study))) : 'new';
  if (!choice) return undefined;
  if (choice === 'resume' && unfinished) {
    const live = await runner.start(file, unfinished.study.grid, unfinished.dir);
    return live && { experimentFile: live.experimentFile, studyDir: unfinished.dir };
  }
  const grid = await askGrid(args);
  if (!grid) return undefined;
  const live = await runner.start(file, grid);
  return live && { experimentFile: live.experimentFile };
}

async function askResume(study: Parameters<typeof studyProgress>[0]): Promise<'resume' | 'new' | undefined> {
  const p = studyProgress(study);
  const left = p.total - p.done;
  const pick = await vscode.window.showQuickPick(
    [
      {
        label: '$(debug-continue) Resume',
        description: `run the ${left} cell${left === 1 ? '' : 's'} without a result`,
        detail: `${describeGrid(study.grid)}: ${p.done} of ${p.total} done`,
        value: 'resume' as const,
      },
      { label: '$(add) New study', description: 'ask for a new grid; the unfinished study stays as it is', value: 'new' as const },
    ],
    { title: 'Transfer Lab: this experiment has an unfinished study', placeHolder: 'Resume it, or start a new one?' },
  );
  return pick?.value;
}

async function askGrid(args: RunStudyArgs): Promise<StudyGrid | undefined> {
  const unknown = args.strategies?.filter((x) => !STUDY_STRATEGIES.includes(x));
  if (unknown?.length) {
    void vscode.window.showErrorMessage(`Transfer Lab: unknown study strategy '${unknown[0]}': use ${STUDY_STRATEGIES.join(', ')}.`);
    return undefined;
  }
  const strategies = args.strategies ?? (await askStrategies());
  if (!strategies?.length) return undefined;
  const perClass = await askValue(args.perClass, parsePerClass, {
    title: 'Transfer Lab: study (2/3): images per class',
    prompt: "Training images per class for each cell, comma-separated; 'all' is the whole training split. Subsets are nested: 10 per class contains the 5.",
    value: DEFAULT_PER_CLASS,
  });
  if (!perClass) return undefined;
  const seeds = await askValue(args.seeds, parseSeeds, {
    title: 'Transfer Lab: study (3/3): seeds',
    prompt:
      'How many times each cell trains, each with its own seed (subset, initial weights, shuffles): the panel shows the mean and the spread. A list (e.g. 7,8,9) names the seeds.',
    value: DEFAULT_SEEDS,
  });
  if (!seeds) return undefined;
  return { strategies, perClass, seeds };
}

async function askStrategies(): Promise<StudyStrategy[] | undefined> {
  const picks = await vscode.window.showQuickPick(
    STUDY_STRATEGIES.map((strategy) => ({ label: strategy, description: STRATEGY_HELP[strategy], picked: true, strategy })),
    { title: 'Transfer Lab: study (1/3): strategies', placeHolder: 'Which strategies to compare (Space to toggle)', canPickMany: true },
  );
  if (picks && picks.length === 0) void vscode.window.showInformationMessage('Transfer Lab: pick at least one strategy to study.');
  return picks?.map((p) => p.strategy);
}

/** A value given by a script (checked), or asked with an input box that says what is wrong as one types. */
async function askValue<T>(given: string | undefined, parse: (text: string) => Parsed<T>, box: vscode.InputBoxOptions): Promise<T | undefined> {
  const text =
    given ?? (await vscode.window.showInputBox({ ...box, ignoreFocusOut: true, validateInput: (t) => (parse(t).ok ? undefined : errorOf(parse(t))) }));
  if (text === undefined) return undefined;
  const parsed = parse(text);
  if (!parsed.ok) void vscode.window.showErrorMessage(`Transfer Lab: ${parsed.error}`);
  return parsed.ok ? parsed.value : undefined;
}

const errorOf = <T>(p: Parsed<T>) => (p.ok ? undefined : p.error);
