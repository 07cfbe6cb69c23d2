// The layers of a Keras Application's shipped topology (media/keras-applications/<id>.json.gz),
// named as Transfer Lab's loader will name them, without loading TensorFlow.js: so the wizard
// can propose layers of the very model the run will load. Nested models (ConvNeXt's stem and
// downsampling blocks are Sequentials) are inlined as the loader inlines them: their own
// layers take their place under their own names. No `vscode` here: unit tests read it too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { BackboneCatalogEntry } from '../core/backboneCatalog';
import type { LayerRef } from '../core/layerBlocks';

type Json = Record<string, unknown>;
const isObj = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Names of the layers a Keras inbound_nodes entry reads (Keras 3 keras_history, or Keras 2 [name, node, tensor, kwargs]). */
function inboundNames(nodes: unknown): string[] {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      if (x.length >= 3 && typeof x[0] === 'string' && typeof x[1] === 'number' && typeof x[2] === 'number') out.push(x[0]);
      else x.forEach(walk);
    } else if (isObj(x)) {
      if (x.class_name === '__keras_tensor__' && isObj(x.config) && Array.isArray(x.config.keras_history)) out.push(String(x.config.keras_history[0]));
      else if ('args' in x) walk(x.args);
      else Object.values(x).forEach(walk);
    }
  };
  walk(nodes);
  return [...new Set(out)];
}

const nameOf = (l: Json): string => String(l.name ?? (isObj(l.config) ? l.config.name : ''));

/** A Keras model config's layers, nested models inlined; `outputOf` maps a nested model's name to its output layer. */
function flatten(layers: unknown[], feed: Map<string, string[]>, outputOf: Map<string, string>): LayerRef[] {
  const out: LayerRef[] = [];
  const resolve = (names: string[]) => names.flatMap((n) => feed.get(n) ?? [outputOf.get(n) ?? n]);
  for (const raw of layers) {
    if (!isObj(raw)) continue;
    const name = nameOf(raw);
    const className = String(raw.class_name ?? '');
    const inbound = resolve(inboundNames(raw.inbound_nodes));
    const config = isObj(raw.config) ? raw.config : {};
    const inner = Array.isArray(config.layers) ? (config.layers as unknown[]) : undefined;
    if (!inner || !['Sequential', 'Functional', 'Model'].includes(className)) {
      out.push({ name, className, inbound });
      continue;
    }
    const innerLayers = inner.filter(isObj);
    const innerInputs = innerLayers.filter((l) => l.class_name === 'InputLayer').map(nameOf);
    const innerFeed = new Map(feed);
    for (const i of innerInputs) innerFeed.set(i, inbound);
    let flat: LayerRef[];
    if (className === 'Sequential') {
      flat = [];
      let prev = inbound;
      for (const l of innerLayers.filter((x) => x.class_name !== 'InputLayer')) {
        const [one, ...more] = flatten([{ ...l, inbound_nodes: [] }], innerFeed, outputOf);
        flat.push({ ...one, inbound: prev }, ...more);
        prev = [outputOf.get(one.name) ?? flat.at(-1)!.name];
      }
      outputOf.set(name, flat.at(-1)?.name ?? name);
    } else {
      flat = flatten(
        innerLayers.filter((x) => x.class_name !== 'InputLayer'),
        innerFeed,
        outputOf,
      );
      const outputs = inboundNames(config.output_layers);
      outputOf.set(name, outputs[0] ?? flat.at(-1)?.name ?? name);
    }
    out.push(...flat);
  }
  return out;
}

/** The layers of a Keras (or TF.js layers) model topology, in order, nested models inlined. */
export function kerasTopologyLayers(topology: unknown): LayerRef[] {
  const t = isObj(topology) && isObj(topology.modelTopology) ? topology.modelTopology : topology;
  const model = isObj(t) && isObj(t.model_config) ? t.model_config : t;
  const config = isObj(model) && isObj(model.config) ? model.config : undefined;
  if (!config || !Array.isArray(config.layers)) return [];
  return flatten(config.layers, new Map(), new Map());
}

const gunzip = promisify(zlib.gunzip);

/** The shipped topology's layers of a Keras Application entry (undefined for other sources, or when the file cannot be read). Read without blocking the extension host. */
export async function shippedTopologyLayers(installRoot: string, entry: BackboneCatalogEntry): Promise<LayerRef[] | undefined> {
  if (entry.source.kind !== 'keras-application') return undefined;
  try {
    const file = path.join(installRoot, entry.source.topology);
    const bytes = await fs.promises.readFile(file);
    const text = (file.endsWith('.gz') ? await gunzip(bytes) : bytes).toString('utf8');
    const layers = kerasTopologyLayers(JSON.parse(text));
    return layers.length > 0 ? layers : undefined;
  } catch {
    return undefined;
  }
}
