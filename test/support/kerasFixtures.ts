// Real Keras fixtures made by Keras itself (scripts/keras-fixtures/make_fixtures.py, run by
// `node scripts/setup-keras-fixtures.mjs`): every Keras Applications family plus two
// user-style models, each as .keras, full-model .h5, .weights.h5, a Keras-2-style weights
// .h5 and TF.js layers model.json (from the .keras and from the .h5), with Keras's own
// outputs on fixed pixels and on image files resized as image_dataset_from_directory does.
// All paths in the manifest are relative to the folder (`root`); arrays are raw
// little-endian files described by RawArrayRef.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
// @ts-expect-error: plain ESM helper shared with the setup script (no types)
import { fixturesHash } from '../../scripts/keras-fixtures-hash.mjs';

/** Keras's preprocess_input formulas (see src/core/preprocessing.ts); `none`: the model rescales itself. */
export type KerasPreprocessMode = 'tf' | 'torch' | 'caffe' | 'none';
/** The resize modes of keras.utils.image_dataset_from_directory, named as src/core/preprocessing.ts names them. */
export type KerasResizeMode = 'squash' | 'crop-to-aspect-ratio' | 'pad-to-aspect-ratio';
/**
 * How close our outputs must be to Keras's (max |diff| over the output's scale). Keras's float32
 * kernels and TensorFlow.js's sum in different orders, and Keras disagrees with itself by as
 * much: the same saved model with oneDNN off vs on differs by 1.4e-5 (MobileNetV2), 3.8e-5
 * (ResNet50) and 7.8e-5 (InceptionV3) of the output scale, and model(x) vs model.predict(x) by
 * 3.0e-5 (ResNet50). So the bound is a little above Keras's own spread.
 */
export const KERAS_PIXEL_TOLERANCE = 2e-4;

export const KERAS_RESIZE_MODES: readonly KerasResizeMode[] = ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio'];

/** A raw array file: C order, little-endian. */
export interface RawArrayRef {
  file: string;
  shape: number[];
  dtype: 'float32' | 'uint8';
}

export interface KerasImageFile {
  /** Relative to the images folder, e.g. `all/a_landscape_120x80.jpg`. */
  path: string;
  width: number;
  height: number;
  /** PIL mode the file was written in: RGB, RGBA, L (grayscale) or P (palette). */
  colorMode: 'RGB' | 'RGBA' | 'L' | 'P';
  format: 'jpeg' | 'png';
  saveOptions: Record<string, unknown>;
}

export interface KerasResizeFixture {
  /** The arguments of image_dataset_from_directory (batch_size=None). */
  kerasCall: Record<string, unknown>;
  /** The files in the order Keras yielded them (relative to the images folder). */
  files: string[];
  /** The resized pixels, float32 0..255 [files, 96, 96, 3], before preprocess_input. */
  pixels: RawArrayRef;
}

export interface KerasModelFiles {
  /** `model.save('model.keras')`: zip of config.json, metadata.json, model.weights.h5. */
  keras: string;
  /** `model.save('model.h5')`: legacy HDF5 full model (model_config attribute + model_weights group). */
  h5: string;
  /** `model.save_weights('model.weights.h5')`: Keras 3 weights (layers/<name>/vars/<i>). */
  weightsH5: string;
  /** Keras-2-style weights only (layer_names / weight_names `<layer>/<var>:0`), as the ImageNet weight files. */
  keras2WeightsH5: string;
  /** TF.js layers model.json as tensorflowjs_converter 4.22 --input_format=keras_keras writes it. */
  tfjsFromKeras: string;
  /** TF.js layers model.json as tensorflowjs_converter 4.22 --input_format=keras writes it. */
  tfjsFromH5: string;
}

export interface KerasModelFixture {
  /** Snake case, e.g. `mobilenet_v2`, `inception_v3_head`, `mobilenet_v2_nested`. */
  id: string;
  /** The keras.applications constructor, e.g. `MobileNetV2`. */
  application: string;
  /** The keras.applications module whose preprocess_input applies, e.g. `mobilenet_v2`. */
  module: string;
  constructor: Record<string, unknown>;
  /** `application`: the bare base; `head`: flat Functional base + new head; `nested`: Sequential around the base. */
  variant: 'application' | 'head' | 'nested';
  structure?: string;
  /** For the user models: the layer a transfer-learning cut should keep (mixed10; the nested base's name). */
  expectedCut?: string;
  modelName: string;
  preprocess: KerasPreprocessMode;
  inputShape: number[];
  outputLayer: string;
  /** Without the batch dimension. */
  outputShape: number[];
  params: { total: number; trainable: number; nonTrainable: number };
  /** len(model.layers) (a nested model counts as one). */
  layers: number;
  /** Class names of all leaf layers and ops. */
  layerClasses: string[];
  /** Module-qualified classes from outside keras.layers, e.g. keras.src.applications.convnext.LayerScale, keras.src.ops.numpy.Add. */
  customLayerClasses: string[];
  /** False where Keras 3 itself cannot reload model.h5 (an op such as keras.src.ops.numpy.Add in the graph). */
  kerasReloadsH5: boolean;
  batchNormLayers: number;
  /** For the two user models: how they were compiled and trained (their files carry training_config and optimizer variables). */
  training: { optimizer: string; trainSteps: number; batchSize: number; frozen?: string } | null;
  /** Over the pixels outputs; betweenImagesStd: mean over output elements of the std across the 8 squashed files. */
  outputStats: { mean: number; std: number; min: number; max: number; betweenImagesStd: number };
  files: KerasModelFiles;
  /** Bytes per file (a TF.js entry: its folder, model.json and shards). */
  fileBytes: Record<keyof KerasModelFiles, number>;
  tfjsWeights: { fromKeras: number; fromH5: number };
  /** model.predict(preprocess_input(x)) for x = the pixels (`pixels`) and each resize mode's pixels. */
  outputs: Record<'pixels' | KerasResizeMode, RawArrayRef>;
  /** For the user models: the output of the expectedCut layer on preprocess_input(pixels). */
  cutOutputs?: { layer: string; outputShape: number[]; pixels: RawArrayRef };
  seconds: number;
}

export interface KerasFixturesManifest {
  schemaVersion: 1;
  generator: { script: string; hash: string };
  versions: { keras: string; tensorflow: string; numpy: string; h5py: string; pillow: string; python: string };
  backend: string;
  tfEnableOnednnOpts: string | null;
  seed: number;
  imageSize: [number, number];
  tfjsConverterEmulated: string;
  /** What each KerasModelFiles entry is, in words. */
  formats: Record<keyof KerasModelFiles, string>;
  /** uint8 [4, 96, 96, 3]: the images the `pixels` outputs are of. */
  pixels: RawArrayRef;
  /** preprocess_input(pixels) for each mode the families use. */
  preprocessedPixels: Partial<Record<KerasPreprocessMode, RawArrayRef>>;
  calibration: { images: number; method: string };
  images: { dir: string; files: KerasImageFile[] };
  resizeModes: Record<KerasResizeMode, KerasResizeFixture>;
  models: KerasModelFixture[];
  /** A 100 MB+ Keras 3 weights file (ResNet50 with its classifier) for benchmarking HDF5 readers. */
  bigWeights?: {
    file: string;
    bytes: number;
    application: string;
    constructor: Record<string, unknown>;
    params: KerasModelFixture['params'];
    format: string;
    arrays: number;
  };
  generationSeconds: number;
  totalBytes: number;
}

export type KerasFixtures = KerasFixturesManifest & {
  /** The folder holding manifest.json; manifest paths are relative to it. */
  root: string;
  /** True when the folder was made by another version of scripts/keras-fixtures/ than this checkout's. */
  stale: boolean;
};

const SETUP_HINT = 'run `node scripts/setup-keras-fixtures.mjs` (about 3 minutes, once per generator version)';

/** The parent of the <hash> folders (as scripts/setup-keras-fixtures.mjs chooses it). */
export function kerasFixturesDir(): string {
  if (process.env.TRANSFER_LAB_KERAS_FIXTURES_DIR) return path.resolve(process.env.TRANSFER_LAB_KERAS_FIXTURES_DIR);
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'transfer-lab', 'keras-fixtures');
}

function findGeneratorDir(): string | undefined {
  for (const start of [__dirname, process.cwd()]) {
    for (let d = start; ; d = path.dirname(d)) {
      const g = path.join(d, 'scripts', 'keras-fixtures');
      if (fs.existsSync(path.join(g, 'make_fixtures.py'))) return g;
      if (path.dirname(d) === d) break;
    }
  }
  return undefined;
}

/** The hash setup-keras-fixtures.mjs names the folder by (defined there, once). */
export function kerasFixturesHash(dir = findGeneratorDir()): string | undefined {
  return dir ? (fixturesHash(dir) as string) : undefined;
}

/**
 * The fixtures: TRANSFER_LAB_KERAS_FIXTURES (a folder with manifest.json) when set; else the
 * folder of this checkout's generator version; else the newest complete one (stale: true).
 * Throws, saying how to make them, when there is none.
 */
export function loadKerasFixtures(): KerasFixtures {
  const expected = kerasFixturesHash();
  let root: string | undefined;
  if (process.env.TRANSFER_LAB_KERAS_FIXTURES) {
    root = path.resolve(process.env.TRANSFER_LAB_KERAS_FIXTURES);
    if (!fs.existsSync(path.join(root, 'manifest.json'))) throw new Error(`TRANSFER_LAB_KERAS_FIXTURES=${root} has no manifest.json: ${SETUP_HINT}`);
  } else {
    const parent = kerasFixturesDir();
    const complete = fs.existsSync(parent)
      ? fs
          .readdirSync(parent, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.') && fs.existsSync(path.join(parent, e.name, 'manifest.json')))
          .map((e) => ({ dir: path.join(parent, e.name), name: e.name, mtime: fs.statSync(path.join(parent, e.name, 'manifest.json')).mtimeMs }))
          .sort((a, b) => b.mtime - a.mtime)
      : [];
    root = (complete.find((c) => c.name === expected) ?? complete[0])?.dir;
    if (!root) throw new Error(`No Keras fixtures in ${parent}: ${SETUP_HINT}`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8')) as KerasFixturesManifest;
  if (manifest.schemaVersion !== 1)
    throw new Error(`${root}/manifest.json has schemaVersion ${String(manifest.schemaVersion)}, this loader reads 1: ${SETUP_HINT}`);
  return { ...manifest, root, stale: expected !== undefined && manifest.generator.hash !== expected };
}

/** One model's fixture by id; throws listing the ids when there is none. */
export function kerasModelFixture(fx: KerasFixturesManifest, id: string): KerasModelFixture {
  const m = fx.models.find((x) => x.id === id);
  if (!m) throw new Error(`no Keras fixture '${id}' (have: ${fx.models.map((x) => x.id).join(', ')})`);
  return m;
}

/** Absolute path of a manifest-relative path. */
export function fixturePath(fx: { root: string }, rel: string): string {
  return path.join(fx.root, ...rel.split('/'));
}

function readRawBytes(fx: { root: string }, ref: RawArrayRef, bytesPerElement: number): Buffer {
  const buf = fs.readFileSync(fixturePath(fx, ref.file));
  const n = ref.shape.reduce((a, b) => a * b, 1);
  if (buf.length !== n * bytesPerElement)
    throw new Error(`${ref.file}: ${buf.length} bytes, expected ${n * bytesPerElement} for ${ref.dtype} [${ref.shape.join(', ')}]`);
  return buf;
}

/** A float32 raw file as a Float32Array (little-endian on disk, as on every platform we run on). */
export function readFloat32(fx: { root: string }, ref: RawArrayRef): Float32Array {
  if (ref.dtype !== 'float32') throw new Error(`${ref.file} is ${ref.dtype}, not float32`);
  const buf = readRawBytes(fx, ref, 4);
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf); // copy: Buffer views need not be 4-byte aligned
  return out;
}

/** A uint8 raw file as a Uint8Array. */
export function readUint8(fx: { root: string }, ref: RawArrayRef): Uint8Array {
  if (ref.dtype !== 'uint8') throw new Error(`${ref.file} is ${ref.dtype}, not uint8`);
  return new Uint8Array(readRawBytes(fx, ref, 1));
}

/** Largest |a - b| over two arrays of the same length, relative to max |b| (0 when b is all zeros). */
export function maxRelativeDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}
