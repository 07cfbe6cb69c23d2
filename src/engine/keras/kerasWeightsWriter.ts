// Keras 3's model.weights.h5 (the layout saving_lib.py's H5IOStore writes): a `vars` group
// for the model itself (empty for a Functional model), and for every layer, weightless
// ones too, `layers/<path>/vars` holding datasets `0`, `1`, … in Keras's variable order.
// Each `vars` group carries the owner's name as a `name` attribute, as Keras writes it.
import { createHdf5File } from './h5wasmModule';
import type { KerasModelParts } from './kerasConfigWriter';

export async function writeKerasWeights(file: string, parts: KerasModelParts): Promise<void> {
  const h5 = await createHdf5File(file);
  try {
    h5.create_group('vars').create_attribute('name', parts.modelName);
    const root = h5.create_group('layers');
    for (const layer of parts.layers) {
      const vars = root.create_group(layer.path.replace(/^layers\//, '')).create_group('vars');
      vars.create_attribute('name', layer.layerName);
      layer.values.forEach((v, i) => vars.create_dataset({ name: String(i), data: v.data, shape: v.shape, dtype: '<f' }));
    }
  } finally {
    h5.close();
  }
}
