// The activations both layer planners compute themselves (inferencePlan for frozen layers,
// trainingPlan for fine-tuned ones): which layers are one, how each is computed, and its
// derivative for the lean fine-tuning blocks. Keras's own definitions, in TensorFlow.js ops:
//   swish (silu)   x * sigmoid(x)
//   gelu           x * 0.5 * (1 + erf(x / sqrt 2))            (Keras's default, approximate=False)
//   hardSigmoid    relu6(x + 3) / 6                            (Keras 3; MobileNetV3)
//   hardSwish      x * relu6(x + 3) / 6                        (Keras 3 hard_silu; MobileNetV3)
//   hardSigmoidTfjs  clip(0.2 x + 0.5, 0, 1)                   (Keras 2 and TensorFlow.js)
//   geluPrescaled  x * (1 + erf(x))                            (sqrt 2 gelu(sqrt 2 x): the inference
//                  plan's gelu with its two constant factors folded into the convolutions around it)
// Keras 3's hard_sigmoid and hard_silu reach TensorFlow.js as stock layers (the loader's
// rewrites: Rescaling(1/6, 0.5) -> ReLU(max 1) [-> Multiply with the input], and
// MobileNetV3's own Rescaling(1, 3) -> ReLU(6) -> Rescaling(1/6)); layerGraph's
// activationGroups finds those chains so the planners see one activation.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;

export type PlanActivation =
  'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'tanh' | 'swish' | 'gelu' | 'geluPrescaled' | 'hardSigmoid' | 'hardSwish' | 'hardSigmoidTfjs';

/** TensorFlow.js activation identifiers (as layer configs serialise them) the planners compute. */
const BY_NAME: Record<string, PlanActivation> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  elu: 'elu',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  swish: 'swish',
  silu: 'swish',
  gelu: 'gelu',
  // TensorFlow.js's hardSigmoid is Keras 2's 0.2 x + 0.5 (Keras 3's is rewritten by the loader).
  hardSigmoid: 'hardSigmoidTfjs',
};

/** A layer's `activation` config (Conv2D, Dense, Activation, ...) as a PlanActivation, or undefined. */
export function activationNamed(name: string | undefined): PlanActivation | undefined {
  return BY_NAME[name ?? 'linear'];
}

interface ActivationConfig {
  activation?: string;
  maxValue?: number | null;
  negativeSlope?: number;
  threshold?: number;
  alpha?: number;
}

/** The activation a single layer is (Activation, ReLU without slope or threshold, ELU alpha 1), or undefined. */
export function layerActivation(l: Layer): PlanActivation | undefined {
  const c = l.getConfig() as unknown as ActivationConfig;
  switch (l.getClassName()) {
    case 'Activation':
      return activationNamed(c.activation);
    case 'ReLU':
      if ((c.negativeSlope ?? 0) !== 0 || (c.threshold ?? 0) !== 0) return undefined;
      if (c.maxValue === undefined || c.maxValue === null) return 'relu';
      return c.maxValue === 6 ? 'relu6' : undefined;
    case 'ELU':
      return (c.alpha ?? 1) === 1 ? 'elu' : undefined;
    default:
      return undefined;
  }
}

/** Activations tf.fused.conv2d / depthwiseConv2d / matMul accept. */
export const TFJS_FUSED_ACTIVATIONS: ReadonlySet<PlanActivation> = new Set(['linear', 'relu', 'relu6', 'elu', 'sigmoid']);

/** act(x). */
export function activate(act: PlanActivation, x: Tensor): Tensor {
  const t = tf();
  switch (act) {
    case 'relu':
      return t.relu(x);
    case 'relu6':
      return t.relu6(x);
    case 'elu':
      return t.elu(x);
    case 'sigmoid':
      return t.sigmoid(x);
    case 'tanh':
      return t.tanh(x);
    case 'swish':
      return t.mul(x, t.sigmoid(x));
    case 'gelu':
      return t.mul(x, t.mul(0.5, t.add(1, t.erf(t.mul(x, Math.SQRT1_2)))));
    case 'geluPrescaled':
      return t.mul(x, t.add(1, t.erf(x)));
    case 'hardSigmoid':
      return t.mul(t.relu6(t.add(x, 3)), 1 / 6);
    case 'hardSwish':
      return t.mul(x, t.mul(t.relu6(t.add(x, 3)), 1 / 6));
    case 'hardSigmoidTfjs':
      return t.clipByValue(t.add(t.mul(x, 0.2), 0.5), 0, 1);
    default:
      return x;
  }
}

/** dy * act'(pre). */
export function activationGrad(act: PlanActivation, pre: Tensor, dy: Tensor): Tensor {
  const t = tf();
  const inside = (lo: number, hi: number) => t.cast(t.logicalAnd(t.greater(pre, lo), t.less(pre, hi)), 'float32');
  switch (act) {
    case 'relu':
      return t.mul(dy, t.cast(t.greater(pre, 0), 'float32'));
    case 'relu6':
      return t.mul(dy, inside(0, 6));
    case 'elu':
      // 1 above zero, exp(x) below (elu(x) + 1)
      return t.mul(dy, t.where(t.greater(pre, 0), t.onesLike(pre), t.exp(pre)));
    case 'sigmoid': {
      const s = t.sigmoid(pre);
      return t.mul(dy, t.mul(s, t.sub(1, s)));
    }
    case 'tanh': {
      const y = t.tanh(pre);
      return t.mul(dy, t.sub(1, t.square(y)));
    }
    case 'swish': {
      // d/dx x*s(x) = s + x*s*(1-s)
      const s = t.sigmoid(pre);
      return t.mul(dy, t.mul(s, t.add(1, t.mul(pre, t.sub(1, s)))));
    }
    case 'gelu': {
      // Phi(x) + x * phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
      const cdf = t.mul(0.5, t.add(1, t.erf(t.mul(pre, Math.SQRT1_2))));
      const pdf = t.mul(t.exp(t.mul(t.square(pre), -0.5)), 1 / Math.sqrt(2 * Math.PI));
      return t.mul(dy, t.add(cdf, t.mul(pre, pdf)));
    }
    case 'geluPrescaled':
      // 1 + erf(x) + x * 2 / sqrt(pi) * exp(-x^2)
      return t.mul(dy, t.add(t.add(1, t.erf(pre)), t.mul(pre, t.mul(t.exp(t.neg(t.square(pre))), 2 / Math.sqrt(Math.PI)))));
    case 'hardSigmoid':
      return t.mul(dy, t.mul(inside(-3, 3), 1 / 6));
    case 'hardSwish': {
      // relu6(x + 3) / 6 + x / 6 inside (-3, 3)
      const gate = t.mul(t.relu6(t.add(pre, 3)), 1 / 6);
      return t.mul(dy, t.add(gate, t.mul(t.mul(pre, 1 / 6), inside(-3, 3))));
    }
    case 'hardSigmoidTfjs':
      return t.mul(dy, t.mul(inside(-2.5, 2.5), 0.2));
    default:
      return dy;
  }
}
