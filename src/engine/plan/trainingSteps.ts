// The training plan's steps (made by trainingPlanner.ts, run by trainingRun.ts): a custom-
// gradient block, a step of plain ops, or a layer run as itself; `head` is the layer an error names.
import type * as tfTypes from '@tensorflow/tfjs';
import type { ActivationOp, ConvOp, LayerNormOp, NormOp } from './trainingBlocks';
import type { Step as OpStep } from './inferenceNodes';
import type { LayersByClass } from './planReport';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;

export interface TrainingPlanStats {
  /** Custom-gradient ops. */
  blocks: number;
  /** Layers run as TensorFlow.js layers under autodiff. */
  generic: number;
  /** Normalisations run as plain ops (no gamma or beta). */
  normOps: number;
  /** Layers of the model (its input layers not counted). */
  layers: number;
  /** Layers inside the custom-gradient blocks. */
  blockLayers: number;
  /** Parameter-free layers run as their TensorFlow.js ops. */
  ops: number;
  /** The layers run as TensorFlow.js layers (`generic` of them), by class. */
  plain: LayersByClass;
}

interface StepBase {
  name: string;
  inputs: string[];
  /** The layer named in error messages. */
  head: Layer;
}
export interface ConvBlock extends StepBase {
  kind: 'conv-block';
  conv: Layer;
  /** Where the kernel and bias are among the layer's weights (bias null: none), and the kernel's 4-D shape if it is not 4-D (Dense). */
  kernelIndex: number;
  biasIndex: number | null;
  reshape: number[] | null;
  depthwise: boolean;
  bn: Layer | null;
  /** One custom-gradient op per block, made once. */
  op: ConvOp;
}
export type TrainingStep =
  | ConvBlock
  | (StepBase & { kind: 'bn-block'; bn: Layer; op: NormOp })
  | (StepBase & { kind: 'ln-block'; ln: Layer; op: LayerNormOp })
  | (StepBase & { kind: 'act-block'; op: ActivationOp })
  | (StepBase & { kind: 'depthwise'; layer: Layer; strides: [number, number]; dilations: [number, number]; pad: 'same' | 'valid' })
  | (StepBase & { kind: 'ops'; step: OpStep })
  | (StepBase & { kind: 'norm-ops'; layer: Layer })
  | (StepBase & { kind: 'layer'; layer: Layer });

/** The plan's steps in order, the value that is the model's output, and the tensors the steps own (the caller disposes them). */
export interface PlannedSteps {
  steps: TrainingStep[];
  inputNames: string[];
  output: string;
  stats: TrainingPlanStats;
  owned: Tensor[];
}
