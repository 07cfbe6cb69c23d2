// What the layer probe recommends: the seeds' four situations (small/large data x
// similar/different to the backbone's data) decided by measurement instead of by asking.
// "Similar" is what the probe curve shows: the last block's features separate the user's
// classes best. A peak before the last block means the late, specific features do not fit
// this data: cut at the peak. Everything low means the backbone's features do not separate
// these classes at any depth: transfer may not pay, and a study against scratch says. Pure.
import type { ProbeAdvice } from './probeFile';
import { SMALL_DATASET_PER_CLASS, type StrategyAdvice } from './strategyAdvisor';

export interface ProbePoint {
  block: string;
  layer: string;
  firstLayer: string;
  accuracy: number;
  logme: number;
}

export interface ProbeAdviceInput {
  /** In depth order; the last one ends at the backbone's usual cut. */
  blocks: readonly ProbePoint[];
  imagesPerClass: number;
  classes: number;
  /** Validation images the accuracies were measured on (0: leave-one-out on train). */
  valCount: number;
  backbone: string;
  /** Graph models cannot be fine-tuned. */
  fineTunable: boolean;
}

/** Accuracy below chance + this share of the way to 100% counts as low: the features barely separate the classes. */
export const LOW_SCORE_SHARE = 0.3;
/** Above chance + this share, the last block's features fit the data well: fine-tuning only the last block(s) is enough. */
export const HIGH_SCORE_SHARE = 0.75;

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** "probe accuracy rises from 41% at block_1 to 83% at block_13 and falls to 79% at out_relu; LogME peaks at block_13; 24 images per class". */
export function measuredSentence(blocks: readonly ProbePoint[], imagesPerClass: number): string {
  if (blocks.length === 0) return 'nothing was probed';
  const first = blocks[0];
  const last = blocks.at(-1)!;
  const peak = blocks[peakIndex(blocks)];
  const logmePeak = blocks.reduce((b, x) => (x.logme > b.logme ? x : b), blocks[0]);
  let curve: string;
  if (blocks.length === 1) curve = `probe accuracy is ${pct(first.accuracy)} at ${first.block}`;
  else if (peak === first)
    curve = `probe accuracy is highest at ${first.block} (${pct(first.accuracy)}) and ${last.accuracy < first.accuracy ? 'falls' : 'stays'} to ${pct(last.accuracy)} at ${last.block}`;
  else {
    curve = `probe accuracy rises from ${pct(first.accuracy)} at ${first.block} to ${pct(peak.accuracy)} at ${peak.block}`;
    if (peak !== last)
      curve += ` and ${last.accuracy < peak.accuracy ? 'falls to' : 'is'} ${pct(last.accuracy)} at ${last.block}${last.accuracy < peak.accuracy ? '' : ' too'}`;
  }
  const per = Math.round(imagesPerClass);
  return `${curve}; LogME peaks at ${logmePeak.block}; ${per} image${per === 1 ? '' : 's'} per class`;
}

/** The first block with the highest accuracy (earlier wins a tie: more generic features, a smaller model). */
function peakIndex(blocks: readonly ProbePoint[]): number {
  let best = 0;
  for (let i = 1; i < blocks.length; i++) if (blocks[i].accuracy > blocks[best].accuracy) best = i;
  return best;
}

export function adviseFromProbe(input: ProbeAdviceInput): ProbeAdvice {
  const { blocks, imagesPerClass, classes, valCount, backbone, fineTunable } = input;
  if (blocks.length === 0) throw new Error('adviseFromProbe: no block was probed');
  const measured = measuredSentence(blocks, imagesPerClass);
  const chance = 1 / Math.max(2, classes);
  const small = imagesPerClass < SMALL_DATASET_PER_CLASS;
  const lastIndex = blocks.length - 1;
  const last = blocks[lastIndex];
  const p = peakIndex(blocks);
  const peak = blocks[p];
  // One validation image either way is noise: a peak must beat the last block by more.
  const margin = Math.max(0.02, valCount > 0 ? 1 / valCount : 0);
  const earlier = p < lastIndex && peak.accuracy - last.accuracy >= margin - 1e-9;
  const low = peak.accuracy < chance + LOW_SCORE_SHARE * (1 - chance);
  const base = { measured, lowScore: low };
  const cut = earlier ? { cutAt: peak.layer } : {};

  if (low) {
    if (!small && fineTunable)
      return {
        ...base,
        situation: 'large-different',
        strategy: { kind: 'scratch' },
        title: 'Transfer may not pay: train from scratch as the baseline',
        reason: `${backbone}'s features separate these ${classes} classes little at any depth (best ${pct(peak.accuracy)} at ${peak.block}, chance ${pct(chance)}), and there is enough data to train the network itself. Run a data-efficiency study (scratch against fine-tuning) before trusting either.`,
      };
    return {
      ...base,
      ...cut,
      block: peak.block,
      situation: 'small-different',
      strategy: { kind: 'feature-extraction' },
      title: `Transfer may not pay: feature extraction${earlier ? ` cut at ${peak.block}` : ''}, checked against scratch`,
      reason: `${backbone}'s features separate these ${classes} classes little at any depth (best ${pct(peak.accuracy)} at ${peak.block}, chance ${pct(chance)}). Feature extraction is the cheapest try; run a data-efficiency study against scratch, or probe another backbone.`,
    };
  }
  if (!fineTunable || small) {
    return {
      ...base,
      ...cut,
      block: peak.block,
      situation: earlier ? 'small-different' : 'small-similar',
      strategy: { kind: 'feature-extraction' },
      title: earlier ? `Feature extraction, cut earlier at ${peak.block}` : 'Feature extraction (frozen backbone, new head)',
      reason: earlier
        ? `The features peak at ${peak.block} (${pct(peak.accuracy)}) and the later, more specific blocks fit these classes worse (${pct(last.accuracy)} at ${last.block}): cut at ${peak.layer} and train a head on those features.${small ? ' With this little data, fine-tuning would overfit.' : ' This backbone cannot be fine-tuned.'}`
        : `The last block's features separate these classes best (${pct(last.accuracy)} at ${last.block})${small ? ': with this little data, a new head on the frozen backbone is the safe choice (fine-tuning would overfit).' : '; this backbone cannot be fine-tuned.'}`,
    };
  }
  // Large data: fine-tune. From the last block when its features already fit; from further
  // back (about two thirds of the depth) when they fit only moderately; at the peak's cut when earlier.
  const high = last.accuracy >= chance + HIGH_SCORE_SHARE * (1 - chance);
  const from = earlier ? peak : high ? last : blocks[Math.min(lastIndex, Math.floor((blocks.length * 2) / 3))];
  return {
    ...base,
    ...cut,
    block: from.block,
    situation: earlier || !high ? 'large-different' : 'large-similar',
    strategy: { kind: 'fine-tune', unfreezeFrom: from.firstLayer },
    title: earlier ? `Fine-tune, cut earlier at ${peak.block}` : `Fine-tune from ${from.block}`,
    reason: earlier
      ? `The features peak at ${peak.block} (${pct(peak.accuracy)}, against ${pct(last.accuracy)} at ${last.block}): cut there, and with ${Math.round(imagesPerClass)} images per class fine-tune its last block (from ${from.firstLayer}).`
      : high
        ? `The last block's features already separate these classes well (${pct(last.accuracy)} at ${last.block}); with ${Math.round(imagesPerClass)} images per class, fine-tuning the last block (from ${from.firstLayer}) adapts them without much risk of overfitting.`
        : `The last block reaches ${pct(last.accuracy)}: the features fit only partly, so more of the network should adapt; with ${Math.round(imagesPerClass)} images per class, fine-tune from ${from.block} (${from.firstLayer}).`,
  };
}

/** The probe's recommendation as the wizard's strategy answer; its reason starts with what was measured. */
export function asStrategyAdvice(a: ProbeAdvice): StrategyAdvice {
  return {
    situation: a.situation,
    strategy: a.strategy,
    ...(a.cutAt ? { cutAt: a.cutAt } : {}),
    title: a.title,
    reason: `Measured: ${a.measured}. ${a.reason}`,
  };
}

/**
 * A rough probe time for a label, in 5 s steps: the images it sees (train capped at `maxPerClass`,
 * plus about half as many val) at `perImageS` (fmnist-mini ~0.02 s with the native backend, a
 * downloaded MobileNet ~10x that), plus ~5 s to start the trainer and load the backbone.
 */
export function probeSecondsEstimate(perClass: number | undefined, classes: number | undefined, maxPerClass: number, perImageS: number): number {
  const images = Math.min(perClass ?? maxPerClass, maxPerClass) * (classes ?? 5) * 1.5;
  return Math.max(5, Math.round((5 + images * perImageS) / 5) * 5);
}
