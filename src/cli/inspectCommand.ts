// transfer-lab inspect <model.json|catalog-id|url>: the layer table of a backbone. A Keras
// Applications entry is built from its shipped topology alone (weights zero, never
// downloaded), so it works offline; a note on stderr says whether its weights are here.
import * as path from 'node:path';
import type { BackboneSpec } from '../core/experiment';
import { findCatalogEntry } from '../core/backboneCatalog';
import { loadBackbone } from '../engine/backboneLoader';
import { summarizeLayers, formatLayerTable } from '../engine/modelSummary';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, loadCliBackend, type CliContext } from './context';

export function backboneSpecFromArg(arg: string, cutAt?: string): BackboneSpec {
  const cut = cutAt ? { cutAt } : {};
  if (findCatalogEntry(arg)) return { catalog: arg, ...cut };
  if (/^https?:\/\//.test(arg)) return { url: arg, ...cut };
  return { path: path.resolve(arg), ...cut };
}

export async function inspectCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [target] = args.positionals;
  if (!target) throw new UsageError('inspect: which model? a catalog id (e.g. fmnist-mini), a model.json path or a URL');
  await loadCliBackend(ctx);
  const spec = backboneSpecFromArg(target, args.options.get('cut-at'));
  const topologyOnly = 'catalog' in spec && findCatalogEntry(spec.catalog)?.source.kind === 'keras-application';
  const loaded = await loadBackbone(spec, {
    installRoot: ctx.installRoot,
    cacheDir: ctx.cacheDir,
    topologyOnly,
    onProgress: (done: number, total?: number) => ctx.err(`downloading ${(done / 2 ** 20).toFixed(1)}${total ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MB`),
  });
  // What the loader assumed or rewrote (a guessed value range, a converted config, the cut it
  // chose): on stderr, so stdout stays the table or the JSON (which carries them too).
  for (const note of loaded.notes) ctx.err(`note: ${note}`);
  if (loaded.kind !== 'layers') {
    ctx.out(
      ctx.json
        ? JSON.stringify({
            kind: 'graph',
            notes: loaded.notes,
            inputs: loaded.model.inputs.map((i) => ({ name: i.name, shape: i.shape })),
            outputs: loaded.model.outputs.map((o) => ({ name: o.name, shape: o.shape })),
          })
        : `${target}: a graph model (inputs ${loaded.model.inputs.map((i) => `${i.name} ${JSON.stringify(i.shape)}`).join(', ')}). Graph models have no layers to inspect or fine-tune; they work as frozen feature extractors.`,
    );
    return EXIT.ok;
  }
  const rows = summarizeLayers(loaded.model, { cutAt: loaded.cutAt });
  const weights = topologyOnly ? { weights: 'topology only (not read)' } : {};
  ctx.out(
    ctx.json
      ? JSON.stringify({
          kind: 'layers',
          cutAt: loaded.cutAt,
          cutFrom: loaded.cutFrom,
          inputShape: loaded.inputShape,
          preprocessing: { mode: loaded.preprocessing.mode, from: loaded.preprocessingFrom },
          ...weights,
          notes: loaded.notes,
          layers: rows,
        })
      : formatLayerTable(rows),
  );
  return EXIT.ok;
}
