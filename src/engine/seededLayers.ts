// Seeds for everything random in the layers a run creates, so a run is a function of its
// experiment file and data (train.seed): initial weights (the head's; from scratch, the base's
// too) and dropout masks. TensorFlow.js draws seeded initial weights and dropout masks in
// JavaScript (seedrandom), the same on every backend build and machine.
import type * as tfTypes from '@tensorflow/tfjs';
import { seedFrom } from '../core/random';

type ConfigDict = tfTypes.serialization.ConfigDict;

/** A layer's own seed: one stream per layer (and per use), all derived from the run's seed. */
export function layerSeed(seed: number, name: string): number {
  return seedFrom(name, seed);
}

/** Initializers whose class draws random numbers (the constant ones take no seed). */
const UNSEEDED_INITIALIZERS = new Set(['Zeros', 'Ones', 'Constant', 'Identity']);

/**
 * Gives every random initializer in a model topology's layer configs (the `*_initializer`
 * entries Keras and TF.js serialize) a seed of its own, derived from the run's seed, the layer
 * and the entry: rebuilding from the topology then gives the same initial weights every time.
 */
export function seedInitializers(layers: readonly ConfigDict[], seed: number): void {
  for (const layer of layers) {
    const config = layer.config as ConfigDict | undefined;
    if (!config) continue;
    for (const [key, value] of Object.entries(config)) {
      if (!key.endsWith('_initializer') || value === null || typeof value !== 'object' || Array.isArray(value)) continue;
      const initializer = value as ConfigDict;
      if (typeof initializer.class_name !== 'string' || UNSEEDED_INITIALIZERS.has(initializer.class_name)) continue;
      const own = (initializer.config ?? {}) as ConfigDict;
      initializer.config = { ...own, seed: layerSeed(seed, `${String(config.name)}/${key}`) };
    }
  }
}

/**
 * Sets each dropout layer's seed for one training step. A fixed seed would draw the same mask
 * at every step (TF.js reseeds its draw from the layer's seed on each call), so the seed moves
 * with the step: every step a new mask, the same one on every run.
 */
export function dropoutSeeder(models: readonly (tfTypes.LayersModel | null | undefined)[], seed: number): (step: number) => void {
  const dropouts = models.flatMap((m) => (m ? m.layers.filter((l) => /Dropout$/.test(l.getClassName())) : []));
  return (step) => {
    for (const layer of dropouts) (layer as unknown as { seed?: number }).seed = layerSeed(seed, `${layer.name}#${step}`);
  };
}
