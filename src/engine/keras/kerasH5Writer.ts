// Keras's legacy HDF5 model file (`model.save("model.h5")` in Keras 3, read by
// keras/src/legacy/saving/legacy_h5_format.py and by tf_keras): the model config as the
// `model_config` attribute (Keras 3 writes the same layer entries as in config.json, less
// module/registered_name), and `model_weights/<layer>/<layer>/<var>` datasets listed by the
// `layer_names` and `weight_names` attributes, in each layer's variable order (Keras loads
// them by position).
import { createHdf5File } from './h5wasmModule';
import { isObj, type Json } from './kerasGraph';
import type { KerasModelParts } from './kerasConfigWriter';

/** A config.json layer entry as the legacy format's model_config holds it. */
function legacyEntry(entry: unknown): unknown {
  if (!isObj(entry)) return entry;
  const { module: _module, registered_name: _registered, build_config: _build, ...rest } = entry;
  return rest;
}

export function legacyModelConfig(parts: KerasModelParts): Json {
  const config = parts.config.config as Json;
  return { class_name: 'Functional', config: { ...config, layers: (config.layers as unknown[]).map(legacyEntry) } };
}

export async function writeKerasH5(file: string, parts: KerasModelParts, kerasVersion: string): Promise<void> {
  const h5 = await createHdf5File(file);
  try {
    h5.create_attribute('backend', 'tensorflow');
    h5.create_attribute('keras_version', kerasVersion);
    h5.create_attribute('model_config', JSON.stringify(legacyModelConfig(parts)));
    const root = h5.create_group('model_weights');
    root.create_attribute('backend', 'tensorflow');
    root.create_attribute('keras_version', kerasVersion);
    root.create_attribute(
      'layer_names',
      parts.layers.map((l) => l.layerName),
    );
    for (const layer of parts.layers) {
      const group = root.create_group(layer.layerName);
      const names = layer.values.map((v) => `${layer.layerName}/${v.role}`);
      if (names.length === 0) {
        group.create_attribute('weight_names', new Float64Array(0), [0], '<d'); // what Keras writes for a weightless layer
        continue;
      }
      group.create_attribute('weight_names', names);
      const inner = group.create_group(layer.layerName);
      for (const v of layer.values) inner.create_dataset({ name: v.role, data: v.data, shape: v.shape, dtype: '<f' });
    }
  } finally {
    h5.close();
  }
}
