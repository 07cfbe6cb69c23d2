// TensorFlow's fused kernels, called by name on the native (tensorflow) backend: what Keras's
// graph optimizer turns conv + BiasAdd + Relu into. tfjs-node's own tf.fused.conv2d runs
// three kernels (conv, add, activation); _FusedConv2D is one. Probed once per backend.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from '../tf';
import type { PlanActivation } from './activations';

type Tensor = tfTypes.Tensor;
export type Padding = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface NativeBackend {
  binding: Record<string, number>;
  executeSingleOutput(name: string, attrs: { name: string; type: number; value: unknown }[], inputs: Tensor[]): Tensor;
}

export interface NativeConvArgs {
  strides: [number, number];
  dilations: [number, number];
  pad: Padding;
  /** linear, relu, relu6 or elu: what the kernel applies after BiasAdd. */
  activation: PlanActivation;
}

export interface NativeFusedConv {
  /** Whether explicit paddings (merged ZeroPadding2D) are accepted too. */
  explicit: boolean;
  conv2d(x: Tensor, filter: Tensor, bias: Tensor, s: NativeConvArgs): Tensor;
}

const FUSED_NAME: Partial<Record<PlanActivation, string>> = { relu: 'Relu', relu6: 'Relu6', elu: 'Elu' };

let probed: { backend: string; fused: NativeFusedConv | undefined } | undefined;

/**
 * _FusedConv2D (conv + BiasAdd + Relu/Relu6/Elu in one kernel) on the tensorflow backend, if
 * its binding passes list attributes (the offline build adds that: scripts/setup-native.mjs
 * step 3b). Undefined on any other backend or binding; the plan uses tf.fused ops instead.
 */
export function nativeFusedConv(): NativeFusedConv | undefined {
  const t = tf();
  if (probed?.backend === t.getBackend()) return probed.fused;
  const backend = t.backend() as unknown as Partial<NativeBackend>;
  let fused: NativeFusedConv | undefined;
  if (t.getBackend() === 'tensorflow' && typeof backend.executeSingleOutput === 'function' && backend.binding) {
    const b = backend as NativeBackend;
    const n = b.binding;
    const conv2d: NativeFusedConv['conv2d'] = (x, filter, bias, s) => {
      const explicit = Array.isArray(s.pad);
      const act = FUSED_NAME[s.activation];
      return b.executeSingleOutput(
        '_FusedConv2D',
        [
          { name: 'T', type: n.TF_ATTR_TYPE, value: n.TF_FLOAT },
          { name: 'num_args', type: n.TF_ATTR_INT, value: 1 },
          { name: 'TArgs', type: n.TF_ATTR_TYPE, value: [n.TF_FLOAT] },
          { name: 'num_host_args', type: n.TF_ATTR_INT, value: 0 },
          { name: 'strides', type: n.TF_ATTR_INT, value: [1, s.strides[0], s.strides[1], 1] },
          { name: 'padding', type: n.TF_ATTR_STRING, value: explicit ? 'EXPLICIT' : (s.pad as string).toUpperCase() },
          { name: 'explicit_paddings', type: n.TF_ATTR_INT, value: explicit ? (s.pad as number[][]).flat() : [] },
          { name: 'data_format', type: n.TF_ATTR_STRING, value: 'NHWC' },
          { name: 'dilations', type: n.TF_ATTR_INT, value: [1, s.dilations[0], s.dilations[1], 1] },
          { name: 'fused_ops', type: n.TF_ATTR_STRING, value: act ? ['BiasAdd', act] : ['BiasAdd'] },
        ],
        [x, filter, bias],
      );
    };
    const probe = (pad: Padding, activation: PlanActivation, expected: number) => {
      const out = t.tidy(() => {
        const one = t.ones([1, 2, 2, 1]);
        return conv2d(one, t.ones([1, 1, 1, 1]), t.ones([1]), { strides: [1, 1], dilations: [1, 1], pad, activation }).dataSync();
      });
      return out.length > 0 && out.every((v) => v === expected);
    };
    try {
      if (probe('valid', 'relu6', 2) && probe('valid', 'elu', 2)) fused = { explicit: false, conv2d };
    } catch {
      // a binding without list attributes (tfjs-node's prebuilt one): "Argument is not a string!"
    }
    try {
      if (fused && probe([[0, 0], [0, 0], [0, 0], [0, 0]], 'linear', 2)) fused.explicit = true;
    } catch {
      // explicit paddings not supported by this TensorFlow's kernel
    }
  }
  probed = { backend: t.getBackend(), fused };
  return fused;
}
