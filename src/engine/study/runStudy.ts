// A data-efficiency study, end to end: the experiment trained for every cell of the grid
// (strategy x images per class x seed), each cell an ordinary run in the study folder, with
// study.json rewritten after every cell change and the summary computed at the end. Used by
// the CLI (`transfer-lab study`) and the trainer process (the palette command), so both make
// the same study folders. A resumed study runs only the cells that did not complete.
import * as path from 'node:path';
import type { RunEvent } from '../../core/runEvents';
import { indexDataset, type DatasetIndex } from '../../core/datasetIndex';
import { gridCells, STUDY_FORMAT_VERSION, type StudyCell, type StudyEvent, type StudyFile, type StudyGrid } from '../../core/studyFile';
import { chooseStudyLayers, studyNotes, type StudyLayers } from '../../core/studyPlan';
import { sizesBeyondSmallestClass, subsetSize } from '../../core/studySubsets';
import { summarizeStudy } from '../../core/studySummary';
import type { ResolvedExperiment } from '../../core/experiment';
import { InputError, loadExperiment } from '../run/experimentInput';
import { loadBackbone } from '../backboneLoader';
import { createStudyFolder, readStudy, writeStudy } from './studyFolder';
import { runCell } from './studyCell';

/** Validation accuracy a cell must reach to count in "epochs to target" (the demo's and the CLI's default). */
export const DEFAULT_STUDY_TARGET = 0.7;

export interface StudyOptions {
  experimentFile: string;
  runsDir: string;
  cacheDir: string;
  installRoot: string;
  backend: string;
  grid: StudyGrid;
  /** The study's events, and each cell's own RunEvents (types 'run-started', 'epoch', ...). */
  onEvent(event: StudyEvent | RunEvent): void;
  /** Polled between batches: true stops the running cell (it becomes 'cancelled') and the study. */
  shouldStop(): boolean;
  /** A study folder to continue: its own experiment, grid and target are used (experimentFile and grid are ignored). */
  resume?: string;
  /** Validation accuracy for epochsToTarget; default DEFAULT_STUDY_TARGET. */
  target?: number;
}

export interface StudyOutcome {
  status: 'completed' | 'cancelled' | 'failed';
  studyDir: string;
  study: StudyFile;
  /** Activation-cache hits and misses over the cells this call ran. */
  cache: { hits: number; misses: number };
}

export async function runStudy(options: StudyOptions): Promise<StudyOutcome> {
  const started = Date.now();
  const { dir: studyDir, study, experimentFile } = options.resume ? reopenStudy(options.resume) : await createStudy(options);
  const { experiment } = loadExperiment(experimentFile);
  const layers = await studyLayers(options, experimentFile, experiment, study.grid);
  if (!options.resume) study.notes = studyNotes(experiment, study.grid, layers);
  writeStudy(studyDir, study);
  options.onEvent({ type: 'study-started', studyDir, study });
  const cache = { hits: 0, misses: 0 };
  let stopped = false;
  for (let index = 0; index < study.cells.length; index++) {
    if (study.cells[index].status === 'completed') continue;
    if (options.shouldStop()) {
      stopped = true;
      break;
    }
    study.cells[index] = { ...study.cells[index], status: 'running' };
    writeStudy(studyDir, study);
    options.onEvent({ type: 'study-cell-started', studyDir, index, cell: study.cells[index] });
    const { cell, outcome } = await runCell(study.cells[index], {
      experimentFile,
      studyDir,
      cacheDir: options.cacheDir,
      installRoot: options.installRoot,
      backend: options.backend,
      layers,
      target: study.target,
      onRunEvent: options.onEvent,
      shouldStop: options.shouldStop,
    });
    cache.hits += outcome.cache.hits;
    cache.misses += outcome.cache.misses;
    study.cells[index] = cell;
    study.summary = summarizeStudy(study.cells, study.grid);
    writeStudy(studyDir, study);
    options.onEvent({ type: 'study-cell-finished', studyDir, index, cell });
    if (cell.status === 'cancelled') stopped = true;
    if (stopped) break;
  }
  const status = stopped ? 'cancelled' : study.cells.every((c) => c.status === 'completed') ? 'completed' : 'failed';
  if (!stopped) study.finishedAt = new Date().toISOString();
  writeStudy(studyDir, study);
  options.onEvent({ type: 'study-finished', studyDir, status, summary: study.summary, cache, durationMs: Date.now() - started });
  return { status, studyDir, study, cache };
}

/** A study folder to resume: cells that were running when it stopped start again. */
function reopenStudy(dir: string): { dir: string; study: StudyFile; experimentFile: string } {
  const study = readStudy(dir);
  study.cells = study.cells.map((c) => (c.status === 'running' ? { ...c, status: 'pending' } : c));
  study.finishedAt = null;
  return { dir, study, experimentFile: path.resolve(dir, study.experiment) };
}

/** Validates the experiment and the grid against the dataset (before any folder exists), then makes the study folder. */
async function createStudy(options: StudyOptions): Promise<{ dir: string; study: StudyFile; experimentFile: string }> {
  const experimentFile = path.resolve(options.experimentFile);
  const { experiment } = loadExperiment(experimentFile);
  const dataset = indexStudyDataset(experimentFile, experiment);
  const beyond = sizesBeyondSmallestClass(dataset, options.grid.perClass);
  if (beyond) {
    throw new InputError(experimentFile, [
      {
        path: 'data.dir',
        message: `--per-class ${beyond.sizes.join(',')}: class '${beyond.className}' has only ${beyond.smallest} training images`,
        hint: `Use sizes up to ${beyond.smallest} (or 'all'), or add images to '${beyond.className}'.`,
      },
    ]);
  }
  const { id, dir } = createStudyFolder(options.runsDir, experiment.name);
  const cells: StudyCell[] = gridCells(options.grid).map((c) => ({
    ...c,
    status: 'pending',
    runId: null,
    trainImages: subsetSize(dataset, c.perClass),
    testAccuracy: null,
    bestValAccuracy: null,
    bestEpoch: null,
    epochs: null,
    epochsToTarget: null,
    trainSeconds: null,
    error: null,
  }));
  const study: StudyFile = {
    format: STUDY_FORMAT_VERSION,
    id,
    experiment: path.relative(dir, experimentFile),
    experimentName: experiment.name,
    backend: options.backend,
    createdAt: new Date().toISOString(),
    finishedAt: null,
    grid: options.grid,
    target: options.target ?? DEFAULT_STUDY_TARGET,
    notes: {},
    cells,
    summary: null,
  };
  return { dir, study, experimentFile };
}

function indexStudyDataset(file: string, experiment: ResolvedExperiment): DatasetIndex {
  const indexed = indexDataset(experiment.data.dir, { split: experiment.data.split, seed: experiment.data.seed });
  if (!indexed.ok) throw new InputError(file, indexed.errors);
  return indexed.value;
}

/** The cuts the strategies use, from the backbone's layers (loaded once, then released; the cells load it again from the model cache). */
async function studyLayers(options: StudyOptions, experimentFile: string, experiment: ResolvedExperiment, grid: StudyGrid): Promise<StudyLayers | null> {
  const needsLayers = grid.strategies.includes('earlier-cut') || (grid.strategies.includes('fine-tune') && experiment.strategy.kind !== 'fine-tune');
  if (!needsLayers) return null;
  const backbone = await loadBackbone(experiment.backbone, { installRoot: options.installRoot, cacheDir: options.cacheDir });
  try {
    if (backbone.kind === 'graph') {
      if (grid.strategies.includes('earlier-cut')) {
        throw new InputError(experimentFile, [
          {
            path: 'backbone',
            message: 'earlier-cut needs a layers model; this backbone is a graph model (one fixed output)',
            hint: 'Leave earlier-cut out of --strategies.',
          },
        ]);
      }
      return null;
    }
    const refs = backbone.model.layers.map((l) => ({ name: l.name, className: l.getClassName() }));
    return chooseStudyLayers(refs, backbone.cutAt, backbone.catalog?.family, grid);
  } finally {
    backbone.model.dispose();
  }
}
