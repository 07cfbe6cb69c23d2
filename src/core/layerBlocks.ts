// Stages and blocks of a backbone, from its layer names: the one definition the layer tree
// (Show Layers), the strategy advisor and the wizard share. Pure: names (and, where given,
// each layer's inbound layers and class) in, places out.
//
// Every Keras Applications family names its layers after its blocks, one scheme per
// family (keras/src/applications/<module>.py):
//
//   resnet, resnet_v2   conv4_block3_2_conv           stage conv4, block conv4_block3
//   densenet            conv4_block12_1_conv, pool3_* stage conv4, block conv4_block12; pool3 = transition after conv3
//   efficientnet(_v2)   block6a_expand_conv           stage block6, block block6a
//   mobilenet (v1)      conv_dw_5, conv_pw_5          block "conv_dw_5 + conv_pw_5"
//   mobilenet_v2        block_13_expand, expanded_conv_* (block 0), Conv1 (stem), Conv_1 (top)
//   mobilenet_v3        expanded_conv_4_expand, expanded_conv_* (block 0), conv (stem), conv_1 (top)
//   inception_v3        auto names (conv2d_12, activation_7), each block ending in its
//                       concatenation mixedN: everything after mixed(N-1) up to mixedN is mixedN
//   inception_resnet_v2 mixed_5b, block35_3_mixed/_conv/_ac, block17_N, block8_N, conv_7b (top)
//   xception            block1_conv1 .. block14_sepconv2 (entry, middle and exit flow)
//   nasnet              cells: normal_*_N, reduction_*_reduce_N, reduction_*_stem_N, adjust_*_N
//   vgg                 block1_conv1, block1_pool
//   convnext            convnext_tiny_stage_0_block_1_*, convnext_tiny_downsampling_block_0
//                       (as inlined: _downsampling_layernorm_0 / _downsampling_conv_0), _stem
//
// Layers Keras names automatically (add_3, re_lu_7, activation_12, conv2d_5, ...) belong to
// the block they sit in: the block of the named layer before them (most families), or of
// the named layer after them where blocks end in a named layer (Inception, NASNet). Helper
// layers that Transfer Lab's Keras rewrites add (`<layer>__linear`, `__gate`, `__hsig`,
// `__scaled`, `__pooled`: src/engine/keras/kerasRewrites.ts) belong to the layer they were
// made from. A model this module does not recognise gets no stages; the layer tree then
// groups consecutive layers sharing a name prefix.

export type BlockScheme =
  | 'resnet'
  | 'densenet'
  | 'efficientnet'
  | 'mobilenet_v1'
  | 'mobilenet_v2'
  | 'mobilenet_v3'
  | 'inception_v3'
  | 'inception_resnet_v2'
  | 'xception'
  | 'nasnet'
  | 'vgg'
  | 'convnext';

export interface LayerRef {
  name: string;
  className?: string;
  /** Names of the layers feeding this one (needed to find Inception's stem). */
  inbound?: readonly string[];
}

export type StageKind = 'stem' | 'stage' | 'reduction' | 'top';

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

// ---- which scheme ---------------------------------------------------------------------

const some = (names: readonly string[], re: RegExp, atLeast = 1) => {
  let n = 0;
  for (const x of names) if (re.test(x) && ++n >= atLeast) return true;
  return false;
};

/** The naming scheme of a Keras Applications family, recognised from layer names. */
export function detectBlockScheme(names: readonly string[]): BlockScheme | undefined {
  if (some(names, /_stage_\d+_block_\d+_/)) return 'convnext';
  if (some(names, /^(normal_concat_\d+|reduction_concat_(stem|reduce)_\d+)$/)) return 'nasnet';
  if (some(names, /^block(35|17|8)_\d+_(mixed|conv|ac)$/)) return 'inception_resnet_v2';
  if (some(names, /^mixed\d+$/, 3)) return 'inception_v3';
  if (some(names, /^conv\d_block\d+_concat$/)) return 'densenet';
  if (some(names, /^conv\d_block\d+_(out|add|preact_bn)$/)) return 'resnet';
  if (some(names, /^block\d+[a-z]+_(expand_conv|dwconv2?|project_conv)$/)) return 'efficientnet';
  if (some(names, /^block_\d+_(expand|depthwise|project)$/)) return 'mobilenet_v2';
  if (some(names, /^expanded_conv_\d+_(expand|depthwise|project)$/)) return 'mobilenet_v3';
  if (some(names, /^conv_(dw|pw)_\d+$/, 2)) return 'mobilenet_v1';
  if (some(names, /^block\d+_sepconv\d$/)) return 'xception';
  if (some(names, /^block\d+_conv\d+$/) && some(names, /^block\d+_pool$/)) return 'vgg';
  return undefined;
}

// ---- named layers ---------------------------------------------------------------------

interface Named {
  stage: string;
  block: string;
  kind?: StageKind;
  /** Schemes where blocks end in a named layer: the automatic names after this one stay in its block. */
  opens?: boolean;
}

const STEM: Named = { stage: 'stem', block: 'stem', kind: 'stem' };
const TOP: Named = { stage: 'top', block: 'top', kind: 'top' };

/** Blocks where the resolution halves (stride 2), per MobileNet, from keras/src/applications/mobilenet*.py. */
const MOBILENET_STRIDES: Record<'v1' | 'v2' | 'v3small' | 'v3large', number[]> = {
  v1: [2, 4, 6, 12],
  v2: [1, 3, 6, 13],
  v3small: [0, 1, 3, 8],
  v3large: [1, 3, 6, 12],
};

/** Stage N: the blocks from the (N-1)th downsampling block on (stage 1: those before the first, when block 0 keeps the stem's resolution). */
function mobilenetStage(strides: number[], id: number): string {
  const n = strides.filter((s) => s <= id).length + (strides[0] > 0 ? 1 : 0);
  return `stage ${Math.max(1, n)}`;
}

const INCEPTION_V3_STAGES: [number, number, StageKind][] = [
  [0, 2, 'stage'],
  [3, 3, 'reduction'],
  [4, 7, 'stage'],
  [8, 8, 'reduction'],
  [9, 10, 'stage'],
];

function namer(scheme: BlockScheme, names: readonly string[]): (name: string) => Named | undefined {
  switch (scheme) {
    case 'resnet':
      return (n) => {
        if (/^(conv1|pool1)(_|$)/.test(n)) return STEM;
        const m = /^(conv\d)_block(\d+)_/.exec(n);
        if (m) return { stage: m[1], block: `${m[1]}_block${m[2]}` };
        if (/^post_(bn|relu)$/.test(n)) return TOP;
        return undefined;
      };
    case 'densenet':
      return (n) => {
        if (/^(conv1|pool1)(_|$)/.test(n)) return STEM;
        const m = /^(conv\d)_block(\d+)_/.exec(n);
        if (m) return { stage: m[1], block: `${m[1]}_block${m[2]}` };
        const t = /^pool(\d)_/.exec(n);
        if (t) return { stage: `conv${t[1]}`, block: `pool${t[1]}` };
        if (n === 'bn' || n === 'relu') return TOP;
        return undefined;
      };
    case 'efficientnet':
      return (n) => {
        if (/^stem_/.test(n)) return STEM;
        const m = /^block(\d+)([a-z]+)_/.exec(n);
        if (m) return { stage: `block${m[1]}`, block: `block${m[1]}${m[2]}` };
        if (/^top_/.test(n)) return TOP;
        return undefined;
      };
    case 'mobilenet_v1':
      return (n) => {
        if (/^conv1(_|$)/.test(n)) return STEM;
        const m = /^conv_(?:dw|pw|pad)_(\d+)(_|$)/.exec(n);
        if (m) return { stage: mobilenetStage(MOBILENET_STRIDES.v1, Number(m[1])), block: `conv_dw_${m[1]} + conv_pw_${m[1]}` };
        return undefined;
      };
    case 'mobilenet_v2':
      return (n) => {
        if (/^(Conv1|bn_Conv1|Conv1_relu|Conv1_pad)$/.test(n)) return STEM;
        if (/^expanded_conv_/.test(n)) return { stage: mobilenetStage(MOBILENET_STRIDES.v2, 0), block: 'expanded_conv' };
        const m = /^block_(\d+)_/.exec(n);
        if (m) return { stage: mobilenetStage(MOBILENET_STRIDES.v2, Number(m[1])), block: `block_${m[1]}` };
        if (/^(Conv_1|Conv_1_bn|out_relu)$/.test(n)) return TOP;
        return undefined;
      };
    case 'mobilenet_v3': {
      const ids = names
        .map((n) => /^expanded_conv_(\d+)_/.exec(n)?.[1])
        .filter((x): x is string => x !== undefined)
        .map(Number);
      const strides = Math.max(0, ...ids) >= 12 ? MOBILENET_STRIDES.v3large : MOBILENET_STRIDES.v3small;
      return (n) => {
        if (n === 'conv' || n === 'conv_bn') return STEM;
        const m = /^expanded_conv_(\d+)_/.exec(n);
        if (m) return { stage: mobilenetStage(strides, Number(m[1])), block: `expanded_conv_${m[1]}` };
        if (/^expanded_conv_/.test(n)) return { stage: mobilenetStage(strides, 0), block: 'expanded_conv' };
        if (/^conv_1(_bn)?$/.test(n)) return TOP;
        return undefined;
      };
    }
    case 'inception_v3':
      return (n) => {
        const m = /^mixed(\d+)$/.exec(n);
        if (!m) return undefined;
        const id = Number(m[1]);
        const [from, to, kind] = INCEPTION_V3_STAGES.find(([a, b]) => id >= a && id <= b) ?? [id, id, 'stage' as StageKind];
        return { stage: from === to ? `mixed${from}` : `mixed${from}-mixed${to}`, block: n, kind };
      };
    case 'inception_resnet_v2':
      return (n) => {
        if (n === 'mixed_5b') return { stage: 'block35', block: n };
        if (n === 'mixed_6a' || n === 'mixed_7a') return { stage: n, block: n, kind: 'reduction' };
        const m = /^block(35|17|8)_(\d+)_(mixed|conv|ac)$/.exec(n);
        if (m) return { stage: `block${m[1]}`, block: `block${m[1]}_${m[2]}`, opens: m[3] !== 'ac' };
        if (/^conv_7b(_bn|_ac)?$/.test(n)) return { ...TOP, opens: true };
        return undefined;
      };
    case 'xception':
      return (n) => {
        const m = /^block(\d+)_/.exec(n);
        if (!m) return undefined;
        const id = Number(m[1]);
        return { stage: id <= 4 ? 'entry flow' : id <= 12 ? 'middle flow' : 'exit flow', block: `block${id}` };
      };
    case 'nasnet':
      return (n) => {
        if (/^stem_(conv1|bn1)$/.test(n)) return STEM;
        if (!/^(normal|reduction|adjust|separable_conv)_/.test(n)) return undefined;
        const m = /_(stem_\d+|reduce_\d+|\d+)$/.exec(n);
        if (!m) return undefined;
        const cell = m[1];
        if (cell.startsWith('stem_')) return { stage: 'stem', block: `reduction_cell_${cell}`, kind: 'stem' };
        if (cell.startsWith('reduce_')) return { stage: `reduction_cell_${cell}`, block: `reduction_cell_${cell}`, kind: 'reduction' };
        // Normal cells between two reductions form a stage; named once the cells are known (below).
        return { stage: NASNET_NORMAL, block: `normal_cell_${cell}` };
      };
    case 'vgg':
      return (n) => {
        const m = /^block(\d+)_(conv\d+|pool)$/.exec(n);
        return m ? { stage: `block${m[1]}`, block: `block${m[1]}` } : undefined;
      };
    case 'convnext':
      return (n) => {
        const b = /^(.+)_stage_(\d+)_block_(\d+)_/.exec(n);
        if (b) return { stage: `${b[1]}_stage_${b[2]}`, block: `${b[1]}_stage_${b[2]}_block_${b[3]}` };
        const d = /^(.+)_downsampling_(?:block|layernorm|conv)_(\d+)$/.exec(n);
        if (d) return { stage: `${d[1]}_stage_${Number(d[2]) + 1}`, block: `${d[1]}_downsampling_block_${d[2]}` };
        if (/_(prestem_normalization|stem|stem_conv|stem_layernorm)$/.test(n)) return STEM;
        return undefined;
      };
  }
}

const NASNET_NORMAL = '\u0000normal';

/** Schemes whose blocks end in a named layer: automatic names belong to the next named layer's block. */
const NEXT_RULE: ReadonlySet<BlockScheme> = new Set(['inception_v3', 'inception_resnet_v2', 'nasnet']);

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

  const nameOf = namer(scheme, own);
  const named: (Named | undefined)[] = own.map((n, i) => (isInput(layers[i]) ? undefined : nameOf(n)));
  // A helper shares its origin's place; the origin decides it (a helper may come first).
  const byName = new Map<string, Named | undefined>();
  own.forEach((n, i) => {
    if (origin[i] === undefined) byName.set(n, named[i]);
  });
  const resolved: (Named | undefined)[] = own.map((n, i) => (origin[i] !== undefined ? byName.get(n) : named[i]));
  const stem = NEXT_RULE.has(scheme) ? leadingChain(layers) : new Set<number>();

  // Automatic names: by position among the named layers.
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
    let prev: Named | undefined;
    for (let j = i - 1; j >= 0 && !prev; j--) prev = resolved[j];
    let next: Named | undefined;
    for (let j = i + 1; j < layers.length && !next; j++) next = resolved[j];
    if (NEXT_RULE.has(scheme)) assigned[i] = prev?.opens ? prev : (next ?? prev);
    else assigned[i] = prev ?? next;
  }

  // A helper goes where its origin went.
  const indexOf = new Map(layers.map((l, i) => [l.name, i]));
  origin.forEach((o, i) => {
    if (o !== undefined) assigned[i] = assigned[indexOf.get(o)!];
  });

  // Stages and blocks in order of first appearance.
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
  if (scheme === 'nasnet') nameNasnetStages(stages);
  const stageOfBlock = new Map<string, string>();
  for (const s of stages) for (const b of s.blocks) stageOfBlock.set(b.name, s.name);
  assigned.forEach((p, i) => {
    if (p) places[i] = { ...places[i], block: p.block, stage: stageOfBlock.get(p.block) };
  });
  return { scheme, places, stages };
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
