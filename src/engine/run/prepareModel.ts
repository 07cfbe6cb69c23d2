// The run's model stages: load the backbone (downloading it when needed), then cut it into
// a frozen prefix, a trainable base and a new head, and decide how the prefix runs.
import type * as tfTypes from '@tensorflow/tfjs';
import type { ResolvedExperiment } from '../../core/experiment';
import { updateRun } from '../../core/runStore';
import { describePixelTransform, interpolationOf, kerasResizeArguments } from '../../core/preprocessing';
import { loadBackbone, assertFineTunable, type LoadedBackbone } from '../backboneLoader';
import { splitModel, graphModelSplit, type SplitModel } from '../modelSurgery';
import { compileInferencePlan, describeInferencePlan, InferencePlanError } from '../inferencePlan';
import { kerasJpegDecoder } from '../imageDecode';
import { tf } from '../tf';
import type { RunContext, RunResources } from './runContext';

/** How images become the model's input: size, pixel transform, resize and JPEG decoder. */
export interface PixelInput {
  size: [number, number];
  preprocessing: LoadedBackbone['preprocessing'];
  preprocessingFrom: LoadedBackbone['preprocessingFrom'];
  resize: ResolvedExperiment['data']['resize'];
  jpegDecoder: 'tensorflow' | 'libvips';
}

/** The frozen prefix, run once per image (and view) in inference mode, outside any tape; null when nothing is frozen. */
export type RunPrefix = ((images: tfTypes.Tensor4D) => tfTypes.Tensor[]) | null;

export interface PreparedModel {
  backbone: LoadedBackbone;
  split: SplitModel;
  pixels: PixelInput;
  runPrefix: RunPrefix;
}

/** Loads and cuts the backbone (stages 'loading', then 'building'); records the preprocessing and the cut in run.json. */
export async function prepareModel(ctx: RunContext, res: RunResources): Promise<PreparedModel> {
  const t0 = Date.now();
  const backbone = await loadRunBackbone(ctx, res);
  ctx.stage = 'building';
  const pixels = recordPixelInput(ctx, backbone);
  const { split, runPrefix } = await cutBackbone(ctx, res, backbone, pixels.size);
  ctx.phaseTimes.loadBackboneMs = Date.now() - t0;
  ctx.log(
    `cut at ${split.plan.cutAt}; frozen ${split.plan.frozen.length} layers, trainable ${split.plan.trainable.length}; boundary ${split.plan.boundary.join(', ')}`,
  );
  updateRun(ctx.runDir, { freeze: split.plan });
  return { backbone, split, pixels, runPrefix };
}

async function loadRunBackbone(ctx: RunContext, res: RunResources): Promise<LoadedBackbone> {
  const { opts, experiment, forward } = ctx;
  forward({ type: 'phase', phase: 'loading-backbone', message: `Loading backbone ${describeBackbone(experiment)}` });
  const backbone = await loadBackbone(experiment.backbone, {
    installRoot: opts.installRoot,
    cacheDir: opts.cacheDir,
    onProgress: (loaded: number, total?: number) =>
      forward({ type: 'phase', phase: 'loading-backbone', message: downloadMessage(loaded, total), done: loaded, total }),
  });
  res.backbone = backbone;
  // What the loader assumed or rewrote (a guessed value range, a converted config, the cut
  // it chose) is said on the terminal and in the dashboard, and kept in log.txt and run.json.
  for (const note of backbone.notes) forward({ type: 'warning', message: note });
  if (backbone.notes.length > 0) updateRun(ctx.runDir, { notes: backbone.notes });
  assertFineTunable(backbone, experiment.strategy.kind);
  return backbone;
}

function recordPixelInput(ctx: RunContext, backbone: LoadedBackbone): PixelInput {
  const [h, w] = [backbone.inputShape[0], backbone.inputShape[1]];
  // Keras's preprocess_input mode, as the loader decided it (the experiment file first).
  const { preprocessing, preprocessingFrom } = backbone;
  const resize = ctx.experiment.data.resize;
  const asKeras = kerasResizeArguments(resize);
  const jpegDecoder = resize === 'center-crop' ? 'libvips' : kerasJpegDecoder();
  ctx.log(
    `preprocessing: ${describePixelTransform(preprocessing)} (from the ${preprocessingFrom}); resize: ${resize} (${interpolationOf(resize)}${asKeras ? `, as Keras image_dataset_from_directory(${asKeras})` : ''}) to ${h}x${w}; JPEGs decoded by ${jpegDecoder}`,
  );
  updateRun(ctx.runDir, {
    preprocessing: { ...preprocessing, from: preprocessingFrom, resize, interpolation: interpolationOf(resize), inputSize: [h, w], jpegDecoder },
  });
  return { size: [h, w], preprocessing, preprocessingFrom, resize, jpegDecoder };
}

async function cutBackbone(
  ctx: RunContext,
  res: RunResources,
  backbone: LoadedBackbone,
  [h, w]: [number, number],
): Promise<{ split: SplitModel; runPrefix: RunPrefix }> {
  const { experiment, dataset } = ctx;
  if (backbone.kind === 'graph') {
    const graph = backbone.model;
    const node = backbone.cutAt;
    const runPrefix: RunPrefix = (images) => [graph.execute(images, node) as tfTypes.Tensor];
    const featureShape = tf().tidy(() => runPrefix(tf().zeros([1, h, w, 3]) as tfTypes.Tensor4D)[0].shape.slice(1));
    res.split = graphModelSplit(node, featureShape, experiment.head, dataset.classes.length, experiment.train.seed);
    return { split: res.split, runPrefix };
  }
  const split = await splitModel(backbone.model, backbone.cutAt, experiment.strategy, experiment.head, dataset.classes.length, experiment.train.seed);
  res.split = split;
  return { split, runPrefix: frozenPrefixOf(ctx, res, split) };
}

/** The frozen prefix as an inference-only plan (BatchNorm folded, fused convolutions); model.predict for what the plan does not take (several boundary tensors). */
function frozenPrefixOf(ctx: RunContext, res: RunResources, split: SplitModel): RunPrefix {
  const prefix = split.prefix;
  try {
    res.frozenPlan = prefix && prefix.outputs.length === 1 ? compileInferencePlan(prefix) : null;
  } catch (e) {
    if (!(e instanceof InferencePlanError)) throw e;
    ctx.log(`frozen layers run with model.predict: ${e.message}`);
  }
  const plan = res.frozenPlan;
  const runPrefix: RunPrefix = plan
    ? (images) => [plan.run(images)]
    : prefix
      ? (images) => {
          const out = prefix.predict(images, { batchSize: images.shape[0] });
          return Array.isArray(out) ? out : [out];
        }
      : null;
  if (plan) ctx.log(`frozen layers: inference plan; ${describeInferencePlan(plan.stats)}`);
  return runPrefix;
}

function describeBackbone(e: ResolvedExperiment): string {
  const b = e.backbone;
  return 'catalog' in b ? b.catalog : 'path' in b ? b.path : b.url;
}

/** "Downloading backbone: 5.3 of 16.0 MB (33%)" (the total when the server says it). */
export function downloadMessage(loaded: number, total?: number): string {
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  return total ? `Downloading backbone: ${mb(loaded)} of ${mb(total)} MB (${Math.floor((100 * loaded) / total)}%)` : `Downloading backbone: ${mb(loaded)} MB`;
}
