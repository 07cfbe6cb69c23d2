// The experiment's backbone as a Keras job gets it. A Keras Applications catalog entry is its
// keras.applications class with weights='imagenet'; a shipped TF.js layers model (fmnist-mini)
// and a local model.json are copied beside train.py and rebuilt there in Keras; a local .keras
// or .h5 file is keras.models.load_model. The catalog's TF.js MobileNets come from
// tfhub/GCS URLs the job cannot assume: the error names the Keras Applications equivalent.
import * as path from 'node:path';
import type { ResolvedExperiment } from '../experiment';
import type { BackboneCatalogEntry } from '../backboneCatalog';
import type { ResolvedJobBackbone } from './jobFile';

/** Where a TF.js layers model is copied inside the job folder. */
export const JOB_BACKBONE_DIR = 'backbone';

/** What the CLI read about the backbone: its catalog entry and model card (bundled models), or nothing for a local file. */
export interface BackboneFacts {
  entry?: BackboneCatalogEntry;
  /** The bundled model's card (cutAt, inputSize). */
  card?: { cutAt?: unknown; inputSize?: unknown };
  /** Input size read from a local model.json's input layer. */
  localInputSize?: [number, number, number];
}

export type JobBackboneResult = { ok: true; value: ResolvedJobBackbone; copyFrom?: string } | { ok: false; field: string; message: string; hint: string };

const fail = (field: string, message: string, hint: string): JobBackboneResult => ({ ok: false, field, message, hint });

export function resolveJobBackbone(experiment: ResolvedExperiment, facts: BackboneFacts, installRoot: string): JobBackboneResult {
  const b = experiment.backbone;
  if ('url' in b) {
    return fail(
      'backbone.url',
      'a backbone from a URL cannot go into a Keras job as it is',
      'Download it, then name the .keras/.h5 file or model.json as backbone.path.',
    );
  }
  if ('catalog' in b) return catalogBackbone(experiment, facts, installRoot);
  const ext = path.extname(b.path).toLowerCase();
  const mode = b.preprocessing;
  if (!mode) {
    return fail(
      'backbone.preprocessing',
      'is needed for a local backbone in a Keras job',
      'Set it to the mode the backbone was trained with: "tf", "torch", "caffe", "zero-one" or "none".',
    );
  }
  const common = { mode, modeFrom: 'experiment file' as const, cutAt: b.cutAt ?? null, notes: [] };
  if (ext === '.keras' || ext === '.h5') return { ok: true, value: { ...common, backbone: { kind: 'keras-file', path: b.path }, inputSize: null } };
  if (path.basename(b.path) === 'model.json') {
    if (!facts.localInputSize)
      return fail('backbone.path', `${b.path}: no input shape in its input layer`, 'Pass a TF.js layers model (model.json with modelTopology).');
    return {
      ok: true,
      value: { ...common, backbone: { kind: 'tfjs-layers', dir: JOB_BACKBONE_DIR }, inputSize: facts.localInputSize },
      copyFrom: path.dirname(b.path),
    };
  }
  return fail('backbone.path', `${b.path}: a Keras job takes a .keras or .h5 file or a TF.js model.json`, 'Point backbone.path at one of those.');
}

function catalogBackbone(experiment: ResolvedExperiment, facts: BackboneFacts, installRoot: string): JobBackboneResult {
  const b = experiment.backbone as { catalog: string; cutAt?: string };
  const entry = facts.entry;
  if (!entry) return fail('backbone.catalog', `"${b.catalog}" is not in the catalog`, 'Run `transfer-lab catalog` for the ids.');
  const mode = experiment.backbone.preprocessing ?? entry.preprocessing;
  const modeFrom = experiment.backbone.preprocessing ? ('experiment file' as const) : ('catalog' as const);
  if (entry.source.kind === 'keras-application') {
    return {
      ok: true,
      value: {
        backbone: { kind: 'keras-application', constructor: entry.source.constructorName },
        inputSize: entry.inputSize,
        mode,
        modeFrom,
        cutAt: b.cutAt ?? entry.defaultCut,
        notes: [`backbone: keras.applications.${entry.source.constructorName}(include_top=False, weights='imagenet')`],
      },
    };
  }
  if (entry.source.kind === 'bundled') {
    const cardCut = typeof facts.card?.cutAt === 'string' ? facts.card.cutAt : undefined;
    return {
      ok: true,
      value: {
        backbone: { kind: 'tfjs-layers', dir: JOB_BACKBONE_DIR },
        inputSize: entry.inputSize,
        mode,
        modeFrom,
        cutAt: b.cutAt ?? cardCut ?? entry.defaultCut,
        notes: [`backbone: ${entry.id}, the TF.js layers model shipped with Transfer Lab, rebuilt in Keras by train.py from ${JOB_BACKBONE_DIR}/model.json`],
      },
      copyFrom: path.dirname(path.join(installRoot, entry.source.path)),
    };
  }
  const equivalent = { mobilenet_v1: 'mobilenet', mobilenet_v2: 'mobilenet_v2', mobilenet_v3: 'mobilenet_v3_large' }[entry.family as string] ?? 'mobilenet_v2';
  return fail(
    'backbone.catalog',
    `"${entry.id}" is a TF.js model downloaded from ${entry.source.modelJsonUrl}; a Keras job uses Keras Applications' own weights`,
    `Use the Keras Applications entry of the same net ("${equivalent}" for this family; \`transfer-lab catalog\` lists them) in the experiment, then export again.`,
  );
}
