// Pieces of the layer tree page that need none of its state: labels, stage headings and
// markers between rows, and the loading and error pages.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import type { LayerState } from '../../src/core/freezeView';
import type { LayerGroup, LayerStage, LayerTreeMessage, LayerTreeRequest } from '../../src/core/layerTreeMessages';
import type { Unversioned } from '../../src/core/messageProtocol';
import { el } from './dom';

export const fmtInt = (n: number) => n.toLocaleString('en-US');
export const STATE_LABEL: Record<LayerState, string> = { frozen: 'frozen', trainable: 'trainable', 'after-cut': 'cut away', input: 'input' };

export function marker(text: string, cls: string): HTMLLIElement {
  const li = el('li', text, `marker ${cls}`);
  li.setAttribute('role', 'presentation');
  li.setAttribute('aria-hidden', 'true');
  return li;
}

/** "Stage conv4", "Stage 4", "The middle flow", "Stage 2 (convnext_tiny_stage_2)". */
export function stageTitle(name: string): string {
  if (/^stage /.test(name)) return `Stage ${name.slice(6)}`;
  if (/ flow$/.test(name)) return `The ${name}`;
  const convnext = /_stage_(\d+)$/.exec(name);
  if (convnext) return `Stage ${convnext[1]} (${name})`;
  return `Stage ${name}`;
}

/** A heading above a stage's first block, where it says more than the block does (not for the stem, the top, or a stage of one block of its own name). */
export function worthHeading(stage: LayerStage, g: LayerGroup): boolean {
  return (stage.kind === 'stage' || stage.kind === 'reduction') && !(stage.blocks === 1 && g.block === stage.name);
}

export function stageHeading(stage: LayerStage): HTMLLIElement {
  const li = el('li', undefined, 'stage-heading');
  li.setAttribute('role', 'presentation');
  li.append(
    el('span', stageTitle(stage.name), 'stage-name'),
    el('span', `${stage.blocks} block${stage.blocks === 1 ? '' : 's'} · ${fmtInt(stage.params)} params`, 'stage-facts'),
  );
  return li;
}

export function loadingView(experiment: string): HTMLElement {
  const p = el('p', `Loading the layers of ${experiment}'s backbone… (the first time a backbone is used it may be downloaded)`, 'muted');
  const ring = document.createElement('vscode-progress-ring');
  ring.setAttribute('aria-label', 'Loading');
  const box = el('div', undefined, 'loading');
  box.append(ring, p);
  return box;
}

/** The error page: the message line by line, a button to open the file and, when it may help, one to try again. */
export function errorView(m: Extract<LayerTreeMessage, { type: 'error' }>, post: (request: Unversioned<LayerTreeRequest>) => void): HTMLElement {
  const box = el('div');
  const p = el('p', undefined, 'error');
  p.setAttribute('role', 'alert');
  for (const [i, line] of m.message.split('\n').entries()) {
    if (i > 0) p.append(el('br'));
    p.append(document.createTextNode(line));
  }
  const actions = el('div', undefined, 'toolbar');
  const open = document.createElement('vscode-button');
  open.textContent = 'Open the experiment file';
  open.setAttribute('secondary', '');
  open.addEventListener('click', () => post({ type: 'open-file' }));
  actions.append(open);
  if (m.retry) {
    const retry = document.createElement('vscode-button');
    retry.textContent = 'Try again';
    retry.addEventListener('click', () => post({ type: 'retry' }));
    actions.append(retry);
  }
  box.append(el('h2', m.experiment ? `Layers of ${m.experiment}` : 'Layers'), p, actions);
  return box;
}
