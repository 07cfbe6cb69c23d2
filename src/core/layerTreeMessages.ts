// Host <-> Layer tree panel messages (the rule: messageProtocol.ts), and the tree the panel
// shows, computed on the host from the trainer's layer table and the experiment file (the
// webview only renders it).
import * as v from 'valibot';
import type { CutOrigin, LayerRow, LayerSummary } from './layerSummary';
import type { StrategySpec } from './experiment';
import { blockOf, freezeView, type LayerState } from './freezeView';
import { backboneBlocks, type BlockScheme, type LayerPlace, type StageKind } from './layerBlocks';
import { CUT_ORIGINS } from './protocol';
import { ProbeFileSchema, type ProbeFile } from './probeFile';
import { ChartsReportEntries } from './chartReport';
import { message, parseMessage, type Assert, type Parsed, type SameShape } from './messageProtocol';

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

const LayerStateSchema = v.picklist(['frozen', 'trainable', 'after-cut', 'input']);
export type _LayerStateSchemaIsLayerState = Assert<SameShape<v.InferOutput<typeof LayerStateSchema>, LayerState>>;

const LayerItemSchema = v.object({
  name: v.string(),
  className: v.string(),
  /** Output shape as text, `?` for the batch dimension: "[?, 8, 8, 32]". */
  shape: v.string(),
  params: v.number(),
  state: LayerStateSchema,
  /** The head attaches after this layer. */
  isCut: v.boolean(),
  /** First layer of the base that trains (fine-tuning); the frozen/trainable boundary. */
  isBoundary: v.boolean(),
  /**
   * The helper layers Transfer Lab's Keras rewrite made from this layer (`<name>__linear`,
   * `__gate`, `__hsig`, `__scaled`, `__pooled`), shown as part of it: their params count in
   * `params`, `className` lists the classes it runs as.
   */
  parts: v.optional(v.array(v.object({ name: v.string(), className: v.string(), params: v.number() }))),
});
export type LayerItem = v.InferOutput<typeof LayerItemSchema>;

/**
 * A block: a Keras family's block (core/layerBlocks.ts, in its stage), else consecutive
 * layers sharing a name prefix; a layer without a block stands alone (block undefined).
 */
const LayerGroupSchema = v.object({
  block: v.optional(v.string()),
  /** The stage the block belongs to (Keras families), e.g. `conv4` for `conv4_block3`. */
  stage: v.optional(v.string()),
  /** A shorter name to show under its stage's heading, where the block's own repeats it (ConvNeXt: `block_3` for `convnext_tiny_stage_2_block_3`). */
  title: v.optional(v.string()),
  layers: v.array(LayerItemSchema),
  /** What "Train from here" on the block's header unfreezes from: its first layer, when it is in the base. */
  trainFrom: v.optional(v.string()),
  /** What "Cut here" on the block's header cuts at: its last layer (unless the cut is there already). */
  cutAt: v.optional(v.string()),
});
export type LayerGroup = v.InferOutput<typeof LayerGroupSchema>;

const StageKindSchema = v.picklist(['stem', 'stage', 'reduction', 'top']);
export type _StageKindSchemaIsStageKind = Assert<SameShape<v.InferOutput<typeof StageKindSchema>, StageKind>>;

/** A stage of a Keras family, for the headings between its blocks. */
const LayerStageSchema = v.object({ name: v.string(), kind: StageKindSchema, blocks: v.number(), params: v.number() });
export type LayerStage = v.InferOutput<typeof LayerStageSchema>;

const BlockSchemeSchema = v.picklist([
  'resnet',
  'densenet',
  'efficientnet',
  'mobilenet_v1',
  'mobilenet_v2',
  'mobilenet_v3',
  'inception_v3',
  'inception_resnet_v2',
  'xception',
  'nasnet',
  'vgg',
  'convnext',
]);
export type _BlockSchemeSchemaIsBlockScheme = Assert<SameShape<v.InferOutput<typeof BlockSchemeSchema>, BlockScheme>>;

const StrategyKindSchema = v.picklist(['feature-extraction', 'fine-tune', 'scratch']);
export type _StrategyKindSchemaIsStrategyKind = Assert<SameShape<v.InferOutput<typeof StrategyKindSchema>, StrategySpec['kind']>>;

const L = LAYER_TREE_PROTOCOL;

const LayerTreeStateSchema = message(L, 'state', {
  /** Absolute path of the experiment file (kept by the webview so the panel can be restored). */
  file: v.string(),
  experiment: v.string(),
  source: v.string(),
  kind: v.picklist(['layers', 'graph']),
  fineTunable: v.boolean(),
  cutAt: v.string(),
  /** Whether cutAt is the default for this backbone (the file sets none). */
  cutIsDefault: v.boolean(),
  /** Where the cut comes from: the file, or the default and why it is that layer. */
  cutOrigin: v.picklist([...CUT_ORIGINS, 'unknown']),
  /** The same in words, for after the layer name: "(the backbone’s usual cut)". */
  cutNote: v.string(),
  /** The Keras family naming scheme the blocks were grouped by, when recognised. */
  scheme: v.optional(BlockSchemeSchema),
  stages: v.array(LayerStageSchema),
  strategy: StrategyKindSchema,
  /** One sentence saying what trains and what stays frozen. */
  strategyText: v.string(),
  reinitialized: v.boolean(),
  boundary: v.optional(v.string()),
  trainableParams: v.number(),
  frozenParams: v.number(),
  /** Params of layers the cut drops (not part of the model). */
  cutAwayParams: v.number(),
  layerCount: v.number(),
  groups: v.array(LayerGroupSchema),
  /** Problems with the file's choices that the tree makes visible (what, where, what to do). */
  warnings: v.array(v.string()),
  /** How pixels are fed ("tf: [-1, 1], guessed from the architecture"), when known. */
  preprocessing: v.optional(v.string()),
  /** The loader's notes (guesses, rewrites), shown as they are. */
  notes: v.array(v.string()),
  /** The layer probe of this experiment's backbone (its probe.json), shown per block when there is one. */
  probe: v.optional(ProbeFileSchema),
});
export type LayerTreeState = v.InferOutput<typeof LayerTreeStateSchema>;

// host -> layer tree
const LayerTreeMessageSchema = v.variant('type', [
  message(L, 'loading', { experiment: v.string(), file: v.string() }),
  message(L, 'error', { experiment: v.optional(v.string()), file: v.string(), message: v.string(), retry: v.boolean() }),
  LayerTreeStateSchema,
  /** An edit made (or refused) from the panel, for a short status line. */
  message(L, 'notice', { message: v.string(), level: v.picklist(['info', 'error']) }),
  /** The probe's progress while it runs in the trainer; `running: false` when it ended (the state follows). */
  message(L, 'probe-status', { running: v.boolean(), message: v.string() }),
  /** A test hook asks what the probe chart holds (core/chartReport.ts); the webview answers with 'charts'. */
  message(L, 'describe-charts', {}),
]);
export type LayerTreeMessage = v.InferOutput<typeof LayerTreeMessageSchema>;
export const parseLayerTreeMessage = (raw: unknown): Parsed<LayerTreeMessage> => parseMessage(LayerTreeMessageSchema, L, raw);

// layer tree -> host
const LayerTreeRequestSchema = v.variant('type', [
  message(L, 'ready', {}),
  message(L, 'retry', {}),
  message(L, 'open-file', {}),
  message(L, 'freeze-all', {}),
  message(L, 'train-from', { layer: v.string() }),
  message(L, 'cut-at', { layer: v.string() }),
  message(L, 'probe', {}),
  message(L, 'charts', ChartsReportEntries),
]);
export type LayerTreeRequest = v.InferOutput<typeof LayerTreeRequestSchema>;

/**
 * Validates a request from the webview. Layer names must be layers of the table shown
 * (`layerNames`); anything else is refused before it can touch the file.
 */
export function parseLayerTreeRequest(raw: unknown, layerNames: ReadonlySet<string>): Parsed<LayerTreeRequest> {
  const parsed = parseMessage(LayerTreeRequestSchema, L, raw);
  if (parsed.ok && 'layer' in parsed.value && !layerNames.has(parsed.value.layer)) {
    return { ok: false, error: `'${parsed.value.type}' message: layer: ${JSON.stringify(parsed.value.layer)} is not a layer of the table shown` };
  }
  return parsed;
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

type BuildInput = { file: string; experiment: string; summary: LayerSummary; cutAt?: string; strategy: StrategySpec; probe?: ProbeFile };
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
    ...(input.probe ? { probe: input.probe } : {}),
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
