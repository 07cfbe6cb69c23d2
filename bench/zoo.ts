// The zoo rows of `npm run bench` (issue 11): ResNet50, EfficientNetB0, InceptionV3 and
// ConvNeXtTiny at their native input size, frozen forward and fine-tune step, against Keras
// on the same machine in the same run. Driven by bench/suite.ts (`--only zoo`, `--families`).
//
// The model: Keras builds the family (include_top=False, weights=None; random weights time
// the same as ImageNet's) and saves it once as a .keras file in the bench cache
// (keras_bench.py zoo-save). Both sides time that same file: Keras after load_model,
// Transfer Lab after its own loader (loadBackbone({ path })), see bench/zooWorker.ts.
//
// What is compared, batch 32 (8 with --quick), one process per measurement, warm-up excluded:
//   forward  the frozen base, input -> its last feature map. Ours: the inference plan the
//            featurizer runs (compileInferencePlan of splitModel's frozen prefix). Keras:
//            model(x, training=False) inside a tf.function.
//   step     one fine-tune step with the last stage unfrozen (FAMILIES[].stage), the same layers
//            trainable on both sides (the trainable parameter counts are checked equal), BatchNorm
//            in inference mode (its gamma and beta train in the unfrozen stage, its statistics
//            do not: the Keras guide's base(x, training=False)); head GlobalAveragePooling ->
//            Dropout(0.2) -> Dense(5, softmax); Adam; the frozen part runs on every step on
//            both sides. Ours: the frozen prefix through its inference plan outside the tape,
//            then trainLoop's step (compileTrainingPlan of the trainable base, head, variableGrads,
//            Adam). Keras: the guide's recipe (base.trainable = True, the layers before the
//            unfreeze point trainable = False) compiled, train_on_batch.
//            A Transfer Lab run does less per batch (the frozen part's outputs come from its
//            feature cache): that rate is printed beside the table as "cached prefix", not compared.
//   memory   peak RSS (VmHWM) of the fine-tune process of each side (and, in the JSON, of the
//            forward process).
// Targets (issue 11): forward >= 1.0x Keras, step >= 0.8x Keras, peak RSS <= 1.5x Keras.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Unfreeze } from './zooWorker';

export interface ZooFamily {
  id: string;
  /** tf.keras.applications constructor. */
  application: string;
  size: number;
  unfreeze: Unfreeze;
  /** What trains in the step, in words. */
  stage: string;
  /** Printed under the table: what the row's ratios measure besides our code. */
  remark?: string;
}

export const ZOO_FAMILIES: ZooFamily[] = [
  { id: 'resnet50', application: 'ResNet50', size: 224, unfreeze: { from: 'conv5_block1_1_conv' }, stage: 'conv5 (3 blocks, the 7x7 stage)' },
  {
    id: 'efficientnet_b0',
    application: 'EfficientNetB0',
    size: 224,
    unfreeze: { from: 'block6a_expand_conv' },
    stage: 'blocks 6a-7a + top conv (the 7x7 stage)',
  },
  {
    id: 'inception_v3',
    application: 'InceptionV3',
    size: 299,
    unfreeze: { after: 'mixed8' },
    stage: 'mixed9 + mixed10 (the 8x8 blocks; the Keras guide\'s "top 2 inception blocks")',
  },
  {
    id: 'convnext_tiny',
    application: 'ConvNeXtTiny',
    size: 224,
    unfreeze: { from: 'convnext_tiny_stage_3_block_0_depthwise_conv' },
    stage: 'stage 3 (3 blocks, the 7x7 stage) + final LayerNorm',
    remark:
      "Keras builds ConvNeXt's depthwise convolutions as Conv2D(groups=channels), which TensorFlow's CPU kernels run far slower than DepthwiseConv2D " +
      '(about 100x for one 7x7 layer at 56x56x96 on the development VM); our loader rewrites them into DepthwiseConv2D, so much of this ratio is that rewrite.',
  },
];

export const ZOO_TARGETS = { forward: 1.0, step: 0.8, memory: 1.5 };

export type JobResult = { ok: true; value: Record<string, unknown>; wallMs: number } | { ok: false; error: string };

export interface ZooContext {
  /** Runs a job of bench/zooWorker.ts in its own process. */
  tfjs(job: object): JobResult;
  /** Runs a job of bench/keras_bench.py in its own process; undefined without Keras. */
  keras?: (job: object) => JobResult;
  /** Keras's version, for the cache folder of the saved models. */
  kerasVersion?: string;
  cacheRoot: string;
  reps: number;
  quick: boolean;
  log(message: string): void;
}

interface Sampled {
  samples: number[];
  median?: number;
}
interface Side {
  forward: Sampled;
  step: Sampled;
  forwardRss: Sampled;
  stepRss: Sampled;
  errors: string[];
}
export interface ZooRow {
  family: string;
  application: string;
  input: number;
  batch: number;
  stage: string;
  ours: Side & {
    cachedPrefixStep: Sampled;
    frozenPath?: string;
    stepFrozenPath?: string;
    basePath?: string;
    firstTrainable?: string;
    trainableParams?: number;
    loadMs?: number;
  };
  keras: Side & { firstTrainable?: string; trainableParams?: number };
  ratios: { forward?: number; step?: number; memory?: number };
  met: { forward?: boolean; step?: boolean; memory?: boolean };
  notes: string[];
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : undefined);
const emptySide = (): Side => ({ forward: { samples: [] }, step: { samples: [] }, forwardRss: { samples: [] }, stepRss: { samples: [] }, errors: [] });

/** The families named (ids or Keras names, case-insensitive), or all of them. */
export function selectFamilies(names: string[] | undefined): { families: ZooFamily[]; unknown: string[] } {
  if (!names || names.length === 0) return { families: ZOO_FAMILIES, unknown: [] };
  const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const unknown = names.filter((n) => !ZOO_FAMILIES.some((f) => key(f.id) === key(n) || key(f.application) === key(n)));
  return { families: ZOO_FAMILIES.filter((f) => names.some((n) => key(f.id) === key(n) || key(f.application) === key(n))), unknown };
}

/** The .keras file of a family: in the cache, or saved now by Keras. */
function modelFile(ctx: ZooContext, f: ZooFamily): { file?: string; error?: string } {
  const folder = path.join(ctx.cacheRoot, 'zoo', `keras-${ctx.kerasVersion ?? 'unknown'}`);
  const file = path.join(folder, `${f.application}_${f.size}.keras`);
  if (fs.existsSync(file)) return { file };
  if (!ctx.keras) {
    // Without Keras, any saved copy will do (ours is still timed; there is nothing to compare).
    const any = fs.existsSync(path.join(ctx.cacheRoot, 'zoo'))
      ? fs
          .readdirSync(path.join(ctx.cacheRoot, 'zoo'))
          .map((d) => path.join(ctx.cacheRoot, 'zoo', d, path.basename(file)))
          .find((p) => fs.existsSync(p))
      : undefined;
    return any ? { file: any } : { error: 'no saved model and no Keras to save one' };
  }
  ctx.log(`zoo: Keras saves ${f.application} (${f.size}x${f.size}, include_top=False, weights=None) to ${file}`);
  const r = ctx.keras({ kind: 'zoo-save', application: f.application, size: f.size, file });
  return r.ok ? { file } : { error: r.error };
}

type Job = { side: 'ours' | 'keras'; what: 'forward' | 'step'; run: () => JobResult | undefined };

const push = (s: Sampled, v: unknown) => typeof v === 'number' && Number.isFinite(v) && s.samples.push(v);

function emptyRow(f: ZooFamily, batch: number): ZooRow {
  return {
    family: f.id,
    application: f.application,
    input: f.size,
    batch,
    stage: f.stage,
    ours: { ...emptySide(), cachedPrefixStep: { samples: [] } },
    keras: emptySide(),
    ratios: {},
    met: {},
    notes: [],
  };
}

/** One repetition's jobs for a family: forward then step, each on both sides; who goes first alternates. */
function jobsOf(ctx: ZooContext, f: ZooFamily, base: object, rep: number, iters: { forward: number; step: number }): Job[] {
  const jobs: Job[] = [];
  for (const what of ['forward', 'step'] as const) {
    const job =
      what === 'forward' ? { ...base, kind: 'zoo-forward', iters: iters.forward } : { ...base, kind: 'zoo-finetune', iters: iters.step, unfreeze: f.unfreeze };
    const pair = [
      { side: 'ours' as const, what, run: () => ctx.tfjs(job) },
      { side: 'keras' as const, what, run: () => ctx.keras?.(job) },
    ];
    jobs.push(...(rep % 2 === 0 ? pair : pair.reverse()));
  }
  return jobs;
}

/** Adds a successful job's figures (and, for ours, how it ran) to the row. */
function record(row: ZooRow, j: Job, v: Record<string, unknown>): void {
  const side = row[j.side];
  if (j.what === 'forward') {
    push(side.forward, v.imgPerSec);
    push(side.forwardRss, v.peakRssBytes);
  } else {
    push(side.step, v.imgPerSec);
    push(side.stepRss, v.peakRssBytes);
  }
  if (j.side === 'ours') {
    if (j.what === 'forward') row.ours.frozenPath = v.frozenPath as string;
    else {
      push(row.ours.cachedPrefixStep, v.cachedPrefixImgPerSec);
      Object.assign(row.ours, {
        basePath: v.basePath,
        firstTrainable: v.firstTrainable,
        trainableParams: v.trainableParams,
        stepFrozenPath: v.frozenPath,
      });
    }
    row.ours.loadMs = v.loadMs as number;
  } else if (j.what === 'step') Object.assign(row.keras, { firstTrainable: v.firstTrainable, trainableParams: v.trainableParams });
}

/** Medians, ratios against Keras, targets met. */
function summarize(row: ZooRow): void {
  for (const side of [row.ours, row.keras]) for (const s of [side.forward, side.step, side.forwardRss, side.stepRss]) s.median = median(s.samples);
  row.ours.cachedPrefixStep.median = median(row.ours.cachedPrefixStep.samples);
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  row.ratios = {
    forward: ratio(row.ours.forward.median, row.keras.forward.median),
    step: ratio(row.ours.step.median, row.keras.step.median),
    memory: ratio(row.ours.stepRss.median, row.keras.stepRss.median),
  };
  row.met = {
    forward: row.ratios.forward === undefined ? undefined : row.ratios.forward >= ZOO_TARGETS.forward,
    step: row.ratios.step === undefined ? undefined : row.ratios.step >= ZOO_TARGETS.step,
    memory: row.ratios.memory === undefined ? undefined : row.ratios.memory <= ZOO_TARGETS.memory,
  };
  if (row.ours.trainableParams !== undefined && row.keras.trainableParams !== undefined && row.ours.trainableParams !== row.keras.trainableParams) {
    row.notes.push(
      `the two sides train different parameters (ours ${row.ours.trainableParams}, Keras ${row.keras.trainableParams}): the step rows do not compare the same work`,
    );
  }
}

export function runZoo(ctx: ZooContext, families: ZooFamily[]): ZooRow[] {
  const batch = ctx.quick ? 8 : 32;
  const warmup = ctx.quick ? 1 : 2;
  const iters = ctx.quick ? { forward: 2, step: 2 } : { forward: 4, step: 3 };
  const rows: ZooRow[] = [];
  const files = new Map<string, string>();
  for (const f of families) {
    const row = emptyRow(f, batch);
    rows.push(row);
    const saved = modelFile(ctx, f);
    if (saved.file) files.set(f.id, saved.file);
    else row.notes.push(`skipped: ${saved.error}`);
  }
  // Interleaved: each repetition runs every family on both sides.
  for (let rep = 0; rep < ctx.reps; rep++) {
    for (const row of rows) {
      const f = families.find((x) => x.id === row.family)!;
      const file = files.get(f.id);
      if (!file) continue;
      for (const j of jobsOf(ctx, f, { file, size: f.size, batch, warmup }, rep, iters)) {
        if (j.side === 'keras' && !ctx.keras) continue;
        ctx.log(
          `zoo ${f.application} ${f.size}/${batch}: ${j.what === 'forward' ? 'frozen forward' : 'fine-tune step'}, ${j.side === 'ours' ? 'Transfer Lab' : 'Keras'} (rep ${rep + 1}/${ctx.reps})`,
        );
        const r = j.run();
        if (!r) continue;
        if (!r.ok) {
          row[j.side].errors.push(`${j.what}: ${r.error}`);
          ctx.log(`  failed: ${r.error}`);
          continue;
        }
        record(row, j, r.value);
      }
    }
  }
  for (const row of rows) summarize(row);
  return rows;
}

/** The zoo table, and the lines under it that say how each side ran. */
export function formatZooTable(rows: ZooRow[]): string {
  const ips = (v?: number) => (v === undefined ? '-' : v.toFixed(1));
  const mb = (v?: number) => (v === undefined ? '-' : `${(v / 2 ** 20).toFixed(0)} MB`);
  const x = (v?: number) => (v === undefined ? '-' : `${v.toFixed(2)}x`);
  const yes = (v?: boolean) => (v === undefined ? '-' : v ? 'yes' : 'NO');
  const header = [
    'family',
    'input',
    'fwd ours',
    'fwd Keras',
    'fwd ratio',
    'step ours',
    'step Keras',
    'step ratio',
    'RSS ours',
    'RSS Keras',
    'RSS ratio',
    'fwd>=1.0',
    'step>=0.8',
    'RSS<=1.5',
  ];
  const table = rows.map((r) => [
    r.application,
    `${r.input}/${r.batch}`,
    ips(r.ours.forward.median),
    ips(r.keras.forward.median),
    x(r.ratios.forward),
    ips(r.ours.step.median),
    ips(r.keras.step.median),
    x(r.ratios.step),
    mb(r.ours.stepRss.median),
    mb(r.keras.stepRss.median),
    x(r.ratios.memory),
    yes(r.met.forward),
    yes(r.met.step),
    yes(r.met.memory),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const lines = [
    header.map((h, i) => h.padEnd(widths[i])).join(' | '),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...table.map((row) => row.map((c, i) => c.padEnd(widths[i])).join(' | ')),
  ];
  lines.push(
    '',
    'img/s; input = size/batch. fwd: frozen base, our inference plan vs Keras model(x, training=False) in a tf.function.',
    'step: fine-tune step, last stage unfrozen, BatchNorm in inference mode, frozen part run every step on both sides (ours: plan outside the tape + training plan; Keras: compiled train_on_batch).',
    "RSS: peak RSS of each side's fine-tune process; ratio = ours / Keras (lower is better; the other ratios: higher is better).",
  );
  for (const r of rows) {
    lines.push(
      `${r.application}: trains ${r.stage}, from '${r.ours.firstTrainable ?? r.keras.firstTrainable ?? '?'}' (${r.ours.trainableParams ?? r.keras.trainableParams ?? '?'} trainable parameters${r.ours.trainableParams !== undefined && r.ours.trainableParams === r.keras.trainableParams ? ', equal on both sides' : ''})`,
    );
    if (r.ours.frozenPath) lines.push(`  forward, ours: ${r.ours.frozenPath}`);
    if (r.ours.basePath)
      lines.push(
        `  step, ours: ${r.ours.basePath}; with the frozen part's outputs cached (what a Transfer Lab run does per batch): ${ips(r.ours.cachedPrefixStep.median)} img/s`,
      );
    if (r.ours.forwardRss.median !== undefined || r.keras.forwardRss.median !== undefined)
      lines.push(`  forward process peak RSS: ours ${mb(r.ours.forwardRss.median)}, Keras ${mb(r.keras.forwardRss.median)}`);
    for (const e of r.ours.errors) lines.push(`  FAILED (ours) ${e}`);
    for (const e of r.keras.errors) lines.push(`  FAILED (Keras) ${e}`);
    const remark = ZOO_FAMILIES.find((f) => f.id === r.family)?.remark;
    if (remark) lines.push(`  note: ${remark}`);
    for (const n of r.notes) lines.push(`  note: ${n}`);
  }
  return lines.join('\n');
}
