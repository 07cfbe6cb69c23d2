// The layer tree (browser side): layers grouped by block, each with type, output shape,
// parameters and frozen/trainable; the cut and the boundary marked; search by name; row
// actions ask the host to edit the experiment file.
import type { LayerTreeMessage, LayerTreeRequest } from '../src/core/layerTreeMessages';
import { blockOf, type LayerState } from '../src/core/freezeView';
import type { LayerRow } from '../src/core/layerSummary';

declare function acquireVsCodeApi(): { postMessage(m: LayerTreeRequest): void };
const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;
let filter = '';
let last: Extract<LayerTreeMessage, { type: 'state' }> | undefined;
const open = new Set<string>();

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string) => {
  const n = document.createElement(tag);
  if (text !== undefined) n.textContent = text;
  if (cls) n.className = cls;
  return n;
};
const fmtShape = (s: LayerRow['outputShape']) => JSON.stringify(s).replace(/null/g, '?');
const fmtInt = (n: number) => n.toLocaleString('en-US');
const STATE_LABEL: Record<LayerState, string> = { frozen: 'frozen', trainable: 'trainable', 'after-cut': 'cut away', input: 'input' };

function button(label: string, title: string, request: LayerTreeRequest): HTMLButtonElement {
  const b = el('button', label, 'action');
  b.title = title;
  b.setAttribute('aria-label', title);
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    vscode.postMessage(request);
  });
  return b;
}

function layerRow(r: LayerRow, state: LayerState, isCut: boolean, isBoundary: boolean): HTMLElement {
  const li = el('li', undefined, `layer state-${state}${isCut ? ' cut' : ''}${isBoundary ? ' boundary' : ''}`);
  li.setAttribute('role', 'treeitem');
  li.tabIndex = -1;
  li.dataset.layer = r.name;
  const name = el('span', r.name, 'name');
  li.append(name, el('span', r.className, 'type'), el('span', fmtShape(r.outputShape), 'shape'), el('span', fmtInt(r.params), 'params'), el('span', STATE_LABEL[state], `badge badge-${state}`));
  const actions = el('span', undefined, 'actions');
  if (state !== 'input' && state !== 'after-cut') actions.append(button('Train from here', `Fine-tune from ${r.name}: it and the layers after it train`, { type: 'trainFrom', layer: r.name }));
  if (state !== 'input') actions.append(button('Cut here', `Attach the head at ${r.name}`, { type: 'cutAt', layer: r.name }));
  li.append(actions);
  li.setAttribute('aria-label', `${r.name}, ${r.className}, output ${fmtShape(r.outputShape)}, ${r.params} parameters, ${STATE_LABEL[state]}${isCut ? ', the head attaches here' : ''}`);
  return li;
}

function render(): void {
  if (!last) return;
  const { summary, view, cutAt, strategy, experiment } = last;
  root.replaceChildren();
  root.append(el('h2', `${experiment}: ${summary.source}`));
  if (summary.kind === 'graph') {
    root.append(el('p', 'This backbone is a graph model (TF Hub / Kaggle format): a frozen function without layers to show, cut or fine-tune. It works with feature extraction.', 'muted'));
    return;
  }
  const strategyText = strategy.kind === 'fine-tune' ? `fine-tune from ${view.boundary ?? '—'}` : strategy.kind === 'scratch' ? 'scratch: every layer trains from random weights' : 'feature extraction: the base is frozen';
  root.append(el('p', `Cut at ${cutAt} · ${strategyText} · trainable ${fmtInt(view.trainableParams)} / frozen ${fmtInt(view.frozenParams)} base parameters (plus the new head)`, 'summary'));
  const bar = el('div', undefined, 'toolbar');
  const search = el('input');
  search.type = 'search';
  search.placeholder = 'Search layers';
  search.setAttribute('aria-label', 'Search layers by name');
  search.value = filter;
  search.addEventListener('input', () => {
    filter = search.value.trim().toLowerCase();
    render();
    (root.querySelector('input[type=search]') as HTMLInputElement | null)?.focus();
  });
  bar.append(search, button('Freeze all', 'Feature extraction: freeze the whole base', { type: 'freezeAll' }));
  root.append(bar);

  const tree = el('ul', undefined, 'tree');
  tree.setAttribute('role', 'tree');
  tree.setAttribute('aria-label', 'Layers of the backbone');
  // Consecutive layers with the same block prefix form one group.
  type Group = { block?: string; rows: { r: LayerRow; i: number }[] };
  const groups: Group[] = [];
  summary.rows.forEach((r, i) => {
    if (filter && !r.name.toLowerCase().includes(filter)) return;
    const block = blockOf(r.name);
    const lastGroup = groups.at(-1);
    if (block && lastGroup?.block === block) lastGroup.rows.push({ r, i });
    else groups.push({ block, rows: [{ r, i }] });
  });
  for (const g of groups) {
    if (!g.block || g.rows.length === 1) {
      for (const { r, i } of g.rows) tree.append(layerRow(r, view.states[i], r.name === cutAt, r.name === view.boundary));
      continue;
    }
    const states = new Set(g.rows.map(({ i }) => view.states[i]));
    const params = g.rows.reduce((n, { r }) => n + r.params, 0);
    const li = el('li', undefined, `group ${[...states].map((s) => `state-${s}`).join(' ')}`);
    li.setAttribute('role', 'treeitem');
    const expanded = open.has(g.block) || !!filter || g.rows.some(({ r }) => r.name === cutAt || r.name === view.boundary);
    li.setAttribute('aria-expanded', String(expanded));
    const head = el('button', undefined, 'group-head');
    head.append(el('span', `${expanded ? '▾' : '▸'} ${g.block}`, 'name'), el('span', `${g.rows.length} layers`, 'type'), el('span', '', 'shape'), el('span', fmtInt(params), 'params'), el('span', [...states].map((s) => STATE_LABEL[s]).join(' + '), `badge badge-${states.size === 1 ? [...states][0] : 'mixed'}`));
    head.addEventListener('click', () => {
      if (open.has(g.block!)) open.delete(g.block!);
      else open.add(g.block!);
      render();
    });
    li.append(head);
    if (expanded) {
      const ul = el('ul');
      ul.setAttribute('role', 'group');
      for (const { r, i } of g.rows) ul.append(layerRow(r, view.states[i], r.name === cutAt, r.name === view.boundary));
      li.append(ul);
    }
    tree.append(li);
  }
  root.append(tree);
}

window.addEventListener('message', (event: MessageEvent<LayerTreeMessage>) => {
  const m = event.data;
  if (m.type === 'loading') root.replaceChildren(el('p', `Loading the layers of ${m.experiment}'s backbone…`, 'muted'));
  else if (m.type === 'error') {
    const p = el('p', m.message, 'error');
    p.setAttribute('role', 'alert');
    root.replaceChildren(p);
  } else {
    last = m;
    render();
  }
});
vscode.postMessage({ type: 'ready' });
