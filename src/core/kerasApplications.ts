// The Keras Applications entries of the backbone catalog, from the data file that
// scripts/keras-applications/make_catalog.py generates from Keras itself
// (kerasApplications.json: every value in it says where it came from). Pure data, no tfjs.
//
// Each entry is the keras.applications constructor with include_top=False, built as Keras
// builds it for weights="imagenet", at the family's native input size. Its topology ships
// (media/keras-applications/<id>.json.gz); its ImageNet weights are Keras's own .h5 file,
// fetched at run time from the URL Keras uses and checked against the hash Keras's source
// lists (engine/download/kerasWeights.ts).
import type { BackboneCatalogEntry, BackboneFamily, KerasWeightsFile } from './backboneCatalog';
import type { PreprocessingMode } from './preprocessing';
import data from './kerasApplications.json';

/** One record of kerasApplications.json. */
export interface KerasApplicationRecord {
  id: string;
  title: string;
  family: BackboneFamily;
  familyTitle: string;
  constructorName: string;
  kerasModule: string;
  inputSize: [number, number, number];
  inputSizeFrom: string;
  params: number;
  layers: number;
  featureShape: number[];
  defaultCut: string;
  weights: KerasWeightsFile;
  weightsFrom: { url: string; hash: string };
  weightArrays: number;
  weightedLayers: number;
  downloadMB: number;
  preprocessing: PreprocessingMode;
  preprocessingFrom: string;
  imagenetTop1: number;
  imagenetTop1From: string;
  trainedOn: 'imagenet-1k' | 'imagenet-21k+1k';
  topology: string;
  topologySha256: string;
  topologyBytes: number;
}

export interface KerasApplicationsData {
  schemaVersion: number;
  generator: { script: string; sha256: string };
  versions: { keras: string; tensorflow: string | null; python: string };
  entries: KerasApplicationRecord[];
}

export const KERAS_APPLICATIONS = data as unknown as KerasApplicationsData;

const TRAINED_ON: Record<KerasApplicationRecord['trainedOn'], string> = {
  'imagenet-1k': 'ImageNet (ILSVRC-2012, 1000 classes, 1.28M photos)',
  'imagenet-21k+1k': 'ImageNet-21k (14M photos), then fine-tuned on ImageNet (ILSVRC-2012, 1000 classes)',
};

const PIXELS: Record<PreprocessingMode, string> = {
  tf: 'pixels scaled to [-1, 1]',
  caffe: 'pixels as BGR minus the ImageNet mean',
  torch: 'pixels scaled to [0, 1], then normalised by the ImageNet mean and std',
  none: 'pixels 0..255 as they are: the model rescales them itself',
  'zero-one': 'pixels scaled to [0, 1]',
};

function notesFor(r: KerasApplicationRecord): string {
  const hash = r.weights.hash
    ? `checked against the ${r.weights.hashAlgorithm} Keras lists (${r.weightsFrom.hash})`
    : 'Keras lists no hash for this file: its sha256 is recorded the first time it is downloaded (trust on first use) and every later copy must match it';
  return (
    `keras.applications.${r.constructorName}(include_top=False) as Keras builds it for ImageNet weights; ` +
    `preprocess_input mode "${r.preprocessing}" (${PIXELS[r.preprocessing]}). ` +
    `Weights: Keras's ${r.weights.fileName} (${r.downloadMB} MB), ${hash}.`
  );
}

export function kerasApplicationEntry(r: KerasApplicationRecord): BackboneCatalogEntry {
  return {
    id: r.id,
    title: r.title,
    family: r.family,
    format: 'layers',
    source: { kind: 'keras-application', topology: r.topology, topologySha256: r.topologySha256, weights: r.weights, constructorName: r.constructorName },
    inputSize: r.inputSize,
    preprocessing: r.preprocessing,
    imagenetTop1: r.imagenetTop1,
    params: r.params,
    featureShape: r.featureShape,
    trainedOn: TRAINED_ON[r.trainedOn],
    defaultCut: r.defaultCut,
    fineTunable: true,
    downloadMB: r.downloadMB,
    license: 'Keras is Apache-2.0; the ImageNet weights are those Keras Applications publishes, under their authors\u2019 terms',
    notes: notesFor(r),
  };
}

export const KERAS_APPLICATION_ENTRIES: readonly BackboneCatalogEntry[] = KERAS_APPLICATIONS.entries.map(kerasApplicationEntry);

const records = new Map(KERAS_APPLICATIONS.entries.map((r) => [r.id, r]));

/** The generated record of a Keras Applications entry (sources of each value, layer counts). */
export function kerasApplicationRecord(id: string): KerasApplicationRecord | undefined {
  return records.get(id);
}
