// Which layers of a backbone a strategy freezes, trains or cuts away: the same rules the
// engine's freeze plan applies (modelSurgery.planFreeze), computed from the layer table so
// the layer tree can show them without loading TensorFlow.
import type { LayerRow } from './layerSummary';
import type { StrategySpec } from './experiment';
import { firstPartIndex } from './rewrittenLayers';
import { upstreamLayers } from './layerGraph';

export type LayerState = 'frozen' | 'trainable' | 'after-cut' | 'input';

export interface FreezeView {
  states: LayerState[];
  cutAt: string;
  /** First trainable layer of the base, if any. */
  boundary?: string;
  trainableParams: number;
  frozenParams: number;
  reinitialized: boolean;
}

/** Layers the cut keeps: the cut layer and everything it depends on. */
function ancestors(rows: LayerRow[], cutAt: string): Set<string> {
  const byName = new Map(rows.map((r) => [r.name, r]));
  return upstreamLayers(cutAt, (n) => byName.get(n)?.inbound ?? []);
}

export function freezeView(rows: LayerRow[], cutAt: string, strategy: StrategySpec): FreezeView {
  const kept = ancestors(rows, cutAt);
  const base = rows.filter((r) => kept.has(r.name) && r.className !== 'InputLayer');
  let first = base.length;
  if (strategy.kind === 'scratch') first = 0;
  else if (strategy.kind === 'fine-tune') {
    if (strategy.unfreezeFrom !== undefined) {
      const i = firstPartIndex(
        base.map((r) => r.name),
        strategy.unfreezeFrom,
      );
      first = i < 0 ? base.length : i;
    } else first = base.length - Math.min(base.length, Math.max(0, strategy.unfreezeLast ?? 0));
  }
  const trainable = new Set(base.slice(first).map((r) => r.name));
  let trainableParams = 0;
  let frozenParams = 0;
  const states = rows.map((r): LayerState => {
    if (r.className === 'InputLayer') return 'input';
    if (!kept.has(r.name)) return 'after-cut';
    if (trainable.has(r.name)) {
      trainableParams += r.params;
      return 'trainable';
    }
    frozenParams += r.params;
    return 'frozen';
  });
  return { states, cutAt, boundary: base[first]?.name, trainableParams, frozenParams, reinitialized: strategy.kind === 'scratch' };
}

/** Block name of a layer from its prefix: `block_13_expand` -> `block_13`, `conv2_block1_1_conv` -> `conv2_block1`. */
export function blockOf(name: string): string | undefined {
  const m = /^(block_\d+|conv\d+_block\d+|conv_(?:dw|pw)_\d+|stem|top|Conv_\d+|expanded_conv)/.exec(name);
  return m ? m[1] : undefined;
}
