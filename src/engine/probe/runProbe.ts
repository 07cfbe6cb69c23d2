// The layer probe of one backbone on an experiment's dataset: load the backbone, find its
// blocks (core/probePoints.ts, the blocks Show Layers shows), one pass of the frozen base
// over the train and val images (probeFeatures.ts), then per block a ridge probe's val
// accuracy and LogME (core/linearProbe.ts, core/logme.ts), the recommendation
// (core/probeAdvice.ts), and probe.json (core/probeFile.ts). Used by the CLI and the trainer.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfTypes from '@tensorflow/tfjs';
import type { BackboneSpec } from '../../core/experiment';
import { indexDataset } from '../../core/datasetIndex';
import { linearProbe } from '../../core/linearProbe';
import { featureSpectrum } from '../../core/featureSpectrum';
import { logme } from '../../core/logme';
import { adviseFromProbe } from '../../core/probeAdvice';
import { probeTargets, type ProbeTarget } from '../../core/probePoints';
import { PROBE_FORMAT, probeBackboneLabel, probeFileName, type ProbeBlock, type ProbeFile } from '../../core/probeFile';
import { loadBackbone, type LoadedBackbone } from '../backboneLoader';
import { summarizeLayers } from '../modelSummary';
import type { FeatureTable } from '../featureTable';
import type { FeaturizeItem } from '../featurize';
import { InputError, loadExperiment } from '../run/experimentInput';
import { tf } from '../tf';
import { pooledFeatures } from './probeFeatures';

export interface ProbeOptions {
  experimentFile: string;
  /** Probe this backbone instead of the experiment's (CLI --backbones). */
  backbone?: BackboneSpec;
  /** Where probe.json goes; null: not written. */
  probesDir: string | null;
  cacheDir: string;
  installRoot: string;
  backend: string;
  /** At most this many training images per class (the first ones of the index). */
  maxPerClass?: number;
  onProgress?(message: string, done?: number, total?: number): void;
  shouldStop?(): boolean;
}

export type ProbeOutcome = { status: 'done'; probe: ProbeFile; file?: string } | { status: 'cancelled' };

const describeSpec = probeBackboneLabel;

export async function runProbe(opts: ProbeOptions): Promise<ProbeOutcome> {
  const started = Date.now();
  const { experiment } = loadExperiment(opts.experimentFile);
  const indexed = indexDataset(experiment.data.dir, { split: experiment.data.split, seed: experiment.data.seed });
  if (!indexed.ok) throw new InputError(opts.experimentFile, indexed.errors);
  const dataset = indexed.value;
  const items = probeItems(dataset.items, dataset.classes.length, opts.maxPerClass);
  if (items.train.length === 0)
    throw new InputError(opts.experimentFile, [
      { path: 'data.dir', message: 'the dataset has no training images to probe with', hint: 'Add images to the class folders.' },
    ]);
  // The probe covers the whole base up to the backbone's usual cut, whatever the file cuts at.
  const { cutAt: _cut, ...spec } = opts.backbone ?? experiment.backbone;
  opts.onProgress?.(`Loading ${describeSpec(spec)}`);
  const backbone = await loadBackbone(spec, { installRoot: opts.installRoot, cacheDir: opts.cacheDir, baseDir: path.dirname(opts.experimentFile) });
  try {
    const loadMs = Date.now() - started;
    const targets = targetsOf(backbone);
    const t1 = Date.now();
    const pooled = await pooledFeatures(backbone, targets, items, {
      resize: experiment.data.resize,
      seed: experiment.data.seed,
      shouldStop: opts.shouldStop,
      onProgress: (split, done, total) => opts.onProgress?.(`Running the frozen base on ${split} images: ${done}/${total}`, done, total),
    });
    if (pooled.cancelled) return { status: 'cancelled' };
    const featurizeMs = Date.now() - t1;
    const t2 = Date.now();
    const blocks = targets.map((target, b) => {
      opts.onProgress?.(`Probing ${target.block} (${b + 1} of ${targets.length})`, b, targets.length);
      return probeBlock(target, b, pooled.tables, dataset.classes.length);
    });
    const probeMs = Date.now() - t2;
    const trainCount = pooled.tables.train.count;
    const imagesPerClass = trainCount / dataset.classes.length;
    const best = blocks.reduce((a, x) => (x.logme > a.logme ? x : a), blocks[0]);
    const probe: ProbeFile = {
      format: PROBE_FORMAT,
      experiment: experiment.name,
      experimentFile: opts.experimentFile,
      backbone: describeSpec(spec),
      cutAt: backbone.cutAt,
      createdAt: new Date().toISOString(),
      backend: opts.backend,
      dataset: {
        root: dataset.root,
        classes: dataset.classes,
        train: trainCount,
        val: pooled.tables.val.count,
        imagesPerClass,
        ...(opts.maxPerClass !== undefined ? { maxPerClass: opts.maxPerClass } : {}),
      },
      blocks,
      score: { logme: best.logme, block: best.block },
      advice: adviseFromProbe({
        blocks,
        imagesPerClass,
        classes: dataset.classes.length,
        valCount: pooled.tables.val.count,
        backbone: describeSpec(spec),
        fineTunable: backbone.kind === 'layers',
      }),
      timings: { loadMs, featurizeMs, probeMs, totalMs: Date.now() - started },
      skipped: pooled.skipped.length + dataset.skipped.length,
    };
    return { status: 'done', probe, file: opts.probesDir ? writeProbeFile(opts.probesDir, probe) : undefined };
  } finally {
    backbone.model.dispose();
  }
}

/** Train (at most `maxPerClass` per class, the index's first) and val items. */
function probeItems(
  all: readonly { path: string; label: number; split: string }[],
  classes: number,
  maxPerClass?: number,
): Record<'train' | 'val', FeaturizeItem[]> {
  const taken = new Array<number>(classes).fill(0);
  const train: FeaturizeItem[] = [];
  for (const i of all) {
    if (i.split !== 'train' || (maxPerClass !== undefined && taken[i.label] >= maxPerClass)) continue;
    taken[i.label]++;
    train.push({ path: i.path, label: i.label });
  }
  return { train, val: all.filter((i) => i.split === 'val').map((i) => ({ path: i.path, label: i.label })) };
}

/** The blocks of a layers model; a graph model has one point, its cut node. */
function targetsOf(backbone: LoadedBackbone): ProbeTarget[] {
  if (backbone.kind === 'layers') {
    const targets = probeTargets(summarizeLayers(backbone.model, { cutAt: backbone.cutAt }), backbone.cutAt);
    if (targets.length > 0) return targets;
  }
  const [h, w] = backbone.inputShape;
  const shape = tf().tidy(() => {
    const zeros = tf().zeros([1, h, w, 3]) as tfTypes.Tensor4D;
    const out =
      backbone.kind === 'graph' ? (backbone.model.execute(zeros, backbone.cutAt) as tfTypes.Tensor) : (backbone.model.predict(zeros) as tfTypes.Tensor);
    return out.shape.slice(1) as number[];
  });
  return [{ block: backbone.cutAt, layer: backbone.cutAt, firstLayer: backbone.cutAt, shape }];
}

const float64Of = (table: FeatureTable, b: number) => Float64Array.from(table.data[0][b]);

function probeBlock(target: ProbeTarget, b: number, tables: Record<'train' | 'val', FeatureTable>, classes: number): ProbeBlock {
  const t0 = Date.now();
  const d = tables.train.shapes[b][0];
  const train = { features: float64Of(tables.train, b), labels: tables.train.labels };
  const val = tables.val.count > 0 ? { features: float64Of(tables.val, b), labels: tables.val.labels } : null;
  const probe = linearProbe(train, val, d, classes);
  const score = logme(train.features, tables.train.count, d, train.labels, classes, featureSpectrum(train.features, tables.train.count, d));
  return {
    block: target.block,
    layer: target.layer,
    firstLayer: target.firstLayer,
    shape: target.shape,
    features: d,
    accuracy: probe.accuracy,
    accuracyOn: probe.accuracyOn,
    trainAccuracy: probe.trainAccuracy,
    logme: score.logme,
    lambda: probe.lambda,
    ms: Date.now() - t0,
  };
}

/** Writes `<probesDir>/<experiment>-<backbone>.json` atomically; returns its path. */
export function writeProbeFile(probesDir: string, probe: ProbeFile): string {
  fs.mkdirSync(probesDir, { recursive: true });
  const file = path.join(probesDir, probeFileName(probe.experiment, probe.backbone));
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(probe, null, 2)}\n`);
  fs.renameSync(tmp, file);
  return file;
}
