// Lean fine-tuning of the trainable part of a base. TensorFlow.js differentiates a Keras
// block (convolution, BatchNormalization in inference mode as the Keras rule has it, ReLU6)
// op by op and keeps every intermediate tensor for the backward pass: the normalised
// activation, its shifted and scaled copies, relu's and clip's inputs. Here each block is one
// custom-gradient op (plan/trainingBlocks.ts) that keeps only its input and the convolution's
// output, and computes the gradients of the kernel, bias, gamma and beta in closed form (the
// moving statistics are constants in inference mode). Results equal autodiff's; memory per
// block drops to two activations.
//
// What is a block, and which step each layer becomes: plan/trainingPlanner.ts; how each step
// runs: plan/trainingRun.ts.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf } from './tf';
import { layerGraph } from './layerGraph';
import { inLayer } from './stageError';
import type { PlanActivation } from './plan/activations';
import { describeByClass } from './plan/planReport';
import type { TrainingPlanStats, TrainingStep } from './plan/trainingSteps';
import { planTrainingSteps } from './plan/trainingPlanner';
import { trainingStepRunner } from './plan/trainingRun';

export type { TrainingPlanStats };

type Tensor = tfTypes.Tensor;
type LayersModel = tfTypes.LayersModel;

/** Activations a block computes (and differentiates) itself. */
export type BlockActivation = PlanActivation;

export interface TrainingPlanOptions {
  /** BatchNorm in training mode (scratch): nothing is fused, layers run with training=true. */
  training?: boolean;
}

export interface TrainingPlan {
  /** The model's output for its inputs, differentiable with respect to the model's own variables. */
  apply(inputs: Tensor[]): Tensor;
  /** blocks: custom-gradient ops; normOps: normalisations run as plain ops; generic: layers run as themselves. */
  readonly stats: TrainingPlanStats;
  dispose(): void;
}

/** The run log's line: what the lean blocks take and which layers fell back to autodiff. */
export function describeTrainingPlan(s: TrainingPlanStats, training = false): string {
  const head = `lean fine-tuning (training plan): ${s.blocks} custom-gradient block(s) for ${s.blockLayers} of ${s.layers} layers, ${s.ops} layer(s) as plain ops, ${s.normOps} normalisation(s) as plain ops${training ? ' (BatchNorm in training mode: nothing fused)' : ''}`;
  return s.generic === 0 ? `${head}; none fell back to autodiff` : `${head}; fell back to autodiff: ${describeByClass(s.plain)}`;
}

export function compileTrainingPlan(model: LayersModel, options: TrainingPlanOptions = {}): TrainingPlan {
  const t = tf();
  const training = options.training === true;
  if (model.outputs.length !== 1) throw new Error(`the model has ${model.outputs.length} outputs; the training plan handles one`);
  const graph = layerGraph(model, (m) => new Error(m));
  const { steps, inputNames, output, stats, owned } = planTrainingSteps(model, graph, training);
  const run = trainingStepRunner(owned, training);
  return {
    stats,
    apply(inputs: Tensor[]): Tensor {
      const values = new Map<string, Tensor>(inputNames.map((n, i) => [n, inputs[i]]));
      let current: TrainingStep | undefined;
      try {
        for (const s of steps) {
          current = s;
          values.set(
            s.name,
            run(
              s,
              s.inputs.map((n) => values.get(n)!),
            ),
          );
        }
      } catch (e) {
        // A failure inside TensorFlow.js names the layer it happened in.
        throw current ? inLayer(e, current.head.name, current.head.getClassName()) : e;
      }
      // Intermediates are the caller's tidy's (the tape needs them until the backward pass).
      return values.get(output)!;
    },
    dispose() {
      t.dispose(owned);
    },
  };
}
