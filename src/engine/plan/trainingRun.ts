// How each training-plan step (trainingSteps.ts) computes its value. The blocks read the
// layers' own variables at every call, so the tape sees them and their gradients reach the
// optimizer; a part a layer does not have (bias, gamma, beta, a convolution's missing
// BatchNorm) is a constant of the right value, made once and owned by the plan.
import type * as tfTypes from '@tensorflow/tfjs';
import { tf, type Tf } from '../tf';
import { normalizeWithOps, normParts } from './trainingBlocks';
import { runStep } from './inferenceRun';
import type { ConvBlock, TrainingStep } from './trainingSteps';

type Tensor = tfTypes.Tensor;
type Layer = tfTypes.layers.Layer;

interface BlockParams {
  /** gamma and beta of a normalisation layer. */
  scaleAndOffset(key: string, layer: Layer, channels: number): Tensor[];
  /** gamma, beta, mean, variance of a block's BatchNorm: the layer's own variables, constants where a part is absent. */
  norm(key: string, bn: Layer | null, channels: number): Tensor[];
  /** The conv block's kernel, bias and BatchNorm parameters. */
  conv(s: ConvBlock): Tensor[];
}

/** The blocks' parameters; constants go to `owned` (the plan disposes them). */
function blockParams(t: Tf, owned: Tensor[]): BlockParams {
  const constants = new Map<string, Tensor>();
  const constant = (key: string, channels: number, value: number) => {
    let found = constants.get(key);
    if (!found) {
      found = t.keep(t.fill([channels], value));
      constants.set(key, found);
      owned.push(found);
    }
    return found;
  };
  const scaleAndOffset = (key: string, layer: Layer, channels: number): Tensor[] => {
    const p = normParts(layer);
    return [p.gamma ? p.gamma.read() : constant(`${key}/gamma`, channels, 1), p.beta ? p.beta.read() : constant(`${key}/beta`, channels, 0)];
  };
  const norm = (key: string, bn: Layer | null, channels: number): Tensor[] => {
    if (!bn)
      return [
        constant(`${key}/gamma`, channels, 1),
        constant(`${key}/beta`, channels, 0),
        constant(`${key}/mean`, channels, 0),
        constant(`${key}/variance`, channels, 1),
      ];
    const p = normParts(bn);
    return [...scaleAndOffset(key, bn, channels), p.movingMean!.read(), p.movingVariance!.read()];
  };
  const conv = (s: ConvBlock): Tensor[] => {
    const raw = s.conv.weights[s.kernelIndex].read();
    const kernel = s.reshape ? t.reshape(raw, s.reshape) : raw;
    const channels = s.depthwise ? (kernel.shape[2] as number) * (kernel.shape[3] as number) : (kernel.shape[3] as number);
    const b = s.biasIndex === null ? constant(`${s.name}/bias`, channels, 0) : s.conv.weights[s.biasIndex].read();
    return [kernel, b, ...norm(s.name, s.bn, channels)];
  };
  return { scaleAndOffset, norm, conv };
}

/** Runs a step on its inputs' values; `training`: BatchNorm in training mode. Constants it makes go to `owned`. */
export function trainingStepRunner(owned: Tensor[], training: boolean): (s: TrainingStep, ins: Tensor[]) => Tensor {
  const t = tf();
  const params = blockParams(t, owned);
  return (s, ins) => {
    const x = ins[0];
    switch (s.kind) {
      case 'conv-block': {
        const [w, b, gamma, beta, mean, variance] = params.conv(s);
        return s.op(x, w, b, gamma, beta, mean, variance);
      }
      case 'bn-block': {
        const [gamma, beta, mean, variance] = params.norm(s.name, s.bn, x.shape[x.rank - 1] as number);
        return s.op(x, gamma, beta, mean, variance);
      }
      case 'ln-block': {
        const [gamma, beta] = params.scaleAndOffset(s.name, s.ln, x.shape[x.rank - 1] as number);
        return s.op(x, gamma, beta);
      }
      case 'act-block':
        return s.op(x);
      case 'depthwise':
        return t.depthwiseConv2d(x as tfTypes.Tensor4D, s.layer.weights[0].read() as tfTypes.Tensor4D, s.strides, s.pad, 'NHWC', s.dilations);
      case 'ops':
        return runStep(s.step, ins, undefined);
      case 'norm-ops':
        return normalizeWithOps(s.layer, x, training);
      default:
        return s.layer.apply(ins.length === 1 ? x : ins, { training }) as Tensor;
    }
  };
}
