// transfer-lab export-script <experiment> [--out DIR] [--runs-dir DIR]: the experiment as a
// self-contained Keras 3 job folder (train.py, job.json, splits.json, requirements.txt,
// README.md, and the backbone when it is a TF.js model) for a GPU box or a cluster. The split
// is our own dataset index's, so the job trains on the same files as a run here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findCatalogEntry } from '../core/backboneCatalog';
import { indexDataset } from '../core/datasetIndex';
import { RUN_FILES } from '../core/runFiles';
import { DEFAULT_RUNS_FOLDER, slugify } from '../core/runStore';
import type { ResolvedExperiment } from '../core/experiment';
import { kerasJob, kerasSplits } from '../core/kerasScript/jobFile';
import { JOB_BACKBONE_DIR, resolveJobBackbone, type BackboneFacts } from '../core/kerasScript/jobBackbone';
import { jobReadme, jobRequirements } from '../core/kerasScript/jobReadme';
import { TRAIN_PY } from '../core/kerasScript/trainPy';
import { InputError, loadExperiment } from '../engine/run/experimentInput';
import type { ParsedArgs } from './args';
import { UsageError } from './args';
import { EXIT, type CliContext } from './context';

export interface ExportedJob {
  dir: string;
  files: string[];
  runsDir: string;
  counts: { train: number; val: number; test: number };
}

/** Writes the job folder; bad input throws InputError naming the experiment file and field. */
export function exportKerasJob(experimentFile: string, opts: { installRoot: string; out?: string; runsDir?: string }): ExportedJob {
  const file = path.resolve(experimentFile);
  const { experiment } = loadExperiment(file);
  const indexed = indexDataset(experiment.data.dir, { split: experiment.data.split, seed: experiment.data.seed });
  if (!indexed.ok) throw new InputError(file, indexed.errors);
  const resolved = resolveJobBackbone(experiment, backboneFacts(experiment, opts.installRoot), opts.installRoot);
  if (!resolved.ok) throw new InputError(file, [{ path: resolved.field, message: resolved.message, hint: resolved.hint }]);
  const slug = slugify(experiment.name);
  const runsDir = path.resolve(opts.runsDir ?? path.join(path.dirname(file), DEFAULT_RUNS_FOLDER));
  const dir = path.resolve(opts.out ?? path.join(path.dirname(file), `${slug}-keras-job`));
  const job = kerasJob(experiment, resolved.value, { runsDir, slug });
  const splits = kerasSplits(indexed.value);
  fs.mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    'train.py': TRAIN_PY,
    'job.json': `${JSON.stringify(job, null, 2)}\n`,
    'splits.json': `${JSON.stringify(splits, null, 1)}\n`,
    'requirements.txt': jobRequirements(),
    'README.md': jobReadme(job, splits),
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const written = Object.keys(files);
  if (resolved.copyFrom) written.push(...copyLayersModel(resolved.copyFrom, path.join(dir, JOB_BACKBONE_DIR)).map((f) => `${JOB_BACKBONE_DIR}/${f}`));
  const n = splits.splits;
  return { dir, files: written, runsDir, counts: { train: n.train.length, val: n.val.length, test: n.test.length } };
}

function backboneFacts(experiment: ResolvedExperiment, installRoot: string): BackboneFacts {
  const b = experiment.backbone;
  if ('catalog' in b) {
    const entry = findCatalogEntry(b.catalog);
    const card = entry?.source.kind === 'bundled' ? readJson(path.join(installRoot, entry.source.card)) : undefined;
    return { entry, card: card as BackboneFacts['card'] };
  }
  if ('path' in b && path.basename(b.path) === 'model.json') {
    const topology = (readJson(b.path) as { modelTopology?: { model_config?: unknown; config?: { layers?: { config?: { batch_input_shape?: unknown } }[] } } })
      ?.modelTopology;
    const config = ((topology?.model_config as typeof topology) ?? topology)?.config;
    const shape = config?.layers?.[0]?.config?.batch_input_shape;
    if (Array.isArray(shape) && shape.length === 4 && shape.slice(1).every((d) => Number.isInteger(d))) {
      return { localInputSize: shape.slice(1) as [number, number, number] };
    }
  }
  return {};
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** model.json and the weight files its manifest names (nothing else in the folder). */
function copyLayersModel(from: string, to: string): string[] {
  const manifest = (readJson(path.join(from, 'model.json')) as { weightsManifest?: { paths: string[] }[] } | undefined)?.weightsManifest ?? [];
  const names = ['model.json', ...manifest.flatMap((g) => g.paths)];
  fs.mkdirSync(to, { recursive: true });
  for (const name of names) fs.copyFileSync(path.join(from, name), path.join(to, name));
  return names;
}

export async function exportScriptCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [experimentFile, extra] = args.positionals;
  if (!experimentFile || extra !== undefined)
    throw new UsageError('export-script: give one experiment file (export-script <experiment.tlexp.json> [--out DIR])');
  const job = exportKerasJob(experimentFile, { installRoot: ctx.installRoot, out: args.options.get('out'), runsDir: args.options.get('runs-dir') });
  if (ctx.json) {
    ctx.out(JSON.stringify(job));
  } else {
    ctx.out(`Keras job written to ${job.dir}: ${job.files.join(', ')}`);
    ctx.out(`  ${job.counts.train} train / ${job.counts.val} val / ${job.counts.test} test images, the same files as a run here`);
    ctx.out(`  run: cd ${JSON.stringify(job.dir)} && pip install -r requirements.txt && python train.py`);
    ctx.out(`  its run folder goes to ${job.runsDir} (${RUN_FILES.record}, ${RUN_FILES.metrics}, ${RUN_FILES.eval}, ${RUN_FILES.model}/model.keras)`);
  }
  return EXIT.ok;
}
