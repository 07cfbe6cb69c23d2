// The fmnist-mini network and its training recipe, defined once: train.py builds it in Keras
// from SPEC (passed as JSON) and buildModel builds the same layers in TF.js, which then takes
// the trained weights by layer name. Layer names follow the Keras MobileNet style the rest of
// Transfer Lab knows (stem_*, block_N_dw/_pw, top_conv, out_relu), so `unfreezeFrom:
// "block_5_dw"` still means "the last block" and `block_3_pw_relu` an earlier cut.

export const SPEC = {
  seed: 1234,
  inputSize: 32,
  stem: 24,
  // Two stride-2 blocks: 32x32 -> 16x16 -> 8x8, as before; each stage 1.5-2x wider.
  blocks: [
    { filters: 48, stride: 1 },
    { filters: 64, stride: 2 },
    { filters: 96, stride: 1 },
    { filters: 128, stride: 2 },
    { filters: 192, stride: 1 },
  ],
  top: 256,
  dropout: 0.2,
  classes: 5,
  epochs: 8,
  batchSize: 128,
  learningRate: 0.002,
  // rotationLabels 4: each image is turned by k x 90 degrees and the net learns (class, k).
  augment: { shift: 3, flip: true, rotationLabels: 4 },
};

/** The network in TF.js, layer for layer as train.py builds it (initial weights are replaced). */
export function buildModel(tf, spec, classes) {
  const l = tf.layers;
  const convBnRelu = (x, conv, name) => {
    const y = conv.apply(x);
    const bn = l.batchNormalization({ name: `${name}_bn` }).apply(y);
    return l.reLU({ maxValue: 6, name: name === 'top' ? 'out_relu' : `${name}_relu` }).apply(bn);
  };
  const size = spec.inputSize;
  const input = tf.input({ shape: [size, size, 3], name: 'input_image' });
  let x = convBnRelu(input, l.conv2d({ filters: spec.stem, kernelSize: 3, padding: 'same', useBias: false, name: 'stem_conv' }), 'stem');
  spec.blocks.forEach((b, k) => {
    const id = `block_${k + 1}`;
    x = convBnRelu(x, l.depthwiseConv2d({ kernelSize: 3, strides: b.stride, padding: 'same', useBias: false, name: `${id}_dw` }), `${id}_dw`);
    x = convBnRelu(x, l.conv2d({ filters: b.filters, kernelSize: 1, useBias: false, name: `${id}_pw` }), `${id}_pw`);
  });
  x = convBnRelu(x, l.conv2d({ filters: spec.top, kernelSize: 1, useBias: false, name: 'top_conv' }), 'top');
  x = l.globalAveragePooling2d({ name: 'global_pool' }).apply(x);
  x = l.dropout({ rate: spec.dropout, name: 'dropout' }).apply(x);
  x = l.dense({ units: classes, activation: 'softmax', name: 'predictions' }).apply(x);
  return tf.model({ inputs: input, outputs: x, name: 'fmnist_mini' });
}

/** Output size of the cut (out_relu): the input halved once per stride-2 block. */
export function featureShape(spec) {
  const side = spec.blocks.reduce((s, b) => s / b.stride, spec.inputSize);
  return [side, side, spec.top];
}
