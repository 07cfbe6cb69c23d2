// Host <-> Layer tree panel messages, and the tree the panel shows, computed on the host
// from the trainer's layer table and the experiment file (the webview only renders it).
import type { CutOrigin, LayerRow, LayerSummary } from './layerSummary';
import type { StrategySpec } from './experiment';
import { blockOf, freezeView, type LayerState } from './freezeView';
import { backboneBlocks, type BlockScheme, type LayerPlace, type StageKind } from './layerBlocks';

import { describePixelTransform, pixelTransform, type PreprocessingMode, type PreprocessingSource } from './preprocessing';
export const LAYER_TREE_PROTOCOL = 1;

/** "tf (x * 0.007843 - 1, RGB), guessed from the architecture": how the backbone is fed, and why. */
function describePreprocessing(mode: PreprocessingMode, from: PreprocessingSource): string {
  const why: Record<PreprocessingSource, string> = {
    'experiment file': 'set in the experiment file (backbone.preprocessing)',
    catalog: 'from the catalog',
    'model card': "from the model's card.json",
    'preprocessing.json': "from the model's preprocessing.json",
    'model.json metadata': "from the model.json's metadata",
    'architecture (guessed)': 'guessed from the architecture; set backbone.preprocessing if it is wrong',
    'model layers': 'the model rescales its own input',
    assumed: 'assumed, nothing says; set backbone.preprocessing',
  };
  return `${describePixelTransform(pixelTransform(mode))}, ${why[from]}`;
}

export interface LayerItem {
  name: string;
  className: string;
  /** Output shape as text, `?` for the batch dimension: "[?, 8, 8, 32]". */
  shape: string;
  params: number;
  state: LayerState;
  /** The head attaches after this layer. */
  isCut: boolean;
  /** First layer of the base that trains (fine-tuning); the frozen/trainable boundary. */
  isBoundary: boolean;
  /**
   * The helper layers Transfer Lab's Keras rewrite made from this layer (`<name>__linear`,
   * `__gate`, `__hsig`, `__scaled`, `__pooled`), shown as part of it: their params count in
   * `params`, `className` lists the classes it runs as.
   */
  parts?: { name: string; className: string; params: number }[];
}

/**
 * A block: a Keras family's block (core/layerBlocks.ts, in its stage), else consecutive
 * layers sharing a name prefix; a layer without a block stands alone (block undefined).
 */
export interface LayerGroup {
  block?: string;
  /** The stage the block belongs to (Keras families), e.g. `conv4` for `conv4_block3`. */
  stage?: string;
  /** A shorter name to show under its stage's heading, where the block's own repeats it (ConvNeXt: `block_3` for `convnext_tiny_stage_2_block_3`). */
  title?: string;
  layers: LayerItem[];
  /** What "Train from here" on the block's header unfreezes from: its first layer, when it is in the base. */
  trainFrom?: string;
  /** What "Cut here" on the block's header cuts at: its last layer (unless the cut is there already). */
  cutAt?: string;
}

/** A stage of a Keras family, for the headings between its blocks. */
export interface LayerStage {
  name: string;
  kind: StageKind;
  blocks: number;
  params: number;
}

export interface LayerTreeState {
  type: 'state';
  protocol: typeof LAYER_TREE_PROTOCOL;
  /** Absolute path of the experiment file (kept by the webview so the panel can be restored). */
  file: string;
  experiment: string;
  source: string;
  kind: 'layers' | 'graph';
  fineTunable: boolean;
  cutAt: string;
  /** Whether cutAt is the default for this backbone (the file sets none). */
  cutIsDefault: boolean;
  /** Where the cut comes from: the file, or the default and why it is that layer. */
  cutOrigin: CutOrigin | 'unknown';
  /** The same in words, for after the layer name: "(the backbone’s usual cut)". */
  cutNote: string;
  /** The Keras family naming scheme the blocks were grouped by, when recognised. */
  scheme?: BlockScheme;
  stages: LayerStage[];
  strategy: StrategySpec['kind'];
  /** One sentence saying what trains and what stays frozen. */
  strategyText: string;
  reinitialized: boolean;
  boundary?: string;
  trainableParams: number;
  frozenParams: number;
  /** Params of layers the cut drops (not part of the model). */
  cutAwayParams: number;
  layerCount: number;
  groups: LayerGroup[];
  /** Problems with the file's choices that the tree makes visible (what, where, what to do). */
  warnings: string[];
  /** How pixels are fed ("tf: [-1, 1], guessed from the architecture"), when known. */
  preprocessing?: string;
  /** The loader's notes (guesses, rewrites), shown as they are. */
  notes: string[];
}

export type LayerTreeMessage =
  | { type: 'loading'; experiment: string; file: string }
  | { type: 'error'; experiment?: string; file: string; message: string; retry: boolean }
  | LayerTreeState
  /** An edit made (or refused) from the panel, for a short status line. */
  | { type: 'notice'; message: string; level: 'info' | 'error' };

export type LayerTreeRequest =
  | { type: 'ready' }
  | { type: 'retry' }
  | { type: 'openFile' }
  | { type: 'freezeAll' }
  | { type: 'trainFrom'; layer: string }
  | { type: 'cutAt'; layer: string };

/**
 * Validates a request from the webview. Layer names must be layers of the table shown
 * (`layerNames`); anything else is refused (undefined) before it can touch the file.
 */
export function parseLayerTreeRequest(raw: unknown, layerNames: ReadonlySet<string>): LayerTreeRequest | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return undefined;
  const m = raw as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
    case 'retry':
    case 'openFile':
    case 'freezeAll':
      return { type: m.type };
    case 'trainFrom':
    case 'cutAt':
      return typeof m.layer === 'string' && layerNames.has(m.layer) ? { type: m.type, layer: m.layer } : undefined;
    default:
      return undefined;
  }
}

export const formatShape = (s: LayerRow['outputShape']): string => JSON.stringify(s).replace(/null/g, '?').replace(/,/g, ', ');

/**
 * The block a layer belongs to: a known backbone prefix (`block_13`, `conv2_block1`, `stem`,
 * …), else the name up to its last `_` (`conv1_bn` -> `conv1`, `block1a_dwconv` -> `block1a`).
 * Only consecutive layers with the same key form a group; a lone one stands alone.
 */
export function groupKeyOf(name: string): string | undefined {
  const known = blockOf(name);
  if (known) return known;
  const i = name.lastIndexOf('_');
  return i > 0 ? name.slice(0, i) : undefined;
}

export function groupLayers<T extends { name: string }>(layers: T[]): { block?: string; layers: T[] }[] {
  const runs: { key?: string; layers: T[] }[] = [];
  for (const l of layers) {
    const key = groupKeyOf(l.name);
    const last = runs.at(-1);
    if (key !== undefined && last?.key === key) last.layers.push(l);
    else runs.push({ key, layers: [l] });
  }
  return runs.map((r) => (r.key !== undefined && r.layers.length > 1 ? { block: r.key, layers: r.layers } : { layers: r.layers }));
}

/** Layers in their family's blocks (in order of each block's first layer); layers of no block stand alone where they are. */
export function groupByPlace<T extends { name: string }>(
  layers: T[],
  placeOf: (name: string) => LayerPlace | undefined,
): { block?: string; stage?: string; layers: T[] }[] {
  const out: { block?: string; stage?: string; layers: T[] }[] = [];
  const byBlock = new Map<string, { block?: string; stage?: string; layers: T[] }>();
  for (const l of layers) {
    const p = placeOf(l.name);
    if (!p?.block) {
      out.push({ layers: [l] });
      continue;
    }
    let g = byBlock.get(p.block);
    if (!g) {
      g = { block: p.block, stage: p.stage, layers: [] };
      byBlock.set(p.block, g);
      out.push(g);
    }
    g.layers.push(l);
  }
  return out;
}

/** ConvNeXt's block names repeat the model and stage (`convnext_tiny_stage_2_block_3`): under the stage's heading, `block_3`. */
function shortBlockTitle(block: string, stage: string): string | undefined {
  if (!/_stage_\d+$/.test(stage)) return undefined;
  let i = 0;
  while (i < Math.min(block.length, stage.length + 1) && block[i] === `${stage}_`[i]) i++;
  const cut = block.lastIndexOf('_', i - 1) + 1;
  return cut > 0 && block.length - cut >= 3 ? block.slice(cut) : undefined;
}

const CUT_NOTES: Record<CutOrigin | 'unknown', string> = {
  spec: '(backbone.cutAt)',
  catalog: '(the backbone’s usual cut)',
  'model card': '(the cut the model’s card.json names)',
  'classifier head removed': '(the last layer before the model’s own classifier head, which is left out)',
  'model output': '(the model’s output layer)',
  unknown: '(the default for this model; set backbone.cutAt to choose another layer)',
};

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

type BuildInput = { file: string; experiment: string; summary: LayerSummary; cutAt?: string; strategy: StrategySpec };
type View = ReturnType<typeof freezeView>;

/** The tree and its totals for a layer table under the experiment's cut and strategy. */
export function buildLayerTree(input: BuildInput): LayerTreeState {
  const { summary, strategy } = input;
  const names = new Set(summary.rows.map((r) => r.name));
  const cutAt = input.cutAt ?? summary.cutAt;
  const view = freezeView(summary.rows, cutAt, strategy);
  const warnings: string[] = [];
  if (summary.kind === 'layers' && !names.has(cutAt))
    warnings.push(
      `backbone.cutAt "${cutAt}" is not a layer of this backbone: use "Cut here" on a layer, or remove cutAt for the usual cut (${summary.cutAt}).`,
    );
  const strategyText = describeStrategy(input, view, names, cutAt, warnings);
  const blocks = summary.kind === 'layers' ? backboneBlocks(summary.rows) : { scheme: undefined, places: [], stages: [] };
  const placeByName = new Map(summary.rows.map((r, i) => [r.name, blocks.places[i]]));
  const items = layerItems(input, view, placeByName, cutAt, warnings);
  const cutAwayParams = items.filter((l) => l.state === 'after-cut').reduce((n, l) => n + l.params, 0);
  const grouped: LayerGroup[] = blocks.scheme ? groupByPlace(items, (n) => placeByName.get(n)) : groupLayers(items);
  const cutOrigin: CutOrigin | 'unknown' =
    input.cutAt !== undefined ? 'spec' : (summary.cutFrom ?? (summary.source.startsWith('catalog:') ? 'catalog' : 'unknown'));
  return {
    type: 'state',
    protocol: LAYER_TREE_PROTOCOL,
    file: input.file,
    experiment: input.experiment,
    source: summary.source,
    kind: summary.kind,
    fineTunable: summary.fineTunable,
    cutAt,
    cutIsDefault: input.cutAt === undefined,
    cutOrigin,
    cutNote: CUT_NOTES[cutOrigin],
    scheme: blocks.scheme,
    stages: stageTotals(blocks.stages, items),
    strategy: strategy.kind,
    strategyText,
    reinitialized: view.reinitialized,
    boundary: view.boundary,
    trainableParams: view.trainableParams,
    frozenParams: view.frozenParams,
    cutAwayParams,
    layerCount: items.length,
    groups: grouped.map(withBlockActions),
    warnings,
    preprocessing: summary.preprocessing ? describePreprocessing(summary.preprocessing.mode, summary.preprocessing.from) : undefined,
    notes: summary.notes ?? [],
  };
}

/** One sentence saying what trains and what stays frozen; the file's strategy choices the view contradicts go to `warnings`. */
function describeStrategy({ summary, strategy }: BuildInput, view: View, names: ReadonlySet<string>, cutAt: string, warnings: string[]): string {
  const trainableCount = view.states.filter((s) => s === 'trainable').length;
  if (strategy.kind === 'feature-extraction') return 'Feature extraction: the whole base is frozen; only the new head trains.';
  if (strategy.kind === 'scratch')
    return `From scratch: all ${count(trainableCount, 'layer')} of the base train from re-initialised (random) weights; the pretrained weights are not used.`;
  const from =
    strategy.unfreezeFrom !== undefined
      ? `from ${strategy.unfreezeFrom}`
      : `the last ${count(strategy.unfreezeLast ?? 20, 'layer')} of the cut base${strategy.unfreezeLast === undefined ? ' (the default)' : ''}`;
  if (strategy.unfreezeFrom !== undefined && summary.kind === 'layers') {
    if (!names.has(strategy.unfreezeFrom))
      warnings.push(`strategy.unfreezeFrom "${strategy.unfreezeFrom}" is not a layer of this backbone: use "Train from here" on a layer.`);
    else if (!view.boundary)
      warnings.push(
        `strategy.unfreezeFrom "${strategy.unfreezeFrom}" is cut away (the head attaches at ${cutAt}), so the whole base stays frozen: use "Train from here" on a layer above the cut, or move the cut.`,
      );
  }
  if (!summary.fineTunable) warnings.push('This backbone cannot be fine-tuned (a graph model): use feature extraction ("Freeze all").');
  return view.boundary
    ? `Fine-tuning ${from}: ${count(trainableCount, 'layer')} of the base train (from ${view.boundary} on), the layers before stay frozen.`
    : `Fine-tuning ${from}: but no layer of the base trains.`;
}

/** The rows as the tree's layers: rewrite helpers fold into the layer they were made from; a boundary inside such a layer goes to `warnings`. */
function layerItems(
  { summary, strategy }: BuildInput,
  view: View,
  placeByName: ReadonlyMap<string, LayerPlace | undefined>,
  cutAt: string,
  warnings: string[],
): LayerItem[] {
  const stateOf = new Map(summary.rows.map((r, i) => [r.name, view.states[i]]));
  const partsOf = new Map<string, LayerRow[]>();
  for (const r of summary.rows) {
    const origin = placeByName.get(r.name)?.helperOf;
    if (origin) partsOf.set(origin, [...(partsOf.get(origin) ?? []), r]);
  }
  return summary.rows
    .filter((r) => !placeByName.get(r.name)?.helperOf)
    .map((r) => {
      const parts = partsOf.get(r.name);
      const members = parts ? [...parts, r] : [r];
      const states = members.map((m) => stateOf.get(m.name) ?? 'frozen');
      const item: LayerItem = {
        name: r.name,
        // A split layer runs as its parts: "Conv2D + Rescaling + ReLU + Multiply".
        className: parts ? members.map((m) => m.className).join(' + ') : r.className,
        shape: formatShape(r.outputShape),
        params: members.reduce((n, m) => n + m.params, 0),
        state: stateOf.get(r.name) ?? 'frozen',
        isCut: members.some((m) => m.name === cutAt),
        isBoundary: strategy.kind === 'fine-tune' && members.some((m) => m.name === view.boundary),
      };
      if (parts) {
        item.parts = parts.map((p) => ({ name: p.name, className: p.className, params: p.params }));
        if (new Set(states).size > 1 && strategy.kind === 'fine-tune') {
          const frozen = members.filter((m, i) => states[i] === 'frozen').map((m) => m.name);
          warnings.push(
            `The frozen/trainable boundary falls inside ${r.name}, which runs as ${members.map((m) => m.name).join(' + ')} in TensorFlow.js: ${frozen.join(', ')} stay${frozen.length === 1 ? 's' : ''} frozen, so part of ${r.name} does not train. Use "Train from here" on ${r.name} to train all of it.`,
          );
        }
      }
      return item;
    });
}

/** A block's header actions: "Train from here" from its first layer (in the base), "Cut here" at its last; and its short title. */
function withBlockActions(g: LayerGroup): LayerGroup {
  if (!g.block) return g;
  const first = g.layers[0];
  const last = g.layers.at(-1)!;
  const out: LayerGroup = { ...g };
  const title = g.stage ? shortBlockTitle(g.block, g.stage) : undefined;
  if (title) out.title = title;
  if ((first.state === 'frozen' || first.state === 'trainable') && !first.isBoundary) out.trainFrom = first.name;
  if (!last.isCut && last.state !== 'input') out.cutAt = last.name;
  return out;
}

function stageTotals(stages: ReturnType<typeof backboneBlocks>['stages'], items: LayerItem[]): LayerStage[] {
  const itemByName = new Map(items.map((l) => [l.name, l]));
  return stages.map((st) => ({
    name: st.name,
    kind: st.kind,
    blocks: st.blocks.length,
    params: st.blocks.reduce((n, b) => n + b.layers.reduce((m, name) => m + (itemByName.get(name)?.params ?? 0), 0), 0),
  }));
}
