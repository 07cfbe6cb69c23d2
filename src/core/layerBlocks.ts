// Stages and blocks of a backbone, from its layer names: the one definition the layer tree
// (Show Layers), the strategy advisor and the wizard share. Pure: names (and, where given,
// each layer's inbound layers and class) in, places out.
//
// Every Keras Applications family names its layers after its blocks, one scheme per family:
// core/layerBlockSchemes.ts recognises the family and places each named layer.
//
// Layers Keras names automatically (add_3, re_lu_7, activation_12, conv2d_5, ...) belong to
// the block they sit in: the block of the named layer before them (most families), or of
// the named layer after them where blocks end in a named layer (Inception, NASNet). Helper
// layers that Transfer Lab's Keras rewrites add (`<layer>__linear`, `__gate`, `__hsig`,
// `__scaled`, `__pooled`: src/engine/keras/kerasRewrites.ts) belong to the layer they were
// made from. A model this module does not recognise gets no stages; the layer tree then
// groups consecutive layers sharing a name prefix.
import { detectBlockScheme, namer, NASNET_NORMAL, NEXT_RULE, STEM, TOP, type BlockScheme, type Named, type StageKind } from './layerBlockSchemes';
export { detectBlockScheme, type BlockScheme, type StageKind } from './layerBlockSchemes';

export interface LayerRef {
  name: string;
  className?: string;
  /** Names of the layers feeding this one (needed to find Inception's stem). */
  inbound?: readonly string[];
}

export interface LayerPlace {
  stage?: string;
  block?: string;
  /** For a helper layer of a rewrite: the layer it was made from. */
  helperOf?: string;
}

export interface BlockInfo {
  name: string;
  stage: string;
  /** Its layers in model order (helpers included). */
  layers: string[];
}

export interface StageInfo {
  name: string;
  kind: StageKind;
  blocks: BlockInfo[];
}

export interface BackboneBlocks {
  scheme: BlockScheme | undefined;
  /** One per input layer, in the same order. */
  places: LayerPlace[];
  /** In model order; empty when the scheme is not recognised. */
  stages: StageInfo[];
}

/** A Keras family's layers in the places the advisor proposes: an earlier cut and two unfreeze points. */
export interface TransferPoints {
  scheme: BlockScheme;
  /** End of the last stage before the network's final resolution: more generic features than the default cut. */
  earlierCut: string;
  /** First layer of the last stage: fine-tuning only the last stage. */
  lateBlock: string;
  /** First layer of the second stage: fine-tuning most of the network. */
  earlyBlock: string;
}

// ---- helpers of rewrites --------------------------------------------------------------

/** The layer a rewrite helper (`<name>__<what>`) was made from, when that layer is in `names`. */
export function helperOriginOf(name: string, names: ReadonlySet<string>): string | undefined {
  const i = name.indexOf('__');
  if (i <= 0) return undefined;
  const origin = name.slice(0, i);
  return names.has(origin) ? origin : undefined;
}

// ---- places of automatic names ---------------------------------------------------------

/** Classes that start a classifier head a user put on the backbone (left out of the backbone's blocks). */
const HEAD_CLASSES = new Set([
  'Dense',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'GlobalAveragePooling1D',
  'GlobalMaxPooling1D',
  'Flatten',
  'Dropout',
  'Softmax',
]);

const MERGE_CLASSES = new Set(['Add', 'Multiply', 'Concatenate', 'Subtract', 'Average', 'Maximum', 'Minimum']);

const isInput = (l: LayerRef) => l.className === 'InputLayer';

/** Inception's stem: the chain from the input up to the first layer feeding several branches. */
function leadingChain(layers: readonly LayerRef[]): Set<number> {
  const out = new Set<number>();
  if (!layers.every((l) => l.inbound)) return out;
  const consumers = new Map<string, number>();
  for (const l of layers) for (const i of l.inbound!) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  let prev: string | undefined;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (isInput(l)) {
      prev = l.name;
      continue;
    }
    if (prev === undefined || l.inbound!.length !== 1 || l.inbound![0] !== prev) break;
    out.add(i);
    if ((consumers.get(l.name) ?? 0) > 1) break;
    prev = l.name;
  }
  return out;
}

/** Places every layer of a backbone in its stage and block (see the top of the file). */
export function backboneBlocks(layers: readonly LayerRef[]): BackboneBlocks {
  const all = new Set(layers.map((l) => l.name));
  const origin = layers.map((l) => helperOriginOf(l.name, all));
  const own = layers.map((l, i) => origin[i] ?? l.name);
  const scheme = detectBlockScheme(own.filter((_, i) => origin[i] === undefined));
  const places: LayerPlace[] = layers.map((_, i) => (origin[i] ? { helperOf: origin[i] } : {}));
  if (!scheme) return { scheme, places, stages: [] };

  const assigned = placeAutomaticNames(scheme, layers, nameLayers(scheme, layers, own, origin));
  // A helper goes where its origin went.
  const indexOf = new Map(layers.map((l, i) => [l.name, i]));
  origin.forEach((o, i) => {
    if (o !== undefined) assigned[i] = assigned[indexOf.get(o)!];
  });
  const stages = collectStages(layers, assigned);
  if (scheme === 'nasnet') nameNasnetStages(stages);
  const stageOfBlock = new Map<string, string>();
  for (const s of stages) for (const b of s.blocks) stageOfBlock.set(b.name, s.name);
  assigned.forEach((p, i) => {
    if (p) places[i] = { ...places[i], block: p.block, stage: stageOfBlock.get(p.block) };
  });
  return { scheme, places, stages };
}

/** The places of the named layers (`own`: a helper's origin's name); a helper shares its origin's place, which the origin decides (a helper may come first). */
function nameLayers(scheme: BlockScheme, layers: readonly LayerRef[], own: string[], origin: (string | undefined)[]): (Named | undefined)[] {
  const nameOf = namer(scheme, own);
  const named: (Named | undefined)[] = own.map((n, i) => (isInput(layers[i]) ? undefined : nameOf(n)));
  const byName = new Map<string, Named | undefined>();
  own.forEach((n, i) => {
    if (origin[i] === undefined) byName.set(n, named[i]);
  });
  return own.map((n, i) => (origin[i] !== undefined ? byName.get(n) : named[i]));
}

/** Automatic names: placed by their position among the named layers (`resolved`). */
function placeAutomaticNames(scheme: BlockScheme, layers: readonly LayerRef[], resolved: (Named | undefined)[]): (Named | undefined)[] {
  const stem = NEXT_RULE.has(scheme) ? leadingChain(layers) : new Set<number>();
  const lastNamed = resolved.reduce((last, p, i) => (p ? i : last), -1);
  const assigned: (Named | undefined)[] = resolved.slice();
  let headStarted = false;
  for (let i = 0; i < layers.length; i++) {
    if (assigned[i] || isInput(layers[i])) continue;
    if (stem.has(i)) {
      assigned[i] = STEM;
      continue;
    }
    if (i > lastNamed) {
      // After the last block: the backbone's own last layers (top), until a user's classifier head starts.
      const cls = layers[i].className;
      if (headStarted || (cls !== undefined && HEAD_CLASSES.has(cls))) {
        headStarted = true;
        continue;
      }
      const last = lastNamed >= 0 ? resolved[lastNamed] : undefined;
      // A merge right after the last block closes its residual (ConvNeXt's last add); the rest is the top.
      const closes = cls !== undefined && MERGE_CLASSES.has(cls) && !assigned.slice(lastNamed + 1, i).some((p) => p === TOP);
      assigned[i] = last?.kind === 'top' || closes ? (last ?? TOP) : TOP;
      continue;
    }
    assigned[i] = betweenNamed(scheme, resolved, i);
  }
  return assigned;
}

/** An automatic name among named layers: in the block of the named layer before it, or (blocks ending in a named layer) after it. */
function betweenNamed(scheme: BlockScheme, resolved: (Named | undefined)[], i: number): Named | undefined {
  let prev: Named | undefined;
  for (let j = i - 1; j >= 0 && !prev; j--) prev = resolved[j];
  let next: Named | undefined;
  for (let j = i + 1; j < resolved.length && !next; j++) next = resolved[j];
  return NEXT_RULE.has(scheme) ? (prev?.opens ? prev : (next ?? prev)) : (prev ?? next);
}

/** Stages and blocks in order of first appearance. */
function collectStages(layers: readonly LayerRef[], assigned: (Named | undefined)[]): StageInfo[] {
  const stages: StageInfo[] = [];
  const stageByName = new Map<string, StageInfo>();
  const blockByName = new Map<string, BlockInfo>();
  assigned.forEach((p, i) => {
    if (!p) return;
    let stage = stageByName.get(p.stage);
    if (!stage) {
      stage = { name: p.stage, kind: p.kind ?? 'stage', blocks: [] };
      stageByName.set(p.stage, stage);
      stages.push(stage);
    }
    let block = blockByName.get(p.block);
    if (!block) {
      block = { name: p.block, stage: p.stage, layers: [] };
      blockByName.set(p.block, block);
      stage.blocks.push(block);
    }
    block.layers.push(layers[i].name);
  });
  return stages;
}

/** NASNet: the normal cells between two reduction cells become one stage, named by its first and last cell. */
function nameNasnetStages(stages: StageInfo[]): void {
  const normal = stages.findIndex((s) => s.name === NASNET_NORMAL);
  if (normal < 0) return;
  const { blocks } = stages[normal];
  const runs: StageInfo[] = [];
  const reductions = stages.filter((s) => s.kind === 'reduction');
  // Cells are numbered in order; Keras's reduce_K follows normal cell K-1 (K = N) or K (K = 2N).
  const cellNo = (b: BlockInfo) => Number(/(\d+)$/.exec(b.name)?.[1] ?? 0);
  const cuts = reductions.map((r) => Number(/(\d+)$/.exec(r.name)?.[1] ?? 0)).sort((a, b) => a - b);
  for (const b of [...blocks].sort((x, y) => cellNo(x) - cellNo(y))) {
    const run = cuts.filter((c) => c < cellNo(b)).length;
    (runs[run] ??= { name: '', kind: 'stage', blocks: [] }).blocks.push(b);
  }
  const ordered: StageInfo[] = [];
  const rest = stages.filter((_, i) => i !== normal);
  const normalRuns = runs.filter(Boolean);
  for (const r of normalRuns) {
    const first = cellNo(r.blocks[0]);
    const last = cellNo(r.blocks.at(-1)!);
    r.name = first === last ? `normal_cell_${first}` : `normal_cells_${first}-${last}`;
    for (const b of r.blocks) b.stage = r.name;
  }
  // Interleave: stem, normal run 0, reduce, normal run 1, reduce, ..., top.
  const stem = rest.filter((s) => s.kind === 'stem');
  const top = rest.filter((s) => s.kind === 'top');
  const reds = rest.filter((s) => s.kind === 'reduction');
  ordered.push(...stem);
  normalRuns.forEach((r, i) => {
    ordered.push(r);
    if (reds[i]) ordered.push(reds[i]);
  });
  ordered.push(...reds.slice(normalRuns.length), ...top);
  stages.splice(0, stages.length, ...ordered);
}

// ---- points the advisor proposes ------------------------------------------------------

const isPad = (name: string, className?: string) => className === 'ZeroPadding2D' || /(_pad|_pad_\d+)$/.test(name);

/** Stages at the network's final resolution (after its last downsampling), per scheme. */
function finalStages(scheme: BlockScheme, body: StageInfo[]): Set<StageInfo> {
  if (scheme === 'efficientnet') return new Set(body.filter((s) => Number(/^block(\d+)$/.exec(s.name)?.[1] ?? 0) >= 6));
  const last = body.at(-1);
  const out = new Set<StageInfo>(last ? [last] : []);
  const before = body.at(-2);
  if (before?.kind === 'reduction') out.add(before);
  return out;
}

/**
 * Where a family is usually cut earlier and unfrozen, from its stages: the end of the last
 * stage before the final resolution (MobileNets: the widest layer still at that resolution,
 * the expansion before the downsampling depthwise, as SSD and Keras's segmentation tutorial
 * take it), the start of the last stage, and the start of the second stage.
 */
export function transferPoints(layers: readonly LayerRef[], blocks: BackboneBlocks = backboneBlocks(layers)): TransferPoints | undefined {
  const { scheme, stages } = blocks;
  if (!scheme) return undefined;
  const classOf = new Map(layers.map((l) => [l.name, l.className]));
  const helper = new Set(blocks.places.flatMap((p, i) => (p.helperOf ? [layers[i].name] : [])));
  const body = stages.filter((s) => s.kind === 'stage' || s.kind === 'reduction');
  const full = body.filter((s) => s.kind === 'stage');
  if (full.length < 2) return undefined;
  // A stage starts after every layer of the stages before it (NASNet's cells interleave a little).
  const index = new Map(layers.map((l, i) => [l.name, i]));
  const startOf = (s: StageInfo): string => {
    const before = stages.slice(0, stages.indexOf(s)).flatMap((x) => x.blocks.flatMap((b) => b.layers));
    const from = Math.max(-1, ...before.map((n) => index.get(n)!)) + 1;
    const mine = new Set(s.blocks.flatMap((b) => b.layers));
    const first = layers.slice(from).find((l) => mine.has(l.name) && !isPad(l.name, l.className));
    return first?.name ?? s.blocks[0].layers[0];
  };
  const lastLayer = (b: BlockInfo) => [...b.layers].reverse().find((n) => !helper.has(n)) ?? b.layers.at(-1)!;
  const final = finalStages(scheme, body);
  const firstFinal = body.findIndex((s) => final.has(s));
  const beforeFinal = body.slice(0, firstFinal < 0 ? body.length - 1 : firstFinal).filter((s) => s.kind === 'stage');
  const cutStage = beforeFinal.at(-1) ?? full[0];
  let earlierCut = lastLayer(cutStage.blocks.at(-1)!);
  if (scheme.startsWith('mobilenet') && firstFinal >= 0) {
    const down = body[firstFinal].blocks[0];
    const i = down.layers.findIndex((n) => isPad(n, classOf.get(n)) || /depthwise|^conv_dw_/.test(n));
    const wide = down.layers.slice(0, Math.max(0, i)).filter((n) => !helper.has(n));
    if (wide.length > 0) earlierCut = wide.at(-1)!;
  }
  return {
    scheme,
    earlierCut,
    lateBlock: startOf(full.at(-1)!),
    earlyBlock: startOf(body[1]),
  };
}
