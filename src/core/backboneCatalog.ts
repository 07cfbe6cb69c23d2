// The backbone catalog: pretrained networks a user can pick by id in an experiment file
// (`"backbone": { "catalog": "mobilenet_v2_1.00_224" }`). Pure data, no tfjs, so the
// extension's wizard and the CLI can list it without loading TensorFlow.
//
// Where the URLs come from (checked against public code, see each family's comment):
// - MobileNet v1: the TF.js layers models that @tensorflow-models/mobilenet v1 and Teachable
//   Machine load, `tfjs-models/tfjs/mobilenet_v1_<alpha>_<size>/model.json`, alpha written
//   '0.25' | '0.50' | '0.75' | '1.0' (googlecreativelab/teachablemachine-community,
//   libraries/image/src/custom-mobilenet.ts: `alpha.toFixed(2)`, then '1.00' -> '1.0').
// - MobileNet v2 no-top: Teachable Machine's converted Keras application weights,
//   `teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_<alpha>_224_no_top`,
//   alpha written with two decimals ('0.35', '0.50', '0.75', '1.00'), cut `out_relu` (same file).
// - MobileNet v3 feature vectors: TF Hub's `tfhub.dev/google/tfjs-model/imagenet/
//   mobilenet_v3_<size>_100_224/feature_vector/5/default/1`, now served by Kaggle as
//   `www.kaggle.com/models/google/mobilenet-v3/TfJs/<size>-100-224-feature-vector/1`. Both are
//   loaded the way tfjs's `loadGraphModel(url, { fromTFHub: true })` does it
//   (tfjs-converter graph_model.ts `getTFHubUrl`): `<url>/model.json?tfjs-format=file`, with the
//   same `?tfjs-format=file` query appended to every weight file (tfjs-core io/http.ts).
// - Keras Applications (ResNet, EfficientNet, ConvNeXt, … 40 constructors, include_top=False):
//   generated from Keras by scripts/keras-applications/make_catalog.py into
//   core/kerasApplications.json (the weight URL, file name and hash are those of Keras's own
//   get_file call; each record says which constant of which keras.applications module).

import type { PreprocessingMode } from './preprocessing';
import { KERAS_APPLICATION_ENTRIES } from './kerasApplications';
import { editDistance } from './didYouMean';

export type BackboneFormat = 'layers' | 'graph';

export type BackboneFamily =
  | 'mobilenet_v1'
  | 'mobilenet_v2'
  | 'mobilenet_v3'
  | 'fmnist-mini'
  // Keras Applications families (one per keras.applications module).
  | 'resnet'
  | 'resnet_v2'
  | 'vgg'
  | 'inception_v3'
  | 'inception_resnet_v2'
  | 'xception'
  | 'densenet'
  | 'efficientnet'
  | 'efficientnet_v2'
  | 'nasnet'
  | 'convnext';

/** Keras's own weight file for a Keras Applications entry (from keras/src/applications/<module>.py). */
export interface KerasWeightsFile {
  /** The URL keras.applications downloads (`BASE_WEIGHTS_PATH + file_name`). */
  url: string;
  /** Keras's cache name (`~/.keras/models/<fileName>`), also how a mirror names it. */
  fileName: string;
  /** The hash Keras's source lists for the no-top file, or null where Keras lists none (MobileNets). */
  hash: string | null;
  /** As Keras's get_file decides: 64 hex digits are sha256, otherwise md5. */
  hashAlgorithm: 'sha256' | 'md5' | null;
}

export type BackboneSource =
  /** Downloaded (and cached) from this model.json URL. */
  | {
      kind: 'url';
      modelJsonUrl: string;
      /** A page that describes the model. */ homepage?: string;
      /** Other URLs that name the same files. */ aliases?: string[];
    }
  /** Ships with Transfer Lab: a path relative to the install root. */
  | { kind: 'bundled'; path: string; /** Model card next to it (what it was trained on, how well, cutAt). */ card: string }
  /**
   * A Keras Application: the topology ships (generated from Keras with include_top=False by
   * scripts/keras-applications), the ImageNet weights are Keras's own .h5 file, fetched at run
   * time, checked against Keras's hash and cached content-addressed.
   */
  | {
      kind: 'keras-application';
      /** Topology, relative to the install root. */
      topology: string;
      /** sha256 of the shipped topology file, checked when it is read (a mixed install is caught). */
      topologySha256: string;
      weights: KerasWeightsFile;
      /** keras.applications constructor, e.g. 'EfficientNetB0'. */
      constructorName: string;
    };

export interface BackboneCatalogEntry {
  id: string;
  title: string;
  family: BackboneFamily;
  format: BackboneFormat;
  source: BackboneSource;
  /** [height, width, channels] the network expects. */
  inputSize: [number, number, number];
  /** How pixels are fed (core/preprocessing.ts): Keras's preprocess_input mode for the family. */
  preprocessing: PreprocessingMode;
  /** ImageNet top-1 accuracy (%) of the full classifier, as its authors / keras.io report it; null when not applicable. */
  imagenetTop1: number | null;
  /** Parameters in the file as shipped (approximate: rounded, from the architecture); null when only the model itself can say. */
  params: number | null;
  /** Parameters up to the default cut, when that differs from `params` (approximate). */
  paramsToCut?: number;
  /** Output shape at the default cut (without batch), approximate for the wizard's display. */
  featureShape: number[];
  trainedOn: string;
  /** Layer (layers models) where the head attaches by default; for graph models: null (their output). */
  defaultCut: string | null;
  /** Layers models can be fine-tuned; graph models only work as frozen feature extractors. */
  fineTunable: boolean;
  /** Approximate download size in MB (float32 weights + model.json). */
  downloadMB: number;
  license: string;
  notes?: string;
}

const IMAGENET = 'ImageNet (ILSVRC-2012, 1000 classes, 1.28M photos)';

// --- MobileNet v1 (TF.js layers models, classifier included) -------------------------------

const V1_ALPHAS = ['0.25', '0.50', '0.75', '1.0'] as const;
const V1_SIZES = [128, 160, 192, 224] as const;
/** Whole file (with the 1000-class 1x1-conv classifier) and up to conv_pw_13_relu, in parameters. */
const V1_PARAMS: Record<(typeof V1_ALPHAS)[number], { total: number; base: number; channels: number }> = {
  '0.25': { total: 470_000, base: 220_000, channels: 256 },
  '0.50': { total: 1_330_000, base: 830_000, channels: 512 },
  '0.75': { total: 2_590_000, base: 1_830_000, channels: 768 },
  '1.0': { total: 4_250_000, base: 3_230_000, channels: 1024 },
};

/** ImageNet top-1 (%) per alpha and size, from TF-Slim's mobilenet_v1 table (the checkpoints these were converted from). */
const V1_TOP1: Record<(typeof V1_ALPHAS)[number], Record<(typeof V1_SIZES)[number], number>> = {
  '0.25': { 128: 41.5, 160: 45.5, 192: 47.7, 224: 49.8 },
  '0.50': { 128: 56.3, 160: 59.1, 192: 61.7, 224: 63.3 },
  '0.75': { 128: 62.1, 160: 65.3, 192: 67.2, 224: 68.4 },
  '1.0': { 128: 65.2, 160: 68.0, 192: 70.0, 224: 70.9 },
};

const mobilenetV1: BackboneCatalogEntry[] = V1_ALPHAS.flatMap((alpha) =>
  V1_SIZES.map((size): BackboneCatalogEntry => {
    const p = V1_PARAMS[alpha];
    return {
      id: `mobilenet_v1_${alpha}_${size}`,
      title: `MobileNet v1 ${alpha} at ${size}x${size}`,
      family: 'mobilenet_v1',
      format: 'layers',
      source: {
        kind: 'url',
        modelJsonUrl: `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${alpha}_${size}/model.json`,
        homepage: 'https://github.com/tensorflow/tfjs-models/tree/master/mobilenet',
      },
      inputSize: [size, size, 3],
      preprocessing: 'tf',
      imagenetTop1: V1_TOP1[alpha][size],
      params: p.total,
      paramsToCut: p.base,
      featureShape: [size / 32, size / 32, p.channels],
      trainedOn: IMAGENET,
      defaultCut: 'conv_pw_13_relu',
      fineTunable: true,
      downloadMB: Math.round((p.total * 4) / 1e5) / 10,
      license: 'Apache-2.0 (TensorFlow models)',
      notes: 'Width multiplier (alpha) trades accuracy for speed; the classifier after conv_pw_13_relu is dropped by the default cut.',
    };
  }),
);

// --- MobileNet v2 without top (Teachable Machine's converted Keras applications) -----------

const V2_ALPHAS = ['0.35', '0.50', '0.75', '1.00'] as const;
const V2_PARAMS: Record<(typeof V2_ALPHAS)[number], number> = {
  '0.35': 410_000,
  '0.50': 706_000,
  '0.75': 1_382_000,
  '1.00': 2_258_000,
};

/** ImageNet top-1 (%) at 224, from TF-Slim's mobilenet_v2 table. */
const V2_TOP1: Record<(typeof V2_ALPHAS)[number], number> = { '0.35': 60.3, '0.50': 65.4, '0.75': 69.8, '1.00': 71.8 };

const mobilenetV2: BackboneCatalogEntry[] = V2_ALPHAS.map((alpha): BackboneCatalogEntry => ({
  id: `mobilenet_v2_${alpha}_224`,
  title: `MobileNet v2 ${alpha} at 224x224 (no top)`,
  family: 'mobilenet_v2',
  format: 'layers',
  source: {
    kind: 'url',
    modelJsonUrl: `https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_${alpha}_224_no_top/model.json`,
    homepage: 'https://github.com/googlecreativelab/teachablemachine-community',
  },
  inputSize: [224, 224, 3],
  preprocessing: 'tf',
  imagenetTop1: V2_TOP1[alpha],
  params: V2_PARAMS[alpha],
  featureShape: [7, 7, 1280],
  trainedOn: IMAGENET,
  defaultCut: 'out_relu',
  fineTunable: true,
  downloadMB: Math.round((V2_PARAMS[alpha] * 4) / 1e5) / 10,
  license: 'Apache-2.0 (Keras applications weights, converted by Teachable Machine)',
  notes: 'Keras MobileNetV2 with include_top=False; block_N_* layer names as in Keras, so fine-tuning from e.g. block_13_expand works.',
}));

// --- MobileNet v3 feature vectors (graph models from TF Hub / Kaggle) ----------------------

function tfHubGraph(size: 'small' | 'large', params: number, features: number, top1: number): BackboneCatalogEntry {
  const kaggle = `https://www.kaggle.com/models/google/mobilenet-v3/TfJs/${size}-100-224-feature-vector/1`;
  const tfhub = `https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v3_${size}_100_224/feature_vector/5/default/1`;
  return {
    id: `mobilenet_v3_${size}_100_224_feature_vector`,
    title: `MobileNet v3 ${size} 1.0 at 224x224, feature vector (graph model)`,
    family: 'mobilenet_v3',
    format: 'graph',
    source: {
      kind: 'url',
      modelJsonUrl: `${kaggle}/model.json?tfjs-format=file`,
      homepage: `https://www.kaggle.com/models/google/mobilenet-v3/tfJs/${size}-100-224-feature-vector`,
      aliases: [tfhub, `${tfhub}/model.json?tfjs-format=file`],
    },
    inputSize: [224, 224, 3],
    preprocessing: 'zero-one',
    imagenetTop1: top1,
    params,
    featureShape: [features],
    trainedOn: IMAGENET,
    defaultCut: null,
    fineTunable: false,
    downloadMB: Math.round((params * 4) / 1e5) / 10,
    license: 'Apache-2.0 (TF Hub / Kaggle Models)',
    notes: `A frozen TensorFlow graph: feature extraction only (no layers to unfreeze or cut). Outputs a ${features}-vector; ImageNet top-1 of the full classifier about ${top1}%. TF Hub convention: inputs in [0, 1].`,
  };
}

const mobilenetV3 = [tfHubGraph('small', 1_530_000, 1024, 67.5), tfHubGraph('large', 4_230_000, 1280, 75.2)];

// --- Shipped with the repo -----------------------------------------------------------------

const fmnistMini: BackboneCatalogEntry = {
  id: 'fmnist-mini',
  title: 'Fashion-MNIST mini CNN (ships with Transfer Lab, offline)',
  family: 'fmnist-mini',
  format: 'layers',
  source: { kind: 'bundled', path: 'media/backbones/fmnist-mini/model.json', card: 'media/backbones/fmnist-mini/card.json' },
  inputSize: [32, 32, 3],
  preprocessing: 'zero-one',
  imagenetTop1: null,
  params: null, // the model itself says when loaded (`transfer-lab inspect fmnist-mini`)
  featureShape: [],
  trainedOn: 'Five Fashion-MNIST classes (see the model card in media/backbones/fmnist-mini/card.json)',
  // The card's `cutAt` wins when present (backboneLoader reads it); this is the fallback.
  defaultCut: 'features',
  fineTunable: true,
  downloadMB: 0,
  license: 'MIT (trained by scripts in this repository on Fashion-MNIST, MIT-licensed data)',
  notes: 'A small pretrained network so the demo and the tests run without a network connection.',
};

// --- Keras Applications (generated: core/kerasApplications.ts) ------------------------------

export const BACKBONE_CATALOG: readonly BackboneCatalogEntry[] = [fmnistMini, ...mobilenetV1, ...mobilenetV2, ...mobilenetV3, ...KERAS_APPLICATION_ENTRIES];

const byId = new Map(BACKBONE_CATALOG.map((e) => [e.id, e]));

export function findCatalogEntry(id: string): BackboneCatalogEntry | undefined {
  return byId.get(id);
}

export function catalogIds(): string[] {
  return BACKBONE_CATALOG.map((e) => e.id);
}

/**
 * Up to three catalog ids close to `id`, for "did you mean" hints: those sharing a prefix of 4+
 * characters with it or containing it (or contained in it), nearest first by edit distance
 * (so 'mobilenet_v2_1.0_224' suggests 'mobilenet_v2_1.00_224' before the Keras 'mobilenet_v2').
 */
export function suggestCatalogIds(id: string): string[] {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const want = norm(id);
  return catalogIds()
    .map((c) => {
      const n = norm(c);
      let common = 0;
      while (common < Math.min(n.length, want.length) && n[common] === want[common]) common++;
      return { c, common, related: common >= 4 || n.includes(want) || want.includes(n), distance: editDistance(n, want) };
    })
    .filter((x) => x.related)
    .sort((a, b) => a.distance - b.distance || b.common - a.common)
    .slice(0, 3)
    .map((x) => x.c);
}

/** The catalog entry whose download URL (or an alias) is `url`, if any. */
export function findCatalogEntryByUrl(url: string): BackboneCatalogEntry | undefined {
  const strip = (u: string) => u.replace(/\/+$/, '');
  return BACKBONE_CATALOG.find((e) => e.source.kind === 'url' && [e.source.modelJsonUrl, ...(e.source.aliases ?? [])].some((u) => strip(u) === strip(url)));
}
