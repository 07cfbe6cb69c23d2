// What each study strategy means for one experiment: the resolved experiment a cell runs
// (strategy, cut, seed), and the same in words for study.json. The experiment's own strategy
// settings win; where it says nothing (which layer the earlier cut takes, where fine-tuning
// starts), the choice is what a Keras user makes, from the backbone's blocks.
import type { ResolvedExperiment } from './experiment';
import { EXPERIMENT_DEFAULTS } from './experimentFields';
import type { LayerRef } from './layerBlocks';
import type { BackboneFamily } from './backboneCatalog';
import { familyPoints } from './strategyAdvisor';
import type { StudyGrid, StudyStrategy } from './studyFile';

/** The layers a study's strategies use, decided once per study from the backbone. */
export interface StudyLayers {
  /** Where the head attaches by default (the experiment's or the backbone's cut). */
  defaultCut: string;
  /** The earlier cut for 'earlier-cut'; null when the grid has no earlier-cut cells. */
  earlierCut: string | null;
  /** First layer that trains when the experiment is not a fine-tune one (the start of the last stage); null: the defaults' unfreezeLast. */
  lateBlock: string | null;
}

/**
 * Picks the study's layers from the backbone: the family's earlier cut and last stage
 * (core/layerBlocks.ts, as the strategy advisor uses them), else the middle layer of the base
 * before the default cut, so earlier-cut still means "half as deep" on an unknown architecture.
 */
export function chooseStudyLayers(layers: readonly LayerRef[], defaultCut: string, family: BackboneFamily | undefined, grid: StudyGrid): StudyLayers {
  const points = familyPoints({ family, layers });
  const names = layers.map((l) => l.name);
  const cutIndex = names.indexOf(defaultCut);
  const before = (name: string | undefined) => name !== undefined && names.indexOf(name) >= 0 && (cutIndex < 0 || names.indexOf(name) < cutIndex);
  let earlierCut: string | null = null;
  if (grid.strategies.includes('earlier-cut')) {
    if (before(points?.earlierCut)) earlierCut = points!.earlierCut;
    else {
      const candidates = layers.slice(0, cutIndex < 0 ? layers.length : cutIndex).filter((l) => l.className !== 'InputLayer');
      earlierCut = candidates[Math.floor(candidates.length / 2)]?.name ?? null;
    }
  }
  return { defaultCut, earlierCut, lateBlock: before(points?.lateBlock) ? points!.lateBlock : null };
}

/** The experiment one cell runs: the study's strategy, the cell's seed (train.seed: the split stays data.seed's), its name. */
export function cellExperiment(base: ResolvedExperiment, strategy: StudyStrategy, seed: number, layers: StudyLayers | null): ResolvedExperiment {
  const e: ResolvedExperiment = { ...base, train: { ...base.train, seed }, backbone: { ...base.backbone } };
  switch (strategy) {
    case 'scratch':
    case 'feature-extraction':
      e.strategy = { kind: strategy };
      break;
    case 'earlier-cut':
      if (!layers?.earlierCut) throw new Error('earlier-cut needs the study layers (chooseStudyLayers)');
      e.strategy = { kind: 'feature-extraction' };
      e.backbone.cutAt = layers.earlierCut;
      break;
    case 'fine-tune':
      e.strategy = base.strategy.kind === 'fine-tune' ? base.strategy : defaultFineTune(base, layers);
      break;
  }
  return e;
}

function defaultFineTune(base: ResolvedExperiment, layers: StudyLayers | null): ResolvedExperiment['strategy'] {
  const d = EXPERIMENT_DEFAULTS.strategy;
  const rest = { baseLearningRate: base.train.learningRate * d.baseLearningRateFactor, warmupEpochs: d.warmupEpochs };
  return layers?.lateBlock ? { kind: 'fine-tune', unfreezeFrom: layers.lateBlock, ...rest } : { kind: 'fine-tune', unfreezeLast: d.unfreezeLast, ...rest };
}

/** study.json's notes: how subsets are drawn and what each strategy of the grid is here. */
export function studyNotes(base: ResolvedExperiment, grid: StudyGrid, layers: StudyLayers | null): Record<string, string> {
  const notes: Record<string, string> = {
    subsets:
      "Stratified and nested per seed: each seed orders every class's training images once; a cell takes the first N of each class, so within a seed a larger set contains the smaller ones. Validation and test splits are the same for every cell (data.seed splits; the cell seed is train.seed).",
  };
  const cut = layers?.defaultCut ?? base.backbone.cutAt ?? "the backbone's default cut";
  for (const strategy of grid.strategies) {
    if (strategy === 'scratch') notes.scratch = `The same network up to ${cut}, weights re-initialised, everything trains.`;
    if (strategy === 'feature-extraction') notes['feature-extraction'] = `Frozen base cut at ${cut}, only the head trains.`;
    if (strategy === 'earlier-cut') notes['earlier-cut'] = `Frozen base cut earlier, at ${layers?.earlierCut ?? '?'}, only the head trains.`;
    if (strategy === 'fine-tune') {
      const s = cellExperiment(base, 'fine-tune', 0, layers).strategy;
      if (s.kind !== 'fine-tune') continue;
      const from = s.unfreezeFrom !== undefined ? `from ${s.unfreezeFrom}` : `the last ${s.unfreezeLast} layers`;
      const source =
        base.strategy.kind === 'fine-tune' ? "the experiment's settings" : 'not set in the experiment: the start of the last stage, Keras guide learning rate';
      notes['fine-tune'] = `Base cut at ${cut}; ${from} trains at ${s.baseLearningRate} after ${s.warmupEpochs} head-only epochs (${source}).`;
    }
  }
  return notes;
}
