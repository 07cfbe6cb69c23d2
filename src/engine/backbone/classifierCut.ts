// The default cut for a layers model that no catalog entry or model card describes: the
// last feature layer before the network's old classifier head.
import type * as tfTypes from '@tensorflow/tfjs';
import { HEAD_NORMALIZATION_AND_ACTIVATIONS } from '../../core/localModelCuts';

/** Weightless layers that may follow a classifier (its activation, reshapes, dropout). */
const AFTER_CLASSIFIER = new Set(['Activation', 'Softmax', 'Dropout', 'AlphaDropout', 'GaussianDropout', 'GaussianNoise', 'Reshape', 'Flatten']);
/** Weightless layers between the features and a classifier (pooling, flatten, reshape, dropout). */
const BEFORE_CLASSIFIER = new Set([
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'AlphaDropout',
  'GaussianDropout',
  'GaussianNoise',
  'Reshape',
  'Flatten',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
]);

/**
 * The layer just before the network's original classifier, for a layers model with no
 * catalog cut. Walking back from the output along a single-input chain, it skips the
 * weightless layers after a classifier (activation/softmax, dropout, reshape, flatten),
 * then one classifier (a Dense, or a Conv2D applied to a 1x1 map as in MobileNet v1's
 * `conv_preds`), then the weightless layers before it (dropout, reshape, flatten, global
 * pooling), and stops at the first layer that is none of those: that layer is the cut. So
 * conv -> global pooling -> Dense(softmax) cuts at the conv block's output (feature maps),
 * and so does conv -> pooling -> Dense -> Dropout -> Dense (a user's head of several
 * layers: the whole old head goes, as Keras's transfer-learning guide would rebuild it); an
 * MLP cuts at its second-to-last Dense, and a model with no classifier (a "no-top" export)
 * cuts at its output. Returns the cut and whether a head was removed.
 */
export function findClassifierCut(model: tfTypes.LayersModel): { cutAt: string; removedHead: boolean } {
  const outputLayer = model.outputs[0].sourceLayer as tfTypes.layers.Layer;
  const inboundOf = (layer: tfTypes.layers.Layer): tfTypes.layers.Layer | undefined => {
    if (layer.inboundNodes.length !== 1) return undefined;
    const inbound = layer.inboundNodes[0].inboundLayers;
    return inbound.length === 1 ? inbound[0] : undefined;
  };
  const isClassifier = (layer: tfTypes.layers.Layer) => {
    const cls = layer.getClassName();
    if (cls === 'Dense') return true;
    if (cls === 'Conv2D') {
      let shape = layer.inboundNodes[0]?.inputShapes as unknown as (number | null)[] | (number | null)[][];
      if (Array.isArray(shape) && Array.isArray(shape[0])) shape = shape[0];
      return Array.isArray(shape) && shape.length === 4 && shape[1] === 1 && shape[2] === 1;
    }
    return false;
  };
  let layer: tfTypes.layers.Layer | undefined = outputLayer;
  while (layer && AFTER_CLASSIFIER.has(layer.getClassName())) layer = inboundOf(layer);
  const sawClassifier = !!layer && isClassifier(layer);
  if (sawClassifier) {
    layer = inboundOf(layer!);
    while (layer && BEFORE_CLASSIFIER.has(layer.getClassName())) layer = inboundOf(layer);
  }
  if (!sawClassifier || !layer || layer.getClassName() === 'InputLayer') return { cutAt: outputLayer.name, removedHead: false };
  // A head of several layers (a user's Dense stack on a conv base: pooling -> Dense(1024) ->
  // Dropout -> Dense(classes)): keep walking back through it to the last feature map.
  let back: tfTypes.layers.Layer | undefined = layer;
  while (back && HEAD_STACK.has(back.getClassName()) && !isFeatureMap(back)) back = inboundOf(back);
  if (back && back !== layer && back.getClassName() !== 'InputLayer' && isFeatureMap(back)) return { cutAt: back.name, removedHead: true };
  return { cutAt: layer.name, removedHead: true };
}

/** Layers a classifier head is built from (on pooled or flattened features). */
const HEAD_STACK = new Set([...BEFORE_CLASSIFIER, ...AFTER_CLASSIFIER, 'Dense', ...HEAD_NORMALIZATION_AND_ACTIVATIONS]);

/** Whether a layer's output is a spatial feature map ([batch, h, w, c]), not pooled features. */
function isFeatureMap(layer: tfTypes.layers.Layer): boolean {
  const shape = layer.outputShape as unknown;
  return Array.isArray(shape) && !Array.isArray(shape[0]) && shape.length === 4;
}
