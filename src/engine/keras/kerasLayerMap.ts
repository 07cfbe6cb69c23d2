// TensorFlow.js layers (their Keras-2-style configs, as model.toJSON writes them) as Keras 3
// layers: which config keys each class carries over, how initializers, regularizers,
// constraints and activations are named in Keras 3, and the order of each class's variables
// in Keras 3's weights file. The reverse of tfjsTopology.ts; a class or key without a Keras 3
// meaning here is refused by name rather than written wrong.
import { isObj, type Json } from './kerasGraph';

/** A model that cannot be written as Keras 3 (names the layer and what to do). */
export class KerasExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KerasExportError';
  }
}

interface LayerSpec {
  /** Keras 3 config keys taken from the TF.js config (same name unless `rename` says). */
  keys: string[];
  /** TF.js weight names (the part after the last '/') in Keras 3's variable order. */
  vars?: string[];
  rename?: Record<string, string>;
}

const CONV = ['kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'activation', 'use_bias', 'bias_initializer', 'bias_regularizer'];
const CONV_TAIL = ['activity_regularizer', 'bias_constraint'];
const DENSE = ['units', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer'];
const NORM = ['axis', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer', 'beta_regularizer', 'gamma_regularizer', 'beta_constraint'];
const POOL: LayerSpec = { keys: ['pool_size', 'padding', 'strides', 'data_format'] };
const MERGE: LayerSpec = { keys: [] };

const SPECS: Record<string, LayerSpec> = {
  Conv2D: { keys: ['filters', ...CONV, ...CONV_TAIL, 'kernel_initializer', 'kernel_regularizer', 'kernel_constraint'], vars: ['kernel', 'bias'] },
  DepthwiseConv2D: {
    keys: ['depth_multiplier', ...CONV, ...CONV_TAIL, 'depthwise_initializer', 'depthwise_regularizer', 'depthwise_constraint'],
    vars: ['depthwise_kernel', 'bias'],
  },
  SeparableConv2D: {
    keys: [
      'filters',
      'depth_multiplier',
      ...CONV,
      ...CONV_TAIL,
      'depthwise_initializer',
      'pointwise_initializer',
      'depthwise_regularizer',
      'pointwise_regularizer',
      'depthwise_constraint',
      'pointwise_constraint',
    ],
    vars: ['depthwise_kernel', 'pointwise_kernel', 'bias'],
  },
  Dense: { keys: [...DENSE, 'activity_regularizer', 'kernel_constraint', 'bias_constraint'], vars: ['kernel', 'bias'] },
  BatchNormalization: {
    keys: [...NORM, 'momentum', 'moving_mean_initializer', 'moving_variance_initializer', 'gamma_constraint'],
    vars: ['gamma', 'beta', 'moving_mean', 'moving_variance'],
  },
  LayerNormalization: { keys: [...NORM, 'gamma_constraint'], vars: ['gamma', 'beta'] },
  ReLU: { keys: ['max_value'] },
  LeakyReLU: { keys: ['alpha'], rename: { alpha: 'negative_slope' } },
  ELU: { keys: ['alpha'] },
  Softmax: { keys: ['axis'] },
  PReLU: { keys: ['alpha_initializer', 'alpha_regularizer', 'alpha_constraint', 'shared_axes'], vars: ['alpha'] },
  Activation: { keys: ['activation'] },
  Add: MERGE,
  Multiply: MERGE,
  Subtract: MERGE,
  Average: MERGE,
  Maximum: MERGE,
  Minimum: MERGE,
  Concatenate: { keys: ['axis'] },
  ZeroPadding2D: { keys: ['padding', 'data_format'] },
  Cropping2D: { keys: ['cropping', 'data_format'] },
  UpSampling2D: { keys: ['size', 'data_format', 'interpolation'] },
  MaxPooling2D: POOL,
  AveragePooling2D: POOL,
  GlobalAveragePooling2D: { keys: ['data_format'] },
  GlobalMaxPooling2D: { keys: ['data_format'] },
  Dropout: { keys: ['rate', 'noise_shape'] },
  SpatialDropout2D: { keys: ['rate'] },
  Flatten: { keys: ['data_format'] },
  Reshape: { keys: ['target_shape'] },
  Rescaling: { keys: ['scale', 'offset'] },
};

/** TF.js config keys that have no Keras 3 layer key: the entry carries them elsewhere, or they do not change what the model computes. */
const HANDLED_ELSEWHERE = new Set(['name', 'trainable', 'dtype', 'batch_input_shape', 'batch_size', 'input_dtype', 'seed']);

/**
 * Activations as TF.js's toJSON names them (Keras's names) that compute the same in Keras 3;
 * hard_sigmoid is left out: Keras 3's is relu6(x + 3) / 6, TF.js's Keras 2's 0.2x + 0.5.
 */
const KERAS3_ACTIVATIONS = new Set(['linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'softmax', 'softplus', 'softsign', 'tanh', 'swish', 'mish', 'gelu']);
const RENAMED_ACTIVATIONS: Record<string, string> = { logSoftmax: 'log_softmax', log_softmax: 'log_softmax' };

export const FLOAT32_POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

/** An initializer/regularizer/constraint as Keras 3 serializes it. TF.js seeds mean nothing to Keras's generators: dropped. */
function serializable(value: unknown, module: string, where: string): unknown {
  if (value === null || value === undefined) return null;
  if (!isObj(value) || typeof value.class_name !== 'string') throw new KerasExportError(`${where}: cannot be written for Keras 3 (${JSON.stringify(value)})`);
  const config: Json = { ...(isObj(value.config) ? value.config : {}) };
  if ('seed' in config) config.seed = null;
  if (value.class_name === 'VarianceScaling' && config.distribution === 'normal') config.distribution = 'truncated_normal';
  return { module, class_name: value.class_name, config, registered_name: null };
}

function convertValue(key: string, value: unknown, where: string): unknown {
  if (key === 'activation') {
    const name = KERAS3_ACTIVATIONS.has(String(value)) ? String(value) : RENAMED_ACTIVATIONS[String(value)];
    if (!name)
      throw new KerasExportError(`${where}: activation '${String(value)}' has no Keras 3 equivalent that computes the same; export as TF.js layers instead`);
    return name;
  }
  if (key.endsWith('_initializer')) return serializable(value, 'keras.initializers', `${where} (${key})`);
  if (key.endsWith('_regularizer')) return serializable(value, 'keras.regularizers', `${where} (${key})`);
  if (key.endsWith('_constraint')) return serializable(value, 'keras.constraints', `${where} (${key})`);
  return value;
}

/** The class's Keras 3 config from a TF.js one: name, trainable, dtype policy, then the class's keys. */
export function kerasLayerConfig(className: string, name: string, tfjs: Json): Json {
  const where = `layer '${name}' (${className})`;
  if (className === 'InputLayer') {
    return { batch_shape: tfjs.batch_input_shape, dtype: typeof tfjs.dtype === 'string' ? tfjs.dtype : 'float32', sparse: false, ragged: false, name };
  }
  const spec = SPECS[className];
  if (!spec) {
    throw new KerasExportError(
      `${where}: Transfer Lab cannot write this layer class for Keras 3 yet (it writes ${Object.keys(SPECS).join(', ')}). Export as TF.js layers instead.`,
    );
  }
  const out: Json = { name, trainable: tfjs.trainable !== false, dtype: FLOAT32_POLICY };
  for (const [key, value] of Object.entries(tfjs)) {
    if (HANDLED_ELSEWHERE.has(key)) continue;
    if (!spec.keys.includes(key)) {
      if (value === null || value === undefined) continue;
      throw new KerasExportError(`${where}: its '${key}' (${JSON.stringify(value)}) has no Keras 3 equivalent here; export as TF.js layers instead.`);
    }
    out[spec.rename?.[key] ?? key] = convertValue(key, value, where);
  }
  if (className === 'Dropout') out.seed = null;
  return out;
}

/** Keras 3's variable order for a class, given the TF.js weight names the layer has (an error for a weight Keras 3 would not have). */
export function kerasVariableOrder(className: string, layerName: string, weightNames: string[]): number[] {
  const order = SPECS[className]?.vars ?? [];
  const roles = weightNames.map((n) => n.split('/').pop() ?? n);
  const unknown = roles.filter((r) => !order.includes(r));
  if (unknown.length > 0)
    throw new KerasExportError(
      `layer '${layerName}' (${className}): weight(s) ${unknown.join(', ')} have no place in Keras 3's ${className}; export as TF.js layers instead.`,
    );
  return order.flatMap((role) => {
    const i = roles.indexOf(role);
    return i < 0 ? [] : [i];
  });
}

/** A TF.js weight's variable name in Keras 3 (DepthwiseConv2D's depthwise_kernel is Keras 3's `kernel`). */
export function kerasVariableName(className: string, weightName: string): string {
  const role = weightName.split('/').pop() ?? weightName;
  return className === 'DepthwiseConv2D' && role === 'depthwise_kernel' ? 'kernel' : role;
}

/** Whether a Keras 3 layer of this class takes its inputs as one list (the merge layers). */
export function takesInputList(className: string): boolean {
  return SPECS[className] === MERGE || className === 'Concatenate';
}
