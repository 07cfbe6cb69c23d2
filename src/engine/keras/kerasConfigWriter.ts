// A TensorFlow.js layers model as Keras 3's config.json (the Functional model Keras 3's
// `model.save("x.keras")` writes: module/class_name/config/registered_name per layer,
// inbound nodes as {args, kwargs} of `__keras_tensor__`s with their shapes) plus its
// variables, each under the path Keras 3's weights file keeps it at
// (`layers/<snake_case class>[_N]/vars/<i>`, numbered per class in layer order, as
// keras/src/saving/saving_lib.py names them and kerasWeights.ts reads them back).
import type * as tfTypes from '@tensorflow/tfjs';
import { isObj, type Json } from './kerasGraph';
import { toSnakeCase } from './kerasWeights';
import { KerasExportError, kerasLayerConfig, kerasVariableName, kerasVariableOrder, takesInputList } from './kerasLayerMap';

/** One layer's variables in Keras 3's order, under its path in model.weights.h5. */
export interface KerasLayerVariables {
  /** e.g. `layers/batch_normalization_3` */
  path: string;
  layerName: string;
  /** `role`: the variable's name in Keras 3 (kernel, bias, gamma, moving_mean…), for the legacy .h5's weight names. */
  values: { role: string; shape: number[]; data: Float32Array }[];
}

export interface KerasModelParts {
  /** config.json's object. */
  config: Json;
  modelName: string;
  /** Every layer (InputLayer and weightless ones too: Keras 3 writes a group for each). */
  layers: KerasLayerVariables[];
}

type TfjsRef = [string, number, number, Json?];
interface TfjsLayerEntry {
  class_name: string;
  name?: string;
  config: Json;
  inbound_nodes: TfjsRef[][];
}

/** The output shape of a layer's node, as the tensor that leaves it ([null, h, w, c]). */
function outputShape(model: tfTypes.LayersModel, [name, node, tensor]: TfjsRef): (number | null)[] {
  const layer = model.getLayer(name);
  const shapes = layer.inboundNodes[node]?.outputShapes;
  const shape = Array.isArray(shapes?.[0]) ? (shapes as (number | null)[][])[tensor] : (shapes as (number | null)[] | undefined);
  if (!shape) throw new KerasExportError(`layer '${name}': no output shape for node ${node}; the model is not a connected graph`);
  return [...shape];
}

function kerasTensor(model: tfTypes.LayersModel, ref: TfjsRef): Json {
  return { class_name: '__keras_tensor__', config: { shape: outputShape(model, ref), dtype: 'float32', keras_history: [ref[0], ref[1], ref[2]] } };
}

function kerasNode(model: tfTypes.LayersModel, entry: TfjsLayerEntry, refs: TfjsRef[], name: string): Json {
  const kwargs = refs[0]?.[3];
  if (isObj(kwargs) && Object.keys(kwargs).length > 0)
    throw new KerasExportError(`layer '${name}': called with arguments (${Object.keys(kwargs).join(', ')}) that are not written for Keras 3 yet`);
  const tensors = refs.map((r) => kerasTensor(model, r));
  const args = takesInputList(entry.class_name) || tensors.length > 1 ? [tensors] : tensors;
  return { args, kwargs: {} };
}

function layerVariables(model: tfTypes.LayersModel, entry: TfjsLayerEntry, name: string, path: string): KerasLayerVariables {
  const weights = model.getLayer(name).weights;
  const order = kerasVariableOrder(
    entry.class_name,
    name,
    weights.map((w) => w.originalName),
  );
  const values = order.map((i) => ({
    role: kerasVariableName(entry.class_name, weights[i].originalName),
    shape: [...weights[i].shape] as number[],
    data: weights[i].read().dataSync() as Float32Array,
  }));
  return { path, layerName: name, values };
}

const tensorRef = (r: unknown) => (Array.isArray(r) ? [r[0], r[1], r[2]] : r);

/** config.json's object and the variables, for a single-graph (Functional) TF.js model. */
export function kerasModelParts(model: tfTypes.LayersModel): KerasModelParts {
  const topology = model.toJSON(null, false) as unknown as { class_name: string; config: Json };
  const config = topology.config;
  if (!Array.isArray(config.layers)) throw new KerasExportError(`model '${model.name}': not a functional model (no layer list in its topology)`);
  const used = new Map<string, number>();
  const layers: Json[] = [];
  const variables: KerasLayerVariables[] = [];
  for (const raw of config.layers as TfjsLayerEntry[]) {
    const name = String(raw.name ?? raw.config.name);
    if (raw.class_name === 'Model' || raw.class_name === 'Functional' || raw.class_name === 'Sequential')
      throw new KerasExportError(`layer '${name}': a nested model; Transfer Lab writes flat models for Keras 3 (the run's model is always flat)`);
    const snake = toSnakeCase(raw.class_name);
    const n = used.get(snake);
    used.set(snake, n === undefined ? 0 : n + 1);
    const path = `layers/${n === undefined ? snake : `${snake}_${n + 1}`}`;
    layers.push({
      module: 'keras.layers',
      class_name: raw.class_name,
      config: kerasLayerConfig(raw.class_name, name, raw.config),
      registered_name: null,
      name,
      inbound_nodes: raw.inbound_nodes.map((refs) => kerasNode(model, raw, refs, name)),
    });
    variables.push(layerVariables(model, raw, name, path));
  }
  const ends = (key: string) => {
    const refs = (config[key] as unknown[]).map(tensorRef);
    return refs.length === 1 ? refs[0] : refs;
  };
  const modelName = String(config.name ?? model.name);
  return {
    config: {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: { name: modelName, trainable: true, layers, input_layers: ends('input_layers'), output_layers: ends('output_layers') },
      registered_name: 'Functional',
      build_config: { input_shape: null },
    },
    modelName,
    layers: variables,
  };
}
