// Where the layer probe looks: the output of each block of the backbone up to its cut, with
// the blocks Show Layers draws (core/layerTreeMessages.ts: a Keras family's blocks from
// core/layerBlocks.ts, else consecutive layers sharing a name prefix), so the probe column
// lines up with the tree's rows. A block's output is its last layer's; the cut layer is
// probed too when it ends no block (fmnist-mini's out_relu). Pure.
import type { LayerRow } from './layerSummary';
import { backboneBlocks } from './layerBlocks';
import { freezeView } from './freezeView';
import { groupByPlace, groupLayers } from './layerTreeMessages';

export interface ProbeTarget {
  /** The row's name in Show Layers: the block, or the layer when it stands alone. */
  block: string;
  /** The layer whose output is pooled and probed. */
  layer: string;
  firstLayer: string;
  /** Output shape without the batch dimension. */
  shape: number[];
}

const single = (s: LayerRow['outputShape']): (number | null)[] | undefined => (Array.isArray(s[0]) || s.length === 0 ? undefined : (s as (number | null)[]));

/** The blocks' outputs in depth order, ending at `cutAt`; only layers with one spatial (rank 4) or flat (rank 2) output. */
export function probeTargets(rows: readonly LayerRow[], cutAt: string): ProbeTarget[] {
  const blocks = backboneBlocks(rows);
  const helper = new Set(rows.filter((_, i) => blocks.places[i]?.helperOf).map((r) => r.name));
  const placeByName = new Map(rows.map((r, i) => [r.name, blocks.places[i]]));
  const states = new Map(freezeView([...rows], cutAt, { kind: 'feature-extraction' }).states.map((s, i) => [rows[i].name, s]));
  const inBase = rows.filter((r) => !helper.has(r.name) && states.get(r.name) === 'frozen');
  const groups = blocks.scheme ? groupByPlace(inBase, (n) => placeByName.get(n)) : groupLayers(inBase);
  const out: ProbeTarget[] = [];
  for (const g of groups) {
    const last = g.layers.at(-1)!;
    const shape = single(last.outputShape);
    if (!g.block && last.name !== cutAt) continue;
    if (!shape || (shape.length !== 4 && shape.length !== 2) || shape.slice(1).some((x) => x === null)) continue;
    out.push({ block: g.block ?? last.name, layer: last.name, firstLayer: g.layers[0].name, shape: shape.slice(1) as number[] });
  }
  return out;
}
