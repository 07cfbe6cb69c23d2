// A Keras model config plus its weights -> a TensorFlow.js LayersModel: parsed into one flat
// graph (keras/kerasGraph.ts), rewritten into stock TF.js layers (keras/kerasRewrites.ts),
// built by tfjs-layers, then every layer's weights set by position with shapes checked.
// Errors name the file, the layer and what to do. When the experiment cuts the model,
// layers after the cut that cannot be loaded are left out instead of failing the load.
import type * as tfTypes from '@tensorflow/tfjs';
import { isKeras3, KerasConfigError, parseKerasModel, type KerasGraph } from '../keras/kerasGraph';
import { rewriteForTfjs } from '../keras/kerasRewrites';
import type { WeightsOf, WeightValue } from '../keras/kerasWeights';
import { toTfjsTopology } from '../keras/tfjsTopology';
import { tf } from '../tf';
import { BackboneError } from './backboneError';
import { upstreamLayers } from '../../core/layerGraph';

export interface LayersSource {
  /** The model config as saved (model.json's modelTopology, config.json, an .h5 file's model_config). */
  topology: unknown;
  kerasVersion?: string;
  /** Undefined when the files hold no weights at all. */
  weightsOf?: WeightsOf;
  /** The file or URL, for messages. */
  where: string;
  /** Every weight name the files hold, to name those no layer claims when matching fails. */
  weightNames?: string[];
  notes: string[];
}

/** Layer names `cutAt`'s output depends on. */
function ancestors(graph: KerasGraph, cutAt: string): Set<string> | undefined {
  const byName = new Map(graph.layers.map((l) => [l.name, l]));
  if (!byName.has(cutAt)) return undefined;
  return upstreamLayers(cutAt, (n) => (byName.get(n)?.nodes ?? []).flatMap((node) => node.refs.map((r) => r[0])));
}

function trimTo(graph: KerasGraph, keep: Set<string>, cutAt: string): KerasGraph {
  return { ...graph, layers: graph.layers.filter((l) => keep.has(l.name)), outputs: [[cutAt, 0, 0]] };
}

interface Unsupported {
  name: string;
  className: string;
  why?: string;
}

function unsupportedClasses(graph: KerasGraph): Unsupported[] {
  const known = tf().serialization.SerializationMap.getMap().classNameMap;
  return graph.layers.filter((l) => !(l.className in known)).map((l) => ({ name: l.name, className: l.className }));
}

function unsupportedError(where: string, bad: Unsupported[]): BackboneError {
  const [first] = bad;
  const more =
    bad.length > 1
      ? ` (also: ${bad
          .slice(1, 4)
          .map((b) => `'${b.name}' ${b.className}`)
          .join(', ')}${bad.length > 4 ? ', …' : ''})`
      : '';
  const what = first.why ?? `Layer '${first.name}' has class '${first.className}', which TensorFlow.js does not support`;
  return new BackboneError(
    'backbone.cutAt',
    `${first.why ? what : `${where}: ${what}`}. Replace it or cut the model before it with backbone.cutAt.${more}`,
    where,
  );
}

/** Parse + rewrite, or the layers that stand in the way. */
function prepare(src: LayersSource, graph: KerasGraph): { ok: true; value: ReturnType<typeof rewriteForTfjs> } | { ok: false; bad: Unsupported[] } {
  try {
    const value = rewriteForTfjs({ graph, weightsOf: (l) => src.weightsOf?.(l), where: src.where });
    const bad = unsupportedClasses(value.graph);
    return bad.length ? { ok: false, bad } : { ok: true, value };
  } catch (e) {
    if (!(e instanceof KerasConfigError)) throw e;
    const layer = graph.layers.find((l) => l.name === e.layer);
    return { ok: false, bad: [{ name: e.layer ?? '?', className: layer?.className ?? '?', why: e.message }] };
  }
}

function parse(src: LayersSource): KerasGraph {
  try {
    return parseKerasModel(src.topology, src.where, src.kerasVersion);
  } catch (e) {
    if (e instanceof KerasConfigError) throw new BackboneError('backbone', `${e.message}.`, src.where);
    throw e;
  }
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.join(', ')}]`;
}

/** Writes each layer's weights by position, checking count and shapes; names the layer on a mismatch. */
function setWeights(model: tfTypes.LayersModel, weights: Map<string, WeightValue[]>, src: LayersSource): void {
  const t = tf();
  const where = src.where;
  const missing: string[] = [];
  const used = new Set<string>();
  for (const layer of model.layers) {
    const targets = layer.weights;
    if (targets.length === 0) continue;
    const values = weights.get(layer.name);
    if (!values) {
      missing.push(layer.name);
      continue;
    }
    if (values.length !== targets.length) {
      throw new BackboneError(
        'backbone',
        `${where}: the weights do not match the model's layers: layer '${layer.name}' (${layer.getClassName()}) has ${values.length} weight array(s) in the weight files but needs ${targets.length} (${targets.map((w) => w.originalName.split('/').pop()).join(', ')}). The topology and the weights must come from the same model; save or export it again.`,
        where,
      );
    }
    values.forEach((v, i) => {
      used.add(v.name);
      const target = targets[i];
      const same = target.shape.length === v.shape.length && target.shape.every((d, j) => d === v.shape[j]);
      if (!same) {
        throw new BackboneError(
          'backbone',
          `${where}: the weights do not match the model's layers: layer '${layer.name}' weight '${target.originalName}' has shape ${shapeText(v.shape)} in the weight files but ${shapeText(target.shape)} in the topology (file entry '${v.name}'). The topology and the weights must come from the same model; save or export it again.`,
          where,
        );
      }
      t.tidy(() => {
        target.write(t.tensor(v.data, target.shape as number[], 'float32').cast(target.dtype));
      });
    });
  }
  if (missing.length > 0) {
    const list = (names: string[]) =>
      `${names
        .slice(0, 3)
        .map((n) => `'${n}'`)
        .join(', ')}${names.length > 3 ? ', …' : ''}`;
    const unclaimed = (src.weightNames ?? []).filter((n) => !used.has(n));
    const what = [
      ...(unclaimed.length ? [`${unclaimed.length} weight(s) in the weight files belong to no layer (${list(unclaimed)})`] : []),
      `no values for ${missing.length} layer(s) (${list(missing)})`,
    ].join(', and ');
    throw new BackboneError(
      'backbone',
      `${where}: the weights do not match the model's layers: ${what}. The topology and its weight files must come from the same model; save, export or download it again.`,
      where,
    );
  }
}

/**
 * Builds the model a Keras config describes, with its weights; see the file comment.
 * `cutAt` may name an inlined nested model: the cut it means is returned.
 */
export async function buildLayersModel(src: LayersSource, requestedCut: string | undefined): Promise<{ model: tfTypes.LayersModel; cutAt?: string }> {
  const t = tf();
  let graph = parse(src);
  let cutAt = requestedCut;
  const alias = cutAt ? graph.aliases.get(cutAt) : undefined;
  if (alias) {
    src.notes.push(`'${cutAt}' is a nested model; it was inlined, so the cut is at its output layer '${alias}'.`);
    cutAt = alias;
  }
  if (isKeras3(graph)) src.notes.push('Keras 3 model config: converted to the Keras 2 form TensorFlow.js reads.');
  src.notes.push(...graph.notes);
  let prepared = prepare(src, graph);
  if (!prepared.ok) {
    const keep = cutAt ? ancestors(graph, cutAt) : undefined;
    if (!keep || prepared.bad.some((b) => keep.has(b.name))) throw unsupportedError(src.where, prepared.bad);
    const bad = prepared.bad;
    graph = trimTo(graph, keep, cutAt!);
    prepared = prepare(src, graph);
    if (!prepared.ok) throw unsupportedError(src.where, prepared.bad);
    src.notes.push(`Layers after '${cutAt}' were not loaded (${bad.map((b) => `${b.name}: ${b.className}`).join(', ')} cannot run in TensorFlow.js).`);
  }
  const { graph: rewritten, weights, notes } = prepared.value;
  src.notes.push(...notes);
  const topology = toTfjsTopology(rewritten, src.notes);
  let model: tfTypes.LayersModel;
  try {
    model = await t.models.modelFromJSON(topology as never);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    const unknown = /Unknown (?:layer|activation|initializer|regularizer|constraint)[^:]*: ?([\w.]+)/i.exec(msg);
    throw new BackboneError(
      'backbone',
      `${src.where}: TensorFlow.js cannot build this model (${msg})${unknown ? `; '${unknown[1]}' is not supported` : ''}. If a layer is the problem, cut the model before it with backbone.cutAt.`,
      src.where,
    );
  }
  if (!src.weightsOf) {
    if (model.weights.length > 0) {
      model.dispose();
      throw new BackboneError(
        'backbone',
        `${src.where}: the file lists no weights, so the network would be untrained. Save or export the model with its weights.`,
        src.where,
      );
    }
    return { model, cutAt };
  }
  try {
    setWeights(model, weights, src);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, cutAt };
}
