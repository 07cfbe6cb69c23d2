// The layer tree (browser side): renders the tree the host computed (layers grouped by
// block, type, output shape, parameters, frozen/trainable, the cut and the boundary), with
// search by name and arrow-key navigation. Row actions only ask the host to edit the file.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import {
  LAYER_TREE_PROTOCOL,
  parseLayerTreeMessage,
  type LayerGroup,
  type LayerItem,
  type LayerTreeMessage,
  type LayerTreeRequest,
  type LayerTreeState,
} from '../src/core/layerTreeMessages';
import type { Unversioned } from '../src/core/messageProtocol';
import { probeButtonFor, probeCell, ProbeSummary } from './lib/probeColumn';
import { errorView, fmtInt, loadingView, marker, STATE_LABEL, stageHeading, stageTitle, worthHeading } from './lib/layerTreeParts';
import { cspViolations, el, openPage } from './lib/webviewPage';

const { vscode, root } = openPage<LayerTreeMessage, LayerTreeRequest>(LAYER_TREE_PROTOCOL, parseLayerTreeMessage, receive);

let state: LayerTreeState | undefined;
let filter = '';
/** Groups the user opened or closed (a group holding the cut or boundary starts open). */
const toggled = new Map<string, boolean>();
/** The tree item that holds the tab stop (roving tabindex): `layer:<name>` or `group:<block>#<index>`. */
let activeKey: string | undefined;

// ---- the page skeleton (kept across renders so the search field keeps focus and caret) ----
const title = el('h2');
const summary = el('p', undefined, 'summary');
const totals = el('div', undefined, 'totals');
const warnings = el('div');
const notice = el('p', undefined, 'notice');
notice.setAttribute('role', 'status');
const toolbar = el('div', undefined, 'toolbar');
const search = document.createElement('vscode-textfield') as HTMLElement & { value: string; placeholder: string };
search.setAttribute('type', 'search');
search.setAttribute('placeholder', 'Search layers by name');
search.setAttribute('aria-label', 'Search layers by name');
search.className = 'search';
const freezeAll = document.createElement('vscode-button');
freezeAll.textContent = 'Freeze all';
freezeAll.setAttribute('secondary', '');
freezeAll.title = 'Feature extraction: freeze the whole base (edits the experiment file)';
freezeAll.addEventListener('click', () => vscode.post({ type: 'freeze-all' }));
const matches = el('span', undefined, 'matches');
matches.setAttribute('aria-live', 'polite');
const probeButton = probeButtonFor(() => vscode.post({ type: 'probe' }));
const probeBox = el('div', undefined, 'probe-box');
const probeSummary = new ProbeSummary(probeBox);
const probeStatus = el('p', undefined, 'notice probe-status');
probeStatus.setAttribute('role', 'status');
toolbar.append(search, freezeAll, probeButton);
const header = el('div', undefined, 'tree-header');
header.setAttribute('aria-hidden', 'true');
for (const h of ['Layer', 'Type', 'Output shape', 'Params', 'State', 'Probe']) header.append(el('span', h));
const tree = el('ul', undefined, 'tree');
tree.setAttribute('role', 'tree');
tree.setAttribute('aria-label', 'Layers of the backbone');
const page = el('div', undefined, 'page');
page.append(title, summary, totals, warnings, toolbar, probeStatus, probeBox, matches, notice, header, tree);

search.addEventListener('input', () => {
  filter = search.value.trim().toLowerCase();
  renderTree();
});

function show(...nodes: Node[]): void {
  root.replaceChildren(...nodes);
}

// ---- rendering ----
function highlight(name: string): Node[] {
  const i = filter ? name.toLowerCase().indexOf(filter) : -1;
  if (i < 0) return [document.createTextNode(name)];
  return [document.createTextNode(name.slice(0, i)), el('mark', name.slice(i, i + filter.length)), document.createTextNode(name.slice(i + filter.length))];
}

function actionButton(label: string, title: string, request: Unversioned<LayerTreeRequest>): HTMLButtonElement {
  const b = el('button', label, 'action');
  b.type = 'button';
  b.title = title;
  b.tabIndex = -1;
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    vscode.post(request);
  });
  return b;
}

function layerItem(l: LayerItem, level: number, s: LayerTreeState): HTMLLIElement[] {
  const li = el('li', undefined, `item layer state-${l.state}${l.isCut ? ' cut' : ''}${l.isBoundary ? ' boundary' : ''}`);
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', String(level));
  li.dataset.key = `layer:${l.name}`;
  li.dataset.layer = l.name;
  li.tabIndex = -1;
  const row = el('div', undefined, 'row');
  const name = el('span', undefined, 'name');
  name.append(...highlight(l.name));
  name.title = l.name;
  const type = el('span', l.className, 'type');
  const rewritten = l.parts
    ? `rewritten for TensorFlow.js as ${[...l.parts.map((p) => p.name), l.name].join(' + ')} (${l.className}), with the same outputs; shown as one layer`
    : '';
  if (rewritten) type.title = rewritten;
  row.append(
    name,
    type,
    el('span', l.shape, 'shape'),
    el('span', fmtInt(l.params), 'params'),
    el('span', STATE_LABEL[l.state], `badge badge-${l.state}`),
    probeCell(s.probe, l.name),
  );
  const actions = el('span', undefined, 'actions');
  const canTrain = s.fineTunable && (l.state === 'frozen' || l.state === 'trainable') && !l.isBoundary;
  if (canTrain)
    actions.append(
      actionButton('Train from here', `Fine-tune from ${l.name}: it and the layers after it up to the cut train, the layers before stay frozen`, {
        type: 'train-from',
        layer: l.name,
      }),
    );
  if (l.state !== 'input' && !l.isCut)
    actions.append(actionButton('Cut here', `Cut here: attach the new head after ${l.name}`, { type: 'cut-at', layer: l.name }));
  row.append(actions);
  li.append(row);
  const shortcuts = [canTrain ? 'T' : '', l.state !== 'input' && !l.isCut ? 'C' : ''].filter(Boolean);
  if (shortcuts.length) li.setAttribute('aria-keyshortcuts', shortcuts.join(' '));
  li.setAttribute(
    'aria-label',
    `${l.name}, ${rewritten || l.className}, output ${l.shape}, ${fmtInt(l.params)} parameters, ${STATE_LABEL[l.state]}${l.isBoundary ? ', first trainable layer' : ''}${l.isCut ? ', the head attaches here' : ''}${shortcuts.length ? `. Press ${canTrain ? 'T to train from here' : ''}${shortcuts.length === 2 ? ', ' : ''}${l.isCut ? '' : 'C to cut here'}` : ''}`,
  );
  const out: HTMLLIElement[] = [];
  if (l.isBoundary) out.push(marker('— trainable from here —', 'marker-boundary'));
  out.push(li);
  if (l.isCut) out.push(marker('— head attaches here —', 'marker-cut'));
  return out;
}

function groupItem(g: LayerGroup & { block: string }, index: number, visible: LayerItem[], s: LayerTreeState): HTMLLIElement {
  const key = `group:${g.block}#${index}`;
  const holdsMark = g.layers.some((l) => l.isCut || l.isBoundary);
  const expanded = filter ? true : (toggled.get(key) ?? holdsMark);
  const states = [...new Set(g.layers.map((l) => l.state))];
  const li = el('li', undefined, `item group ${states.map((st) => `state-${st}`).join(' ')}`);
  li.setAttribute('role', 'treeitem');
  li.setAttribute('aria-level', '1');
  li.setAttribute('aria-expanded', String(expanded));
  li.dataset.key = key;
  li.tabIndex = -1;
  const params = g.layers.reduce((n, l) => n + l.params, 0);
  const row = el('div', undefined, 'row group-head');
  const name = el('span', undefined, 'name');
  name.append(el('span', expanded ? '▾ ' : '▸ ', 'twisty'), ...highlight(g.title ?? g.block));
  name.title = g.block;
  const marks = [g.layers.some((l) => l.isBoundary) ? 'boundary' : '', g.layers.some((l) => l.isCut) ? 'cut' : ''].filter(Boolean);
  const label = states.map((st) => STATE_LABEL[st]).join(' + ');
  row.append(
    name,
    el('span', `${g.layers.length} layer${g.layers.length === 1 ? '' : 's'}`, 'type'),
    el('span', g.layers.at(-1)!.shape, 'shape'),
    el('span', fmtInt(params), 'params'),
    el('span', label, `badge badge-${states.length === 1 ? states[0] : 'mixed'}`),
    probeCell(s.probe, g.block),
  );
  // The block as a whole: train from its first layer, cut after its last.
  const actions = el('span', undefined, 'actions');
  const canTrain = s.fineTunable && g.trainFrom !== undefined;
  if (canTrain)
    actions.append(
      actionButton(
        'Train from here',
        `Fine-tune from block ${g.block}: from its first layer, ${g.trainFrom}, up to the cut everything trains; the blocks before stay frozen`,
        { type: 'train-from', layer: g.trainFrom! },
      ),
    );
  if (g.cutAt !== undefined)
    actions.append(
      actionButton('Cut here', `Cut after block ${g.block}: attach the new head after its last layer, ${g.cutAt}`, { type: 'cut-at', layer: g.cutAt }),
    );
  row.append(actions);
  row.addEventListener('click', () => toggle(key, !expanded));
  li.append(row);
  li.dataset.block = g.block;
  if (canTrain) li.dataset.trainFrom = g.trainFrom;
  if (g.cutAt !== undefined) li.dataset.cutAt = g.cutAt;
  const shortcuts = [canTrain ? 'T' : '', g.cutAt !== undefined ? 'C' : ''].filter(Boolean);
  if (shortcuts.length) li.setAttribute('aria-keyshortcuts', shortcuts.join(' '));
  const keys = [canTrain ? 'T to train from its first layer' : '', g.cutAt !== undefined ? 'C to cut after it' : ''].filter(Boolean).join(', ');
  li.setAttribute(
    'aria-label',
    `block ${g.block}${g.stage && g.stage !== g.block ? ` in ${stageTitle(g.stage)}` : ''}, ${g.layers.length} layers, ${fmtInt(params)} parameters, ${label}${marks.length ? `, holds the ${marks.join(' and the ')}` : ''}${keys ? `. Press ${keys}` : ''}`,
  );
  if (expanded) {
    const ul = el('ul');
    ul.setAttribute('role', 'group');
    for (const l of visible) ul.append(...layerItem(l, 2, s));
    li.append(ul);
  }
  return li;
}

function toggle(key: string, open: boolean): void {
  toggled.set(key, open);
  activeKey = key;
  renderTree(true);
}

function renderTree(keepFocus = tree.contains(document.activeElement)): void {
  const s = state;
  if (!s) return;
  tree.replaceChildren();
  let shown = 0;
  let stageShown: string | undefined;
  const stages = new Map(s.stages.map((st) => [st.name, st]));
  s.groups.forEach((g, index) => {
    const groupMatches = !!g.block && !!filter && g.block.toLowerCase().includes(filter);
    const visible = filter && !groupMatches ? g.layers.filter((l) => l.name.toLowerCase().includes(filter)) : g.layers;
    if (visible.length === 0) return;
    shown += visible.length;
    const stage = g.stage ? stages.get(g.stage) : undefined;
    if (stage && stage.name !== stageShown && worthHeading(stage, g)) tree.append(stageHeading(stage));
    if (g.stage) stageShown = g.stage;
    if (g.block) tree.append(groupItem(g as LayerGroup & { block: string }, index, visible, s));
    else for (const l of visible) tree.append(...layerItem(l, 1, s));
  });
  matches.textContent = filter ? (shown === 0 ? `No layer name contains "${filter}".` : `${shown} of ${s.layerCount} layers match "${filter}".`) : '';
  const items = treeItems();
  const active = items.find((i) => i.dataset.key === activeKey) ?? items[0];
  if (active) setActive(active, keepFocus);
}

function render(): void {
  const s = state;
  if (!s) return;
  vscode.setState({ file: s.file });
  title.textContent = `Layers of ${s.experiment}`;
  summary.replaceChildren(el('span', s.source, 'source'));
  if (s.kind === 'graph') {
    const p = el(
      'p',
      'This backbone is a graph model (TF Hub / Kaggle SavedModel format): a frozen function with no layers to show, cut or fine-tune. It works with feature extraction ("strategy": { "kind": "feature-extraction" }) only.',
      'warning',
    );
    p.setAttribute('role', 'note');
    warnings.replaceChildren(...s.warnings.map((w) => el('p', w, 'warning')));
    show(title, summary, p, warnings, notice);
    return;
  }
  const cut = el('p', undefined, 'facts');
  cut.append(el('strong', 'Cut: '), document.createTextNode(`the head attaches after ${s.cutAt} ${s.cutNote}.`));
  const strategy = el('p', undefined, 'facts');
  strategy.append(el('strong', 'Strategy: '), document.createTextNode(s.strategyText));
  summary.append(cut, strategy);
  if (s.preprocessing) {
    const pre = el('p', undefined, 'facts');
    pre.append(el('strong', 'Pixels: '), document.createTextNode(s.preprocessing));
    summary.append(pre);
  }
  for (const n of s.notes) summary.append(el('p', n, 'note'));
  totals.replaceChildren();
  const total = (label: string, n: number, cls: string) => {
    const d = el('div', undefined, `total ${cls}`);
    d.append(el('span', fmtInt(n), 'count'), el('span', label, 'label'));
    return d;
  };
  totals.append(
    total(s.reinitialized ? 'trainable (re-initialised)' : 'trainable', s.trainableParams, 'total-trainable'),
    total('frozen', s.frozenParams, 'total-frozen'),
    total('cut away', s.cutAwayParams, 'total-cut'),
  );
  totals.setAttribute(
    'aria-label',
    `Base parameters: ${fmtInt(s.trainableParams)} trainable, ${fmtInt(s.frozenParams)} frozen, ${fmtInt(s.cutAwayParams)} cut away; the new head's parameters come on top and always train.`,
  );
  totals.title = "Parameters of the base (the backbone up to the cut); the new head's parameters come on top and always train.";
  warnings.replaceChildren(
    ...s.warnings.map((w) => {
      const p = el('p', w, 'warning');
      p.setAttribute('role', 'alert');
      return p;
    }),
  );
  const frozenAlready = s.strategy === 'feature-extraction';
  freezeAll.toggleAttribute('disabled', frozenAlready);
  freezeAll.title = frozenAlready
    ? 'The whole base is already frozen (feature extraction)'
    : 'Feature extraction: freeze the whole base (edits the experiment file)';
  probeSummary.show(s.probe);
  if (!root.contains(page)) show(page);
  renderTree();
}

// ---- keyboard: a tree with one tab stop, arrows move, Left/Right close/open, T/C act ----
function treeItems(): HTMLElement[] {
  return [...tree.querySelectorAll<HTMLElement>('[role=treeitem]')];
}

function setActive(item: HTMLElement, focus: boolean): void {
  for (const i of treeItems()) {
    i.tabIndex = -1;
    for (const b of i.querySelectorAll<HTMLButtonElement>(':scope > .row .action')) b.tabIndex = -1;
  }
  item.tabIndex = 0;
  // Tab from the active row reaches its actions, then leaves the tree.
  for (const b of item.querySelectorAll<HTMLButtonElement>(':scope > .row .action')) b.tabIndex = 0;
  activeKey = item.dataset.key;
  if (focus) item.focus();
}

tree.addEventListener('focusin', (e) => {
  const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
  if (item && item.dataset.key !== activeKey) setActive(item, false);
});

tree.addEventListener('keydown', (e) => {
  const item = (e.target as HTMLElement).closest<HTMLElement>('[role=treeitem]');
  if (!item || (e.target as HTMLElement).tagName === 'BUTTON') return;
  const items = treeItems();
  const i = items.indexOf(item);
  const isGroup = item.classList.contains('group');
  const expanded = item.getAttribute('aria-expanded') === 'true';
  const move = (to: HTMLElement | undefined) => {
    if (to) setActive(to, true);
    e.preventDefault();
  };
  switch (e.key) {
    case 'ArrowDown':
      return move(items[i + 1]);
    case 'ArrowUp':
      return move(items[i - 1]);
    case 'Home':
      return move(items[0]);
    case 'End':
      return move(items.at(-1));
    case 'ArrowRight':
      if (isGroup && !expanded) {
        e.preventDefault();
        return toggle(item.dataset.key!, true);
      }
      return move(isGroup ? items[i + 1] : undefined);
    case 'ArrowLeft':
      if (isGroup && expanded) {
        e.preventDefault();
        return toggle(item.dataset.key!, false);
      }
      return move(item.parentElement?.closest<HTMLElement>('[role=treeitem]') ?? undefined);
    case 'Enter':
    case ' ':
      if (isGroup) {
        e.preventDefault();
        return toggle(item.dataset.key!, !expanded);
      }
      return;
    case 't':
    case 'T':
    case 'c':
    case 'C': {
      const shortcuts = item.getAttribute('aria-keyshortcuts')?.split(' ') ?? [];
      const train = e.key.toUpperCase() === 'T';
      // A layer acts on itself; a block header on its first layer (T) or its last (C).
      const layer = item.dataset.layer ?? (train ? item.dataset.trainFrom : item.dataset.cutAt);
      if (!layer || !shortcuts.includes(e.key.toUpperCase())) return;
      e.preventDefault();
      vscode.post(train ? { type: 'train-from', layer } : { type: 'cut-at', layer });
      return;
    }
  }
});

// ---- messages from the host ----
function receive(m: LayerTreeMessage): void {
  if (m.type === 'loading') {
    vscode.setState({ file: m.file });
    show(loadingView(m.experiment));
  } else if (m.type === 'error') {
    vscode.setState({ file: m.file });
    state = undefined;
    show(errorView(m, vscode.post));
  } else if (m.type === 'notice') {
    notice.textContent = m.message;
    notice.className = `notice ${m.level === 'error' ? 'error' : 'muted'}`;
  } else if (m.type === 'probe-status') {
    probeStatus.textContent = m.message;
    probeButton.toggleAttribute('disabled', m.running);
  } else if (m.type === 'state') {
    state = m;
    render();
  } else if (m.type === 'describe-charts') vscode.post({ type: 'charts', charts: probeSummary.reports(), cspViolations });
}
vscode.post({ type: 'ready' });
