// Host <-> Layer tree panel messages.
import type { LayerSummary } from './layerSummary';
import type { StrategySpec } from './experiment';
import type { FreezeView } from './freezeView';

export type LayerTreeMessage =
  | { type: 'loading'; experiment: string }
  | { type: 'error'; message: string }
  | { type: 'state'; experiment: string; summary: LayerSummary; cutAt: string; strategy: StrategySpec; view: FreezeView };

export type LayerTreeRequest = { type: 'ready' } | { type: 'trainFrom'; layer: string } | { type: 'freezeAll' } | { type: 'cutAt'; layer: string };

/** Validates a request from the webview; layer names must exist in the layer table shown. */
export function parseLayerTreeRequest(raw: unknown, layerNames: ReadonlySet<string>): LayerTreeRequest | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready' || m.type === 'freezeAll') return { type: m.type };
  if ((m.type === 'trainFrom' || m.type === 'cutAt') && typeof m.layer === 'string' && layerNames.has(m.layer)) return { type: m.type, layer: m.layer };
  return undefined;
}
