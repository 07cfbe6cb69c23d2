// Keras-application architectures built in TensorFlow.js with random weights: MobileNet v1
// and v2 exactly as tf.keras.applications builds them without their top (same layer names,
// paddings, BatchNorm epsilon), so benchmarks compare like with like against Keras and the
// fast inference path is checked on the real topologies. Random weights, because no
// ImageNet weights can be downloaded here; BatchNorm statistics are random too, so that
// folding them into the convolutions is really exercised.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';

type LayersModel = tfTypes.LayersModel;
type ST = tfTypes.SymbolicTensor;

export interface ReferenceNetOptions {
  /** Square input size (Keras default 224). */
  inputSize?: number;
  /** Width multiplier (Keras `alpha`, default 1.0). */
  alpha?: number;
  /** Seed for the random weights and statistics. */
  seed?: number;
}

const BN_EPSILON = 1e-3;
const BN_MOMENTUM = 0.999;

/** Keras's `_make_divisible`: channel counts rounded to multiples of 8, never below 90%. */
function makeDivisible(v: number, divisor = 8): number {
  let next = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (next < 0.9 * v) next += divisor;
  return next;
}

/** Keras's `correct_pad` for a stride-2 3x3 convolution: [[top, bottom], [left, right]]. */
function correctPad(size: number): [[number, number], [number, number]] {
  const adjust = 1 - (size % 2);
  return [
    [1 - adjust, 1],
    [1 - adjust, 1],
  ];
}

function bn(x: ST, name: string): ST {
  return tf().layers.batchNormalization({ epsilon: BN_EPSILON, momentum: BN_MOMENTUM, name }).apply(x) as ST;
}

function relu6(x: ST, name: string): ST {
  return tf().layers.reLU({ maxValue: 6, name }).apply(x) as ST;
}

/** The input and the stride-2 3x3 convolution, BatchNorm and ReLU6 both MobileNets start with, under Keras's names for each. */
function mobileNetStem(size: number, filters: number, [conv, norm, relu]: [string, string, string]): { input: ST; x: ST } {
  const t = tf();
  const input = t.input({ shape: [size, size, 3], name: 'input_1' });
  const x = t.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: conv }).apply(input) as ST;
  return { input, x: relu6(bn(x, norm), relu) };
}

/** tf.keras.applications.MobileNetV2(include_top=False, weights=None). */
export function buildMobileNetV2(opts: ReferenceNetOptions = {}): LayersModel {
  const t = tf();
  const size = opts.inputSize ?? 224;
  const alpha = opts.alpha ?? 1;
  const { input, x: stem } = mobileNetStem(size, makeDivisible(32 * alpha), ['Conv1', 'bn_Conv1', 'Conv1_relu']);
  let x = stem;
  const blocks: [number, number, number][] = [
    // [filters, stride, expansion]
    [16, 1, 1],
    [24, 2, 6],
    [24, 1, 6],
    [32, 2, 6],
    [32, 1, 6],
    [32, 1, 6],
    [64, 2, 6],
    [64, 1, 6],
    [64, 1, 6],
    [64, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [160, 2, 6],
    [160, 1, 6],
    [160, 1, 6],
    [320, 1, 6],
  ];
  blocks.forEach(([filters, stride, expansion], id) => {
    const inputs = x;
    const inChannels = inputs.shape[3] as number;
    const pointwise = makeDivisible(filters * alpha);
    const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    if (id > 0) {
      x = t.layers.conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` }).apply(x) as ST;
      x = relu6(bn(x, `${prefix}expand_BN`), `${prefix}expand_relu`);
    }
    if (stride === 2) x = t.layers.zeroPadding2d({ padding: correctPad(x.shape[1] as number), name: `${prefix}pad` }).apply(x) as ST;
    x = t.layers
      .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false, name: `${prefix}depthwise` })
      .apply(x) as ST;
    x = relu6(bn(x, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
    x = t.layers.conv2d({ filters: pointwise, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` }).apply(x) as ST;
    x = bn(x, `${prefix}project_BN`);
    if (inChannels === pointwise && stride === 1) x = t.layers.add({ name: `${prefix}add` }).apply([inputs, x]) as ST;
  });
  const lastChannels = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = t.layers.conv2d({ filters: lastChannels, kernelSize: 1, useBias: false, name: 'Conv_1' }).apply(x) as ST;
  x = relu6(bn(x, 'Conv_1_bn'), 'out_relu');
  const model = t.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${size}` });
  randomizeBatchNorm(model, opts.seed ?? 1);
  return model;
}

/** tf.keras.applications.MobileNet(include_top=False, weights=None). */
export function buildMobileNetV1(opts: ReferenceNetOptions = {}): LayersModel {
  const t = tf();
  const size = opts.inputSize ?? 224;
  const alpha = opts.alpha ?? 1;
  const { input, x: stem } = mobileNetStem(size, Math.floor(32 * alpha), ['conv1', 'conv1_bn', 'conv1_relu']);
  let x = stem;
  const blocks: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  blocks.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride === 2)
      x = t.layers
        .zeroPadding2d({
          padding: [
            [0, 1],
            [0, 1],
          ],
          name: `conv_pad_${id}`,
        })
        .apply(x) as ST;
    x = t.layers
      .depthwiseConv2d({ kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false, name: `conv_dw_${id}` })
      .apply(x) as ST;
    x = relu6(bn(x, `conv_dw_${id}_bn`), `conv_dw_${id}_relu`);
    x = t.layers
      .conv2d({ filters: Math.floor(filters * alpha), kernelSize: 1, padding: 'same', useBias: false, strides: 1, name: `conv_pw_${id}` })
      .apply(x) as ST;
    x = relu6(bn(x, `conv_pw_${id}_bn`), `conv_pw_${id}_relu`);
  });
  const model = t.model({ inputs: input, outputs: x, name: `mobilenet_${alpha.toFixed(2)}_${size}` });
  randomizeBatchNorm(model, opts.seed ?? 1);
  return model;
}

/**
 * Random, plausible BatchNorm parameters and statistics (gamma ~ 1, beta and mean ~ 0,
 * variance ~ 1), as trained networks have, instead of the all-identity initial values that
 * would make folding trivially right.
 */
function randomizeBatchNorm(model: LayersModel, seed: number): void {
  const t = tf();
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const c = layer.getWeights()[0].shape[0];
    const u = (lo: number, hi: number) => t.randomUniform([c], lo, hi, 'float32', s++);
    const weights = [u(0.5, 1.5), u(-0.2, 0.2), u(-0.2, 0.2), u(0.5, 1.5)]; // gamma, beta, moving mean, moving variance
    layer.setWeights(weights);
    t.dispose(weights);
  }
}
