// How pixels become a network's input: Keras's `preprocess_input` modes and
// `image_dataset_from_directory` resize modes, defined once for the engine, the UI, the
// experiment file and preprocessing.json. Every mode is a per-channel affine map after an
// optional RGB->BGR swap, so one formula (and one line of Python) reproduces it:
//   input[c] = pixel[order[c]] * scale[c] + offset[c]      (pixel in 0..255)

/**
 * - `tf`: [-1, 1] (MobileNet v1/v2, Inception, Xception, ResNet v2, NASNet).
 * - `torch`: [0, 1] then ImageNet mean/std per channel (DenseNet).
 * - `caffe`: RGB->BGR, ImageNet BGR means subtracted, no scaling (ResNet v1, VGG).
 * - `none`: 0..255 as floats; the model rescales itself (EfficientNet, ConvNeXt, MobileNet v3).
 * - `zero-one`: [0, 1] (Teachable Machine style models, our shipped fmnist-mini).
 */
export type PreprocessingMode = 'tf' | 'torch' | 'caffe' | 'none' | 'zero-one';
export const PREPROCESSING_MODES: readonly PreprocessingMode[] = ['tf', 'torch', 'caffe', 'none', 'zero-one'];

/**
 * How a decoded image becomes the input size; the first three are Keras 3's
 * `image_dataset_from_directory` (tf.image.resize bilinear: half-pixel centres, no
 * antialiasing, float32, never rounded):
 * - `squash`: bilinear to the input size, aspect ratio not kept (Keras's default).
 * - `crop-to-aspect-ratio`: the largest centred window of the input's aspect, then bilinear
 *   (Keras `crop_to_aspect_ratio=True`, i.e. `smart_resize`).
 * - `pad-to-aspect-ratio`: bilinear to fit inside the input size keeping the aspect, then
 *   zero padding around it (Keras `pad_to_aspect_ratio=True`, i.e. `tf.image.resize_with_pad`;
 *   padding is 0 in pixel space, so after `tf` preprocessing it is -1, as in Keras).
 * - `center-crop`: libvips cover + linear kernel (Transfer Lab's earlier default; fast
 *   shrink-on-load for big JPEGs, antialiased, 8-bit; not bit-equal to Keras).
 */
export type ResizeMode = 'squash' | 'crop-to-aspect-ratio' | 'pad-to-aspect-ratio' | 'center-crop';
export const RESIZE_MODES: readonly ResizeMode[] = ['squash', 'crop-to-aspect-ratio', 'pad-to-aspect-ratio', 'center-crop'];

/** Where a backbone's preprocessing came from (said in the run log and the UI when guessed). */
export type PreprocessingSource =
  'experiment file' | 'catalog' | 'model card' | 'preprocessing.json' | 'model.json metadata' | 'architecture (guessed)' | 'model layers' | 'assumed';

/** The explicit affine form of a mode: what preprocessing.json records. */
export interface PixelTransform {
  mode: PreprocessingMode;
  channelOrder: 'rgb' | 'bgr';
  scale: [number, number, number];
  offset: [number, number, number];
}

const IMAGENET_MEAN_RGB = [0.485, 0.456, 0.406];
const IMAGENET_STD_RGB = [0.229, 0.224, 0.225];
/** Keras's caffe means, in BGR order. */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

const triple = (f: (c: number) => number): [number, number, number] => [f(0), f(1), f(2)];

export function pixelTransform(mode: PreprocessingMode): PixelTransform {
  switch (mode) {
    case 'tf':
      return { mode, channelOrder: 'rgb', scale: triple(() => 1 / 127.5), offset: triple(() => -1) };
    case 'torch':
      return {
        mode,
        channelOrder: 'rgb',
        scale: triple((c) => 1 / (255 * IMAGENET_STD_RGB[c])),
        offset: triple((c) => -IMAGENET_MEAN_RGB[c] / IMAGENET_STD_RGB[c]),
      };
    case 'caffe':
      return { mode, channelOrder: 'bgr', scale: triple(() => 1), offset: triple((c) => -CAFFE_MEAN_BGR[c]) };
    case 'none':
      return { mode, channelOrder: 'rgb', scale: triple(() => 1), offset: triple(() => 0) };
    case 'zero-one':
      return { mode, channelOrder: 'rgb', scale: triple(() => 1 / 255), offset: triple(() => 0) };
  }
}

/** The mode whose linear map sends 0..255 onto [lo, hi] (older model cards and preprocessing.json v1 give a range). */
export function modeForValueRange(range: readonly [number, number]): PreprocessingMode | undefined {
  const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;
  if (near(range[0], -1) && near(range[1], 1)) return 'tf';
  if (near(range[0], 0) && near(range[1], 1)) return 'zero-one';
  if (near(range[0], 0) && near(range[1], 255)) return 'none';
  return undefined;
}

/**
 * A value range [lo, hi] (older model cards, preprocessing.json v1) as a transform: the
 * mode's own constants when the range is a mode's, else the exact linear map (labelled
 * `none`, the mode without a scale of its own: only scale and offset are applied).
 */
export function transformForValueRange(range: readonly [number, number]): PixelTransform {
  const mode = modeForValueRange(range);
  if (mode) return pixelTransform(mode);
  const k = (range[1] - range[0]) / 255;
  return { mode: 'none', channelOrder: 'rgb', scale: [k, k, k], offset: [range[0], range[0], range[0]] };
}

/** The interpolation a resize mode uses, in the words preprocessing.json records. */
export type ResizeInterpolation = 'bilinear' | 'libvips-linear';
export function interpolationOf(resize: ResizeMode): ResizeInterpolation {
  return resize === 'center-crop' ? 'libvips-linear' : 'bilinear';
}

/** Keras's own argument names for a resize mode (for logs, docs and the Python snippet). */
export function kerasResizeArguments(resize: ResizeMode): string | undefined {
  switch (resize) {
    case 'squash':
      return 'interpolation="bilinear"';
    case 'crop-to-aspect-ratio':
      return 'interpolation="bilinear", crop_to_aspect_ratio=True';
    case 'pad-to-aspect-ratio':
      return 'interpolation="bilinear", pad_to_aspect_ratio=True';
    case 'center-crop':
      return undefined;
  }
}

/** One line for a run log or a tooltip: `tf (x / 127.5 - 1, RGB)`. */
export function describePixelTransform(t: PixelTransform): string {
  const fmt = (v: number) => String(Math.round(v * 1e6) / 1e6);
  const same = t.scale.every((v) => v === t.scale[0]) && t.offset.every((v) => v === t.offset[0]);
  const formula = same
    ? `${t.scale[0] === 1 ? 'x' : `x * ${fmt(t.scale[0])}`}${t.offset[0] === 0 ? '' : t.offset[0] < 0 ? ` - ${fmt(-t.offset[0])}` : ` + ${fmt(t.offset[0])}`}`
    : `x * [${t.scale.map(fmt).join(', ')}] + [${t.offset.map(fmt).join(', ')}]`;
  return `${t.mode} (${formula}, ${t.channelOrder.toUpperCase()})`;
}

/**
 * Pixels (h*w*3, RGB, 0..255: bytes from libvips, or the unrounded floats of Keras's
 * bilinear resize) -> the network's input floats, as `pixelTransform` says.
 */
export function preprocessPixels(pixels: Uint8Array | Float32Array, t: PixelTransform, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(pixels.length);
  const [s0, s1, s2] = t.scale;
  const [o0, o1, o2] = t.offset;
  const bgr = t.channelOrder === 'bgr';
  for (let i = 0; i < pixels.length; i += 3) {
    const r = pixels[i];
    const g = pixels[i + 1];
    const b = pixels[i + 2];
    result[i] = (bgr ? b : r) * s0 + o0;
    result[i + 1] = g * s1 + o1;
    result[i + 2] = (bgr ? r : b) * s2 + o2;
  }
  return result;
}
