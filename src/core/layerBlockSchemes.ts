// The naming schemes of the Keras Applications families: which family a model's layer
// names come from, and the stage and block each named layer of that family is in. Each
// family names its layers after its blocks, one scheme per family
// (keras/src/applications/<module>.py):
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
// core/layerBlocks.ts places the other layers (automatic names, rewrite helpers) around these.

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

export type StageKind = 'stem' | 'stage' | 'reduction' | 'top';

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

/** A named layer's place in its family's scheme. */
export interface Named {
  stage: string;
  block: string;
  kind?: StageKind;
  /** Schemes where blocks end in a named layer: the automatic names after this one stay in its block. */
  opens?: boolean;
}

export const STEM: Named = { stage: 'stem', block: 'stem', kind: 'stem' };
export const TOP: Named = { stage: 'top', block: 'top', kind: 'top' };

/** NASNet's normal cells, until nameNasnetStages (core/layerBlocks.ts) names the stages they form. */
export const NASNET_NORMAL = '\u0000normal';

/** Schemes whose blocks end in a named layer: automatic names belong to the next named layer's block. */
export const NEXT_RULE: ReadonlySet<BlockScheme> = new Set(['inception_v3', 'inception_resnet_v2', 'nasnet']);

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

type Namer = (name: string) => Named | undefined;

/** Per scheme, the place of a named layer (undefined: an automatic name); given all the names, for schemes that size themselves from them. */
const NAMERS: Record<BlockScheme, (names: readonly string[]) => Namer> = {
  resnet: () => (n) => {
    if (/^(conv1|pool1)(_|$)/.test(n)) return STEM;
    const m = /^(conv\d)_block(\d+)_/.exec(n);
    if (m) return { stage: m[1], block: `${m[1]}_block${m[2]}` };
    if (/^post_(bn|relu)$/.test(n)) return TOP;
    return undefined;
  },
  densenet: () => (n) => {
    if (/^(conv1|pool1)(_|$)/.test(n)) return STEM;
    const m = /^(conv\d)_block(\d+)_/.exec(n);
    if (m) return { stage: m[1], block: `${m[1]}_block${m[2]}` };
    const t = /^pool(\d)_/.exec(n);
    if (t) return { stage: `conv${t[1]}`, block: `pool${t[1]}` };
    if (n === 'bn' || n === 'relu') return TOP;
    return undefined;
  },
  efficientnet: () => (n) => {
    if (/^stem_/.test(n)) return STEM;
    const m = /^block(\d+)([a-z]+)_/.exec(n);
    if (m) return { stage: `block${m[1]}`, block: `block${m[1]}${m[2]}` };
    if (/^top_/.test(n)) return TOP;
    return undefined;
  },
  mobilenet_v1: () => (n) => {
    if (/^conv1(_|$)/.test(n)) return STEM;
    const m = /^conv_(?:dw|pw|pad)_(\d+)(_|$)/.exec(n);
    if (m) return { stage: mobilenetStage(MOBILENET_STRIDES.v1, Number(m[1])), block: `conv_dw_${m[1]} + conv_pw_${m[1]}` };
    return undefined;
  },
  mobilenet_v2: () => (n) => {
    if (/^(Conv1|bn_Conv1|Conv1_relu|Conv1_pad)$/.test(n)) return STEM;
    if (/^expanded_conv_/.test(n)) return { stage: mobilenetStage(MOBILENET_STRIDES.v2, 0), block: 'expanded_conv' };
    const m = /^block_(\d+)_/.exec(n);
    if (m) return { stage: mobilenetStage(MOBILENET_STRIDES.v2, Number(m[1])), block: `block_${m[1]}` };
    if (/^(Conv_1|Conv_1_bn|out_relu)$/.test(n)) return TOP;
    return undefined;
  },
  mobilenet_v3: (names) => {
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
  },
  inception_v3: () => (n) => {
    const m = /^mixed(\d+)$/.exec(n);
    if (!m) return undefined;
    const id = Number(m[1]);
    const [from, to, kind] = INCEPTION_V3_STAGES.find(([a, b]) => id >= a && id <= b) ?? [id, id, 'stage' as StageKind];
    return { stage: from === to ? `mixed${from}` : `mixed${from}-mixed${to}`, block: n, kind };
  },
  inception_resnet_v2: () => (n) => {
    if (n === 'mixed_5b') return { stage: 'block35', block: n };
    if (n === 'mixed_6a' || n === 'mixed_7a') return { stage: n, block: n, kind: 'reduction' };
    const m = /^block(35|17|8)_(\d+)_(mixed|conv|ac)$/.exec(n);
    if (m) return { stage: `block${m[1]}`, block: `block${m[1]}_${m[2]}`, opens: m[3] !== 'ac' };
    if (/^conv_7b(_bn|_ac)?$/.test(n)) return { ...TOP, opens: true };
    return undefined;
  },
  xception: () => (n) => {
    const m = /^block(\d+)_/.exec(n);
    if (!m) return undefined;
    const id = Number(m[1]);
    return { stage: id <= 4 ? 'entry flow' : id <= 12 ? 'middle flow' : 'exit flow', block: `block${id}` };
  },
  nasnet: () => (n) => {
    if (/^stem_(conv1|bn1)$/.test(n)) return STEM;
    if (!/^(normal|reduction|adjust|separable_conv)_/.test(n)) return undefined;
    const m = /_(stem_\d+|reduce_\d+|\d+)$/.exec(n);
    if (!m) return undefined;
    const cell = m[1];
    if (cell.startsWith('stem_')) return { stage: 'stem', block: `reduction_cell_${cell}`, kind: 'stem' };
    if (cell.startsWith('reduce_')) return { stage: `reduction_cell_${cell}`, block: `reduction_cell_${cell}`, kind: 'reduction' };
    // Normal cells between two reductions form a stage; named once the cells are known (nameNasnetStages in core/layerBlocks.ts).
    return { stage: NASNET_NORMAL, block: `normal_cell_${cell}` };
  },
  vgg: () => (n) => {
    const m = /^block(\d+)_(conv\d+|pool)$/.exec(n);
    return m ? { stage: `block${m[1]}`, block: `block${m[1]}` } : undefined;
  },
  convnext: () => (n) => {
    const b = /^(.+)_stage_(\d+)_block_(\d+)_/.exec(n);
    if (b) return { stage: `${b[1]}_stage_${b[2]}`, block: `${b[1]}_stage_${b[2]}_block_${b[3]}` };
    const d = /^(.+)_downsampling_(?:block|layernorm|conv)_(\d+)$/.exec(n);
    if (d) return { stage: `${d[1]}_stage_${Number(d[2]) + 1}`, block: `${d[1]}_downsampling_block_${d[2]}` };
    if (/_(prestem_normalization|stem|stem_conv|stem_layernorm)$/.test(n)) return STEM;
    return undefined;
  },
};

export const namer = (scheme: BlockScheme, names: readonly string[]): Namer => NAMERS[scheme](names);
