// A backbone's layers as rows (for the CLI's `inspect`, the layer tree and run records):
// name, class, output shape, parameters, trainable, inbound layers, and where the cut is.
import type * as tfTypes from '@tensorflow/tfjs';
import type { LayerRow } from '../core/layerSummary';
import { upstreamLayers } from '../core/layerGraph';

export type { LayerRow } from '../core/layerSummary';

export interface SummaryOptions {
  cutAt?: string;
  /** First layer that trains (fine-tuning); layers before it are frozen. */
  trainableFrom?: string;
}

/** Names of the layers the cut layer's output depends on (itself included). */
function ancestorsOf(model: tfTypes.LayersModel, name: string): Set<string> {
  return upstreamLayers(name, (n) => {
    let layer: tfTypes.layers.Layer;
    try {
      layer = model.getLayer(n);
    } catch {
      return [];
    }
    return layer.inboundNodes.flatMap((node) => node.inboundLayers.map((l) => l.name));
  });
}

export function summarizeLayers(model: tfTypes.LayersModel, opts: SummaryOptions = {}): LayerRow[] {
  const layers = model.layers;
  const names = layers.map((l) => l.name);
  const cutIndex = opts.cutAt ? names.indexOf(opts.cutAt) : -1;
  const kept = cutIndex >= 0 ? ancestorsOf(model, opts.cutAt!) : undefined;
  const fromIndex = opts.trainableFrom ? names.indexOf(opts.trainableFrom) : -1;
  return layers.map((layer, index) => {
    let outputShape: LayerRow['outputShape'];
    try {
      outputShape = layer.outputShape as LayerRow['outputShape'];
    } catch {
      outputShape = []; // a layer used at several places has no single output shape
    }
    const inbound = [...new Set(layer.inboundNodes.flatMap((n) => n.inboundLayers.map((l) => l.name)))];
    const trainable = fromIndex >= 0 ? index >= fromIndex && layer.trainable : layer.trainable;
    return {
      index,
      name: layer.name,
      className: layer.getClassName(),
      outputShape,
      params: layer.countParams(),
      trainable,
      inbound,
      isCut: index === cutIndex,
      afterCut: kept ? !kept.has(layer.name) : false,
    };
  });
}

export function formatShape(shape: LayerRow['outputShape']): string {
  const one = (s: (number | null)[]) => `[${s.map((d) => (d === null || d === undefined ? 'null' : String(d))).join(', ')}]`;
  if (shape.length > 0 && Array.isArray(shape[0])) return (shape as (number | null)[][]).map(one).join(' ');
  return one(shape as (number | null)[]);
}

const thousands = (n: number) => n.toLocaleString('en-US');

/**
 * A fixed-width table: name, type, output shape, params, trainable, with the cut marked and
 * totals (all, trainable, frozen, and up to the cut).
 */
export function formatLayerTable(rows: LayerRow[]): string {
  const header = ['Layer', 'Type', 'Output shape', 'Params', 'Trainable'];
  const body = rows.map((r) => [
    `${r.name}${r.isCut ? '  <- cut' : ''}`,
    r.className,
    formatShape(r.outputShape),
    thousands(r.params),
    r.params === 0 ? '-' : r.trainable ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const out = [line(header), rule];
  let cutShown = false;
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].afterCut && !cutShown && rows.some((r) => r.isCut)) {
      out.push(rule.replace(/-/g, '·'));
      out.push('(after the cut: not part of the backbone the head sees)');
      cutShown = true;
    }
    out.push(line(body[i]));
  }
  const total = rows.reduce((s, r) => s + r.params, 0);
  const trainable = rows.reduce((s, r) => s + (r.trainable ? r.params : 0), 0);
  out.push(rule);
  out.push(`Total params: ${thousands(total)}   trainable: ${thousands(trainable)}   frozen: ${thousands(total - trainable)}`);
  const cut = rows.find((r) => r.isCut);
  if (cut) {
    const upToCut = rows.reduce((s, r) => s + (r.afterCut ? 0 : r.params), 0);
    out.push(
      `Cut at '${cut.name}' ${formatShape(cut.outputShape)}: ${thousands(upToCut)} params up to the cut, ${rows.filter((r) => r.afterCut).length} layer(s) after it dropped.`,
    );
  }
  return out.join('\n');
}

export interface GraphSummary {
  inputs: { name: string; shape?: number[]; dtype: string }[];
  outputs: { name: string; shape?: number[]; dtype: string }[];
  note: string;
}

/** What can be said about a graph model: its inputs and outputs; it has no layers. */
export function summarizeGraph(model: tfTypes.GraphModel): GraphSummary {
  const io = (t: readonly { name: string; shape?: number[]; dtype: string }[]) => t.map((x) => ({ name: x.name, shape: x.shape, dtype: x.dtype }));
  return {
    inputs: io(model.inputs),
    outputs: io(model.outputs),
    note: 'A graph model is a frozen TensorFlow graph: its layers cannot be inspected, cut or unfrozen as layers. It works as a feature extractor.',
  };
}

export function formatGraphSummary(summary: GraphSummary): string {
  const fmt = (x: GraphSummary['inputs'][number]) => `  ${x.name}  ${x.shape ? `[${x.shape.join(', ')}]` : '(shape unknown)'}  ${x.dtype}`;
  return ['Inputs:', ...summary.inputs.map(fmt), 'Outputs:', ...summary.outputs.map(fmt), summary.note].join('\n');
}
