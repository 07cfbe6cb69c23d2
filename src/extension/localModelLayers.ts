// The layers of a user's own model, so the wizard can offer them for a cut or an unfreeze
// point. A model.json is read here without blocking the extension host and without
// TensorFlow.js (the topology alone). A Keras .keras/.h5 file needs the engine's Keras readers
// (HDF5 in WebAssembly, Keras 3 configs rewritten to TF.js layers), so the caller passes a
// lister that asks a trainer, as Show Layers does: the same names the run will cut at.
import * as fs from 'node:fs';
import type { LayerRef } from '../core/layerBlocks';
import { kerasTopologyLayers } from './shippedTopology';

export type KerasFileLister = (file: string) => Promise<LayerRef[] | undefined>;

/** The model's layers in model order (nested models inlined); undefined for other files or when it cannot be read. */
export async function localModelLayers(file: string, listKerasFile?: KerasFileLister): Promise<LayerRef[] | undefined> {
  const lower = file.toLowerCase();
  if (/\.(keras|h5|hdf5)$/.test(lower)) return listKerasFile?.(file);
  if (!lower.endsWith('.json')) return undefined;
  try {
    const layers = kerasTopologyLayers(JSON.parse(await fs.promises.readFile(file, 'utf8')));
    return layers.length > 0 ? layers : undefined;
  } catch {
    return undefined;
  }
}
