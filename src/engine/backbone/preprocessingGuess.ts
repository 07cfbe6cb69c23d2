// Which Keras `preprocess_input` a user's model needs, when nothing says it: a model that
// rescales its own input (Rescaling/Normalization right after the input, as EfficientNet,
// ConvNeXt and MobileNet v3 do) takes 0..255; otherwise the Keras Applications family is
// recognised by the layer names Keras gives it (they survive a user's own head on top).
// A guess is always said in the run log and the UI; `backbone.preprocessing` overrides it.
import type { PreprocessingMode } from '../../core/preprocessing';

export interface LayerInfo {
  name: string;
  className: string;
}

export interface PreprocessingGuess {
  mode: PreprocessingMode;
  /** What was recognised, for the note ("ResNet50 (Keras Applications)", "its own Rescaling layer"). */
  because: string;
}

/** Keras Applications families by layer-name fingerprint: every pattern must match some layer. */
const FAMILIES: { family: string; mode: PreprocessingMode; patterns: RegExp[] }[] = [
  // Order matters: the more specific fingerprint first (ResNet v2 and DenseNet share ResNet's names).
  { family: 'ResNet v2', mode: 'tf', patterns: [/^conv2_block1_preact_bn$/, /^post_relu$|^post_bn$|_preact_relu$/] },
  { family: 'DenseNet', mode: 'torch', patterns: [/^conv2_block1_concat$/, /^pool2_conv$/] },
  { family: 'ResNet (v1)', mode: 'caffe', patterns: [/^conv1_conv$/, /^conv2_block1_(0|1)_conv$/, /^conv2_block1_out$/] },
  { family: 'VGG', mode: 'caffe', patterns: [/^block1_conv1$/, /^block5_conv3$/, /^block1_pool$/] },
  { family: 'Xception', mode: 'tf', patterns: [/^block1_conv1_bn$/, /^block2_sepconv1$/] },
  { family: 'InceptionResNetV2', mode: 'tf', patterns: [/^mixed_5b$/, /^block35_1/] },
  { family: 'InceptionV3', mode: 'tf', patterns: [/^mixed0$/, /^mixed10$|^mixed[5-9]$/] },
  { family: 'NASNet', mode: 'tf', patterns: [/^stem_conv1$/, /^(normal|reduction)_/] },
  { family: 'MobileNetV2', mode: 'tf', patterns: [/^Conv1$/, /^block_1_expand$/] },
  { family: 'MobileNet (v1)', mode: 'tf', patterns: [/^conv1$/, /^conv_dw_1$/, /^conv_pw_1$/] },
  { family: 'EfficientNet', mode: 'none', patterns: [/^stem_conv$/, /^block1a_/] },
  { family: 'MobileNetV3', mode: 'none', patterns: [/^expanded_conv(_\d+)?_/] },
  { family: 'ConvNeXt', mode: 'none', patterns: [/^convnext_\w+_stem/] },
];

/** Layers that mean "the model takes raw pixels" when they come straight after the input. */
const SELF_SCALING = new Set(['Rescaling', 'Normalization']);

export function guessPreprocessing(layers: LayerInfo[], firstAfterInput: LayerInfo[]): PreprocessingGuess | undefined {
  const scaling = firstAfterInput.find((l) => SELF_SCALING.has(l.className));
  if (scaling) return { mode: 'none', because: `its own input scaling layer '${scaling.name}' right after the input` };
  const names = layers.map((l) => l.name);
  for (const f of FAMILIES) {
    if (f.patterns.every((p) => names.some((n) => p.test(n)))) {
      // EfficientNet / MobileNet v3 / ConvNeXt built with include_preprocessing=False need [-1, 1]
      // (MobileNet v3) or ImageNet mean/std; without the layer we cannot be sure.
      if (f.mode === 'none') return { mode: f.family === 'MobileNetV3' ? 'tf' : 'torch', because: `${f.family} layer names without its input rescaling layer` };
      return { mode: f.mode, because: `${f.family} layer names (Keras Applications)` };
    }
  }
  return undefined;
}
