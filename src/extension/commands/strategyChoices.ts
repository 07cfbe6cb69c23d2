// The wizard's strategy choices for a user's own model: the default cut that leaves out the
// model's old classifier head (said in the item's detail, written as backbone.cutAt), and a
// step that offers the model's real layers for an earlier cut or a fine-tuning start point
// (core/localModelCuts.ts finds them from the model.json's layers).
import type * as vscode from 'vscode';
import type { LayerRef } from '../../core/layerBlocks';
import { defaultLocalCut, localLayerChoices, type LayerChoice } from '../../core/localModelCuts';
import type { StrategyAdvice } from '../../core/strategyAdvisor';
import type { MultiStepInput } from '../multiStepInput';

/** What the detail line adds for advice that keeps the default cut: which old head layers the cut leaves out. */
export function droppedHeadNote(advice: StrategyAdvice, layers: readonly LayerRef[] | undefined): string | undefined {
  const cut = layers && !advice.cutAt ? defaultLocalCut(layers) : undefined;
  if (!cut) return undefined;
  const shown = cut.dropped.length > 4 ? [...cut.dropped.slice(0, 3), `… ${cut.dropped.length - 3} more`] : cut.dropped;
  return `Leaves out the old classifier head (${shown.join(', ')}); the new head reads ${cut.cutAt}.`;
}

/** The backbone.cutAt the wizard writes: the advice's earlier cut, else (a user model) the cut before its old head. */
export function cutToWrite(advice: StrategyAdvice, layers: readonly LayerRef[] | undefined): string | undefined {
  return advice.cutAt ?? (layers ? defaultLocalCut(layers)?.cutAt : undefined);
}

type LayerItem = vscode.QuickPickItem & { layer: string };

/** Which layer the advice names (an earlier cut or the first layer to fine-tune), and the model's other choices for it. */
function layerQuestion(advice: StrategyAdvice, layers: readonly LayerRef[]): { current: string; choices: LayerChoice[]; cut: boolean } | undefined {
  const { cuts, unfreezes } = localLayerChoices(layers);
  if (advice.cutAt) return { current: advice.cutAt, choices: cuts.slice(0, -1), cut: true };
  if (advice.strategy.kind === 'fine-tune' && advice.strategy.unfreezeFrom) return { current: advice.strategy.unfreezeFrom, choices: unfreezes, cut: false };
  return undefined;
}

/** The advice with another layer in place of the one it names. */
export function withLayer(advice: StrategyAdvice, layer: string): StrategyAdvice {
  if (layer === (advice.cutAt ?? (advice.strategy.kind === 'fine-tune' ? advice.strategy.unfreezeFrom : undefined))) return advice;
  if (advice.cutAt) return { ...advice, cutAt: layer, title: `Feature extraction from an earlier layer (${layer})` };
  if (advice.strategy.kind === 'fine-tune') return { ...advice, strategy: { kind: 'fine-tune', unfreezeFrom: layer }, title: `Fine-tune from ${layer}` };
  return advice;
}

/** The items of the layer step, in model order, the advised layer starred; undefined when the advice names no layer or there is no other. */
export function layerItems(advice: StrategyAdvice, layers: readonly LayerRef[]): { items: LayerItem[]; active?: LayerItem; cut: boolean } | undefined {
  const q = layerQuestion(advice, layers);
  if (!q) return undefined;
  // The advised layer is always offered (a Keras family's point need not end a block), in model order.
  const order = new Map(layers.map((l, i) => [l.name, i]));
  const choices = q.choices.some((c) => c.layer === q.current)
    ? q.choices
    : [...q.choices, { layer: q.current, where: 'the advised layer' }].sort((x, y) => (order.get(x.layer) ?? 0) - (order.get(y.layer) ?? 0));
  if (choices.length < 2) return undefined;
  const items = choices.map((c) => ({
    label: `${c.layer === q.current ? '$(star-full) ' : ''}${c.layer}`,
    description: c.layer === q.current ? `${c.where} · suggested` : c.where,
    layer: c.layer,
  }));
  return { items, active: items.find((i) => i.layer === q.current), cut: q.cut };
}

/** The layer step: asks which of the model's layers to cut at (or fine-tune from); the advice with the answer. */
export async function pickAdviceLayer(
  input: MultiStepInput,
  o: { title: string; step: number; totalSteps: number; advice: StrategyAdvice; layers: readonly LayerRef[] },
): Promise<StrategyAdvice> {
  const asked = layerItems(o.advice, o.layers);
  if (!asked) return o.advice;
  const pick = await input.pick({
    title: o.title,
    step: o.step,
    totalSteps: o.totalSteps,
    items: asked.items,
    activeItem: asked.active,
    matchOnDescription: true,
    placeholder: asked.cut ? 'Cut at: the layer the new head reads (earlier = more generic features)' : 'Fine-tune from: this layer and all after it train',
  });
  return withLayer(o.advice, pick.layer);
}
