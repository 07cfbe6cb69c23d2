// An inference-only plan for the frozen part of a network. A Keras-style layers model runs a
// convolution, then BatchNormalization as seven small ops (three passes over the activation),
// then ReLU6 as relu + clip (two more). Frozen, all of that is one affine map and a clamp:
// BatchNorm is folded into the convolution's weights and bias once, ZeroPadding2D goes into
// the convolution's explicit padding, and each convolution runs as one fused op (conv + bias
// + activation) where the backend has one. Tensors are freed as soon as their last consumer
// has run, so memory does not grow with depth.
//
// The Keras Applications zoo is covered layer by layer (plan/inferenceNodes.ts): Conv2D,
// DepthwiseConv2D and SeparableConv2D with any activation of plan/activations.ts (relu, relu6,
// swish, gelu, sigmoid, hard-swish, ...), Dense (per pixel on 4-D tensors: ConvNeXt's
// pointwise layers, a 1x1 convolution), BatchNormalization and LayerNormalization, Rescaling,
// Add, Multiply (squeeze-excite), Concatenate, pooling, padding, cropping, Reshape; the
// loader's multi-layer spellings of hard_sigmoid / hard_silu run as one activation. What can
// fold does (plan/inferenceFolding.ts). Anything else runs as the layer itself (in inference
// mode), so the plan is always correct; `stats.plain` names those layers for the run log.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';
import { activationGroups, layerGraph, type LayerGraph } from './layerGraph';
import { inLayer } from './stageError';
import { InferencePlanError, stepTensors, translateLayer, type Step } from './plan/inferenceNodes';
import { foldSteps } from './plan/inferenceFolding';
import { nativeConvFor, runStep } from './plan/inferenceRun';
import type { NativeConv } from './plan/nativeOps';
import { addByClass, describeByClass, type LayersByClass } from './plan/planReport';

export { InferencePlanError };

type Tensor = tfTypes.Tensor;
type Tensor4D = tfTypes.Tensor4D;
type LayersModel = tfTypes.LayersModel;

export interface InferencePlanStats {
  steps: number;
  /** BatchNormalization layers folded into a convolution's weights. */
  folded: number;
  paddingsMerged: number;
  /** Layers run as the TensorFlow.js layer itself. */
  generic: number;
  /** Layers of the model the plan computes (the input layer and layers past the output not counted). */
  layers: number;
  /** Convolutions run as one native TensorFlow kernel (conv + bias [+ residual] [+ activation]: plan/nativeOps.ts). */
  nativeFused: number;
  /** The layers run as TensorFlow.js layers (`generic` of them), by class. */
  plain: LayersByClass;
}

export interface InferencePlan {
  /** Output of the planned layer for a batch of images; the caller owns (and disposes) both. */
  run(x: Tensor4D): Tensor;
  /** Frees the folded weights (the model's own weights are untouched). */
  dispose(): void;
  /** What was fused, for logs and tests. */
  readonly stats: InferencePlanStats;
}

export interface InferencePlanOptions {
  /** Stop at this layer (its output is the plan's output). Default: the model's output. */
  upTo?: string;
}

/** The run log's line: how many layers the fast path computes and which ran as plain layers. */
export function describeInferencePlan(s: InferencePlanStats): string {
  const head = `fast path: ${s.layers - s.generic} of ${s.layers} layers planned (${s.folded} BatchNorm folded, ${s.nativeFused} fused convolutions, ${s.paddingsMerged} paddings merged)`;
  return s.generic === 0 ? `${head}; none ran as plain tfjs layers` : `${head}; these ran as plain tfjs layers: ${describeByClass(s.plain)}`;
}

export function compileInferencePlan(model: LayersModel, opts: InferencePlanOptions = {}): InferencePlan {
  const t = tf();
  if (model.inputs.length !== 1) throw new InferencePlanError(`the model has ${model.inputs.length} inputs; the plan handles one`);
  const inputName = model.inputLayers[0].name;

  const graph = layerGraph(model, (m) => new InferencePlanError(m));
  const outputName = opts.upTo ?? model.outputLayers[0].name;
  if (!graph.byName.has(outputName)) throw new InferencePlanError(`no layer named '${outputName}'`);
  if (!opts.upTo && model.outputs.length !== 1) throw new InferencePlanError(`the model has ${model.outputs.length} outputs; the plan handles one`);

  const { steps, counts, layers, plain, output } = planSteps(model, graph, inputName, outputName);
  const owned = stepTensors(steps);
  const kernels = new Map<Step, NativeConv>();
  for (const s of steps) {
    const k = nativeConvFor(s);
    if (k) kernels.set(s, k);
  }
  const stats: InferencePlanStats = {
    steps: steps.length,
    ...counts,
    generic: steps.filter((s) => s.op === 'layer').length,
    layers,
    nativeFused: kernels.size,
    plain,
  };

  // How many steps read each value: a value is freed after its last reader.
  const readers = new Map<string, number>();
  for (const s of steps) for (const i of s.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);

  return {
    stats,
    run: (x: Tensor4D): Tensor => runSteps({ steps, kernels, readers, inputName, output }, x),
    dispose() {
      t.dispose(owned);
      owned.length = 0;
    },
  };
}

/** The layers `outputName` depends on (itself included). */
function neededFor(inputsOf: Map<string, string[]>, outputName: string): Set<string> {
  const needed = new Set<string>();
  const visit = (n: string) => {
    if (needed.has(n)) return;
    needed.add(n);
    for (const i of inputsOf.get(n) ?? []) visit(i);
  };
  visit(outputName);
  return needed;
}

interface TranslatedSteps {
  steps: Step[];
  counts: { folded: number; paddingsMerged: number };
  /** Layers the steps compute. */
  layers: number;
  plain: LayersByClass;
  /** The value that is the plan's output. */
  output: string;
}

/** The steps from the input to `outputName`: each layer translated (plan/inferenceNodes.ts), then folded. */
function planSteps(model: LayersModel, graph: LayerGraph, inputName: string, outputName: string): TranslatedSteps {
  const t = tf();
  const { byName, inputsOf, consumers } = graph;
  const needed = neededFor(inputsOf, outputName);
  const neededConsumers = (n: string) => (consumers.get(n) ?? []).filter((c) => needed.has(c));
  const groups = activationGroups(graph, neededConsumers, (n) => n === outputName);
  const inGroup = new Set([...groups.values()].flatMap((g) => g.members));

  const rename = new Map<string, string>(); // identity layer -> the value it passes on
  const source = (n: string) => rename.get(n) ?? n;
  const plain: LayersByClass = {};
  let layers = 0;
  let steps: Step[] = [];
  let counts = { folded: 0, paddingsMerged: 0 };
  // Weights are translated and folded inside one tidy: only what the final steps hold stays.
  t.tidy(() => {
    for (const layer of model.layers) {
      const name = layer.name;
      if (!needed.has(name) || name === inputName) continue;
      layers++;
      const group = groups.get(name);
      if (group) {
        const first = byName.get(group.members[0])!;
        steps.push({
          name,
          inputs: [source(group.input)],
          covers: group.members,
          head: { name: first.name, className: first.getClassName() },
          op: 'act',
          act: group.activation,
        });
        continue;
      }
      if (inGroup.has(name)) continue; // computed by its group's step
      const inputs = (inputsOf.get(name) ?? []).map(source);
      const translated = translateLayer(layer, inputs, graph);
      if (translated && 'identity' in translated) {
        rename.set(name, inputs[0]);
      } else if (translated) {
        steps.push(...translated.steps);
      } else {
        steps.push({ name, inputs, covers: [name], head: { name, className: layer.getClassName() }, op: 'layer', layer });
        addByClass(plain, layer.getClassName(), name);
      }
    }
    ({ steps, counts } = foldSteps(steps, new Set([source(outputName)])));
    for (const tensor of stepTensors(steps)) t.keep(tensor);
  });
  return { steps, counts, layers, plain, output: source(outputName) };
}

interface CompiledSteps {
  steps: Step[];
  kernels: Map<Step, NativeConv>;
  /** How many steps read each value. */
  readers: Map<string, number>;
  inputName: string;
  output: string;
}

/** The plan's output for `x`, freeing each intermediate after its last reader (and all of them on a failure). */
function runSteps({ steps, kernels, readers, inputName, output }: CompiledSteps, x: Tensor4D): Tensor {
  const t = tf();
  const values = new Map<string, Tensor>([[inputName, x]]);
  const left = new Map(readers);
  const take = (n: string): Tensor => {
    const v = values.get(n);
    if (!v) throw new InferencePlanError(`internal: '${n}' has no value`);
    return v;
  };
  const release = (n: string) => {
    const r = (left.get(n) ?? 0) - 1;
    left.set(n, r);
    if (r === 0 && n !== inputName && n !== output) {
      values.get(n)!.dispose();
      values.delete(n);
    }
  };
  let current: Step | undefined;
  try {
    for (const s of steps) {
      current = s;
      const ins = s.inputs.map(take);
      values.set(
        s.name,
        t.tidy(() => runStep(s, ins, kernels.get(s))),
      );
      for (const i of s.inputs) release(i);
    }
    const out = values.get(output) ?? (output === inputName ? x.clone() : undefined);
    if (!out) throw new InferencePlanError(`internal: no output '${output}'`);
    values.delete(output);
    return out;
  } catch (e) {
    // A failure inside TensorFlow.js names the layer it happened in.
    throw current ? inLayer(e, current.head.name, current.head.className) : e;
  } finally {
    for (const [n, v] of values) if (n !== inputName) v.dispose();
  }
}
