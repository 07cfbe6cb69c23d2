// preprocessing.json, written next to every exported model: everything needed to feed the
// model as training did, here (predict), in TF.js and in Python. Version 2 records Keras's
// preprocess_input mode as its explicit affine map and the resize mode; version 1 (runs
// exported before) gave a value range and was always libvips center-crop, and is still read.
import {
  interpolationOf,
  transformForValueRange,
  PREPROCESSING_MODES,
  RESIZE_MODES,
  type PixelTransform,
  type PreprocessingMode,
  type PreprocessingSource,
  type ResizeInterpolation,
  type ResizeMode,
} from './preprocessing';

export const PREPROCESSING_FILE_FORMAT = 'transfer-lab-preprocessing';

/** preprocessing.json version 2 (what exports write). */
export interface PreprocessingFile {
  format: typeof PREPROCESSING_FILE_FORMAT;
  version: 2;
  /** [height, width] of the model's input. */
  inputSize: [number, number];
  channels: 3;
  /** Decoded as sRGB: EXIF orientation applied, embedded ICC profiles converted. */
  colorSpace: 'srgb';
  /** Keras's preprocess_input mode; `channelOrder`, `scale` and `offset` are its explicit form. */
  mode: PreprocessingMode;
  /** input[c] = pixel[order][c] * scale[c] + offset[c], pixel in 0..255, order RGB or reversed (BGR). */
  channelOrder: 'rgb' | 'bgr';
  scale: [number, number, number];
  offset: [number, number, number];
  /** Where the backbone's mode came from (catalog, experiment file, ...). */
  preprocessingFrom?: PreprocessingSource;
  /** How images were fitted to inputSize. */
  resize: ResizeMode;
  /** `bilinear`: tf.image.resize (half-pixel centres, no antialiasing, float32); `libvips-linear`: sharp's cover + linear kernel. */
  interpolation: ResizeInterpolation;
  /**
   * Who decoded JPEGs in training: `tensorflow` (TensorFlow's DecodeJpeg, fast IDCT, as
   * tf.io.decode_image) or `libvips` (accurate IDCT). Absent in files written before it was recorded.
   */
  jpegDecoder?: 'tensorflow' | 'libvips';
  /** For readers of version 1 (and older Transfer Lab): the same map as a range, when the mode is one (tf, zero-one, none). */
  valueRange?: [number, number];
  /** Set when the base is a graph model (which cannot merge with layers): model.json is then the head, fed by this graph model's output. */
  graphBase?: { path: string; outputNode: string };
}

/** preprocessing.json version 1 (runs exported before version 2). */
export interface PreprocessingFileV1 {
  format: typeof PREPROCESSING_FILE_FORMAT;
  version: 1;
  inputSize: [number, number];
  channels: 3;
  /** Pixels 0..255 map linearly onto this range. */
  valueRange: [number, number];
  resize: 'center-crop';
  colorSpace: 'srgb';
  graphBase?: { path: string; outputNode: string };
}

export function transformOf(file: PreprocessingFile): PixelTransform {
  return { mode: file.mode, channelOrder: file.channelOrder, scale: [...file.scale], offset: [...file.offset] };
}

/** What an export writes: the transform, the resize and the input size. */
export function preprocessingFile(
  t: PixelTransform,
  resize: ResizeMode,
  inputSize: [number, number],
  extra: { preprocessingFrom?: PreprocessingSource; graphBase?: PreprocessingFile['graphBase']; jpegDecoder?: PreprocessingFile['jpegDecoder'] } = {},
): PreprocessingFile {
  const range = valueRangeOf(t);
  return {
    format: PREPROCESSING_FILE_FORMAT,
    version: 2,
    inputSize: [inputSize[0], inputSize[1]],
    channels: 3,
    colorSpace: 'srgb',
    mode: t.mode,
    channelOrder: t.channelOrder,
    scale: [...t.scale],
    offset: [...t.offset],
    ...(extra.preprocessingFrom ? { preprocessingFrom: extra.preprocessingFrom } : {}),
    resize,
    interpolation: interpolationOf(resize),
    ...(extra.jpegDecoder ? { jpegDecoder: extra.jpegDecoder } : {}),
    ...(range ? { valueRange: range } : {}),
    ...(extra.graphBase ? { graphBase: extra.graphBase } : {}),
  };
}

/** The range [lo, hi] a transform maps 0..255 onto, when it is the same for every channel in RGB order. */
export function valueRangeOf(t: PixelTransform): [number, number] | undefined {
  if (t.channelOrder !== 'rgb' || !t.scale.every((s) => s === t.scale[0]) || !t.offset.every((o) => o === t.offset[0])) return undefined;
  return [t.offset[0], round9(t.offset[0] + 255 * t.scale[0])];
}

const round9 = (v: number) => Math.round(v * 1e9) / 1e9;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumbers = (v: unknown, n: number): v is number[] => Array.isArray(v) && v.length === n && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * Parsed JSON of a preprocessing.json (version 1 or 2) -> version 2, or what is wrong.
 * Version 1 becomes the same affine map: its range, center-crop, libvips.
 */
export function readPreprocessingFile(json: unknown): { ok: true; value: PreprocessingFile; upgradedFrom?: 1 } | { ok: false; error: string } {
  if (!isObj(json) || json.format !== PREPROCESSING_FILE_FORMAT)
    return { ok: false, error: 'not a Transfer Lab preprocessing file (format is not "transfer-lab-preprocessing")' };
  if (!isNumbers(json.inputSize, 2) || !json.inputSize.every((d) => Number.isInteger(d) && d > 0))
    return { ok: false, error: 'inputSize must be [height, width]' };
  const inputSize: [number, number] = [json.inputSize[0], json.inputSize[1]];
  const graphBase =
    isObj(json.graphBase) && typeof json.graphBase.path === 'string' && typeof json.graphBase.outputNode === 'string'
      ? { path: json.graphBase.path, outputNode: json.graphBase.outputNode }
      : undefined;
  if (json.version === 1) {
    if (!isNumbers(json.valueRange, 2) || !(json.valueRange[0] < json.valueRange[1])) return { ok: false, error: 'valueRange must be [low, high]' };
    const t = transformForValueRange([json.valueRange[0], json.valueRange[1]]);
    // Version 1 always decoded with libvips cover (the only resize then).
    return { ok: true, value: { ...preprocessingFile(t, 'center-crop', inputSize, { graphBase }), preprocessingFrom: 'preprocessing.json' }, upgradedFrom: 1 };
  }
  if (json.version !== 2) return { ok: false, error: `version ${String(json.version)} is newer than this Transfer Lab reads (1 and 2); update Transfer Lab` };
  if (typeof json.mode !== 'string' || !(PREPROCESSING_MODES as readonly string[]).includes(json.mode))
    return { ok: false, error: `mode must be one of ${PREPROCESSING_MODES.join(', ')}` };
  if (json.channelOrder !== 'rgb' && json.channelOrder !== 'bgr') return { ok: false, error: 'channelOrder must be "rgb" or "bgr"' };
  if (!isNumbers(json.scale, 3) || !isNumbers(json.offset, 3)) return { ok: false, error: 'scale and offset must be three numbers each' };
  if (typeof json.resize !== 'string' || !(RESIZE_MODES as readonly string[]).includes(json.resize))
    return { ok: false, error: `resize must be one of ${RESIZE_MODES.join(', ')}` };
  const t: PixelTransform = {
    mode: json.mode as PreprocessingMode,
    channelOrder: json.channelOrder,
    scale: json.scale as [number, number, number],
    offset: json.offset as [number, number, number],
  };
  const from = typeof json.preprocessingFrom === 'string' ? (json.preprocessingFrom as PreprocessingSource) : undefined;
  const jpegDecoder = json.jpegDecoder === 'tensorflow' || json.jpegDecoder === 'libvips' ? json.jpegDecoder : undefined;
  return { ok: true, value: preprocessingFile(t, json.resize as ResizeMode, inputSize, { preprocessingFrom: from, graphBase, jpegDecoder }) };
}

/**
 * Python that gives the model the inputs Transfer Lab gave it (TensorFlow + Keras 3), for a
 * README: decode, resize as Keras's image_dataset_from_directory, then the affine map.
 */
export function pythonSnippet(p: PreprocessingFile): string {
  const [h, w] = p.inputSize;
  const resize: Record<ResizeMode, string> = {
    squash: `tf.image.resize(img, (${h}, ${w}))  # = image_dataset_from_directory(image_size=(${h}, ${w}))`,
    'crop-to-aspect-ratio': `keras.preprocessing.image.smart_resize(img, (${h}, ${w}))  # = image_dataset_from_directory(..., crop_to_aspect_ratio=True)`,
    'pad-to-aspect-ratio': `tf.image.resize_with_pad(img, ${h}, ${w})  # = image_dataset_from_directory(..., pad_to_aspect_ratio=True)`,
    'center-crop': `keras.preprocessing.image.smart_resize(img, (${h}, ${w}), interpolation="area")  # center-crop is libvips (cover + antialiased linear): close to this, not equal`,
  };
  const flip = p.channelOrder === 'bgr' ? '[..., ::-1]' : '';
  return [
    'import numpy as np, tensorflow as tf, keras',
    'b = tf.io.read_file(path)',
    ...(p.jpegDecoder === 'libvips' || p.resize === 'center-crop'
      ? [
          'img = tf.io.decode_jpeg(b, channels=3, dct_method="INTEGER_ACCURATE") if tf.io.is_jpeg(b) else tf.io.decode_image(b, channels=3, expand_animations=False)  # JPEGs were decoded by libvips: the accurate IDCT',
        ]
      : [
          'img = tf.io.decode_image(b, channels=3, expand_animations=False)  # as training (TensorFlow\'s decoder); JPEGs with EXIF rotation or a colour profile were decoded by libvips: decode_jpeg(dct_method="INTEGER_ACCURATE") after rotating',
        ]),
    `img = ${resize[p.resize]}`,
    `x = img${flip} * np.array(${JSON.stringify(p.scale)}, "float32") + np.array(${JSON.stringify(p.offset)}, "float32")  # preprocess_input mode "${p.mode}"`,
  ].join('\n');
}

/**
 * TF.js lines that turn `img` (a [H, W, 3] tensor, e.g. tf.browser.fromPixels) into the
 * model's input `x` (without the batch axis), as training did.
 */
export function tfjsSnippet(p: PreprocessingFile): string {
  const [h, w] = p.inputSize;
  // resizeBilinear(x, size, alignCorners=false, halfPixelCenters=true) is tf.image.resize.
  const bilinear = (what: string, size: string) => `tf.image.resizeBilinear(${what}, ${size}, false, true)`;
  const resize: Record<ResizeMode, string[]> = {
    squash: [`let x = ${bilinear('img', `[${h}, ${w}]`)}; // squash (Keras's default)`],
    'crop-to-aspect-ratio': [
      "// crop-to-aspect-ratio: the largest centred window of the input's shape, then bilinear",
      `const ch = Math.max(1, Math.min(H, Math.trunc((W * ${h}) / ${w}))), cw = Math.max(1, Math.min(W, Math.trunc((H * ${w}) / ${h})));`,
      `let x = ${bilinear('img.slice([Math.trunc((H - ch) / 2), Math.trunc((W - cw) / 2), 0], [ch, cw, 3])', `[${h}, ${w}]`)};`,
    ],
    'pad-to-aspect-ratio': [
      '// pad-to-aspect-ratio: bilinear to fit inside, then zeros around it',
      `const r = Math.max(W / ${w}, H / ${h}), rh = Math.max(1, Math.floor(H / r)), rw = Math.max(1, Math.floor(W / r));`,
      `const top = Math.max(0, Math.floor((${h} - H / r) / 2)), left = Math.max(0, Math.floor((${w} - W / r) / 2));`,
      `let x = ${bilinear('img', '[rh, rw]')}.pad([[top, ${h} - rh - top], [left, ${w} - rw - left], [0, 0]]);`,
    ],
    'center-crop': [
      '// center-crop was libvips (cover + antialiased linear); this is close, not equal',
      `const s = Math.max(${h} / H, ${w} / W), sh = Math.round(H * s), sw = Math.round(W * s);`,
      `let x = ${bilinear('img', '[sh, sw]')}.slice([Math.floor((sh - ${h}) / 2), Math.floor((sw - ${w}) / 2), 0], [${h}, ${w}, 3]);`,
    ],
  };
  return [
    'const [H, W] = img.shape;',
    ...resize[p.resize],
    ...(p.channelOrder === 'bgr' ? ['x = x.reverse(-1); // RGB -> BGR'] : []),
    `x = x.mul(${JSON.stringify(p.scale)}).add(${JSON.stringify(p.offset)}); // preprocess_input mode "${p.mode}"`,
  ].join('\n');
}
