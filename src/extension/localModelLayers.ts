// The layers of a user's own model.json, read without blocking the extension host and without
// TensorFlow.js (the topology alone), so the wizard can offer its layers for a cut or an
// unfreeze point. Keras .keras/.h5 files are read only by the run (engine/keras), so they get
// no layer choices here: the run then picks the cut from the loaded model.
import * as fs from 'node:fs';
import type { LayerRef } from '../core/layerBlocks';
import { kerasTopologyLayers } from './shippedTopology';

/** The model.json's layers in model order (nested models inlined); undefined for other files or when it cannot be read. */
export async function localModelLayers(file: string): Promise<LayerRef[] | undefined> {
  if (!file.toLowerCase().endsWith('.json')) return undefined;
  try {
    const layers = kerasTopologyLayers(JSON.parse(await fs.promises.readFile(file, 'utf8')));
    return layers.length > 0 ? layers : undefined;
  } catch {
    return undefined;
  }
}
