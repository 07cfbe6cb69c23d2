// What a user probably meant: hints for unknown fields (Keras's and other tools' names for
// Transfer Lab's) and for preprocessing written as a range or a model family.
import { closest } from './didYouMean';
import { EXPERIMENT_FIELDS } from './experimentFields';
import { modeForValueRange, PREPROCESSING_MODES, RESIZE_MODES, type PreprocessingMode } from './preprocessing';

/** How a value looks in a message: `-3`, `the string "10"`, `null`, `a list`, `an object`. */
export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  return 'an object';
}

/** Which Keras `preprocess_input` mode each family uses (for hints and the schema's text). */
export const PREPROCESSING_FAMILIES: Readonly<Record<PreprocessingMode, string>> = {
  tf: 'MobileNet v1/v2, Inception v3, InceptionResNet v2, Xception, ResNet v2, NASNet: pixels to [-1, 1]',
  torch: 'DenseNet: [0, 1], then ImageNet mean/std per channel',
  caffe: 'ResNet v1 (ResNet50/101/152), VGG16/19: RGB to BGR, ImageNet means subtracted, no scaling',
  none: 'EfficientNet, EfficientNet v2, ConvNeXt, MobileNet v3, RegNet: 0..255 as is (the model rescales itself)',
  'zero-one': 'Teachable Machine style models and fmnist-mini: pixels to [0, 1]',
};

/** Family or architecture names users write instead of a mode -> the mode Keras uses for them. */
const FAMILY_MODES: readonly [RegExp, PreprocessingMode][] = [
  [/mobilenet_?v?3|efficientnet|convnext|regnet/i, 'none'],
  [/mobilenet|inception|xception|nasnet|resnet_?v2|resnet\d*v2/i, 'tf'],
  [/densenet/i, 'torch'],
  [/resnet|vgg/i, 'caffe'],
  [/^(raw|identity|0-255|0\.\.255)$/i, 'none'],
  [/^(0-1|0\.\.1|unit|\[0, ?1\])$/i, 'zero-one'],
  [/^(-1-1|-1\.\.1|\[-1, ?1\]|symmetric)$/i, 'tf'],
];

/** The mode a value users wrote means: a range [lo, hi], a family name, or a mode with a typo. */
export function suggestedPreprocessing(value: unknown): PreprocessingMode | undefined {
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number')) return modeForValueRange(value as [number, number]);
  if (typeof value !== 'string') return undefined;
  const typo = closest(value, PREPROCESSING_MODES);
  if (typo && value.length > 2) return typo as PreprocessingMode;
  return FAMILY_MODES.find(([re]) => re.test(value))?.[1];
}

export function preprocessingHintFor(value: unknown): string {
  const mode = suggestedPreprocessing(value);
  const shown = Array.isArray(value) ? `[${value.join(', ')}]` : typeof value === 'string' ? `"${value}"` : undefined;
  const modes =
    'Transfer Lab takes Keras\'s preprocess_input mode instead of a range: "tf" is [-1, 1], "zero-one" is [0, 1], "none" is 0..255, "torch" and "caffe" are ImageNet mean/std and BGR mean subtraction.';
  if (mode && shown) return `${shown} is "${mode}" (${PREPROCESSING_FAMILIES[mode]}). ${modes}`;
  return modes;
}

export function unknownFieldHint(key: string, at: string, allowed: readonly string[], value?: unknown): string {
  // Older files and other tools give a value range; Keras names the mode instead.
  if (/^(value_?range|input_?range|range|normali[sz]e|normali[sz]ation|scale|rescale|preprocess(_?input)?)$/i.test(key) && at !== 'data.augment') {
    return `${preprocessingHintFor(value)} Write it as "backbone": { ..., "preprocessing": "${suggestedPreprocessing(value) ?? 'tf'}" }.`;
  }
  // Keras's image_dataset_from_directory arguments.
  if (/^(crop_?to_?aspect_?ratio|pad_?to_?aspect_?ratio|interpolation)$/i.test(key)) {
    const mode = /crop/i.test(key) ? 'crop-to-aspect-ratio' : /pad/i.test(key) ? 'pad-to-aspect-ratio' : 'squash';
    return `Transfer Lab names Keras's resize as one mode: write "data": { ..., "resize": "${mode}" } (${RESIZE_MODES.join(', ')}; every Keras mode is bilinear).`;
  }
  const near = closest(key, allowed);
  if (near) return `Did you mean "${near}"?`;
  // A known field in the wrong object, e.g. "epochs" at the top level instead of in "train".
  for (const [owner, fields] of Object.entries(EXPERIMENT_FIELDS)) {
    if (owner !== at && fields.includes(key) && owner !== '') return `"${key}" belongs in ${owner}; move it there.`;
  }
  const where = at === '' ? 'at the top level' : `in ${at}`;
  return `Allowed ${where}: ${allowed.join(', ')}.`;
}
