// Predictions (browser side): per image the image itself and its top-k classes as bars, the
// model that predicted, a folder's accuracy (its mistakes first), progress with Cancel, the
// recent predictions; images and folders dropped here (or picked) are predicted next.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import {
  PREDICTIONS_PROTOCOL,
  describeModel,
  parsePredictionsState,
  type PredictionSet,
  type PredictionsRequest,
  type PredictionsState,
} from '../src/core/predictionsMessages';
import { isCorrect, type FolderAccuracy, type PredictionRow } from '../src/core/folderAccuracy';
import { el, openPage } from './lib/webviewPage';

const { vscode, root } = openPage<PredictionsState, PredictionsRequest>(PREDICTIONS_PROTOCOL, parsePredictionsState, render);
/** Rows drawn at most: a folder of thousands shows its mistakes (first) and a count of the rest. */
const ROWS_SHOWN = 300;

const pct = (p: number) => (Number.isFinite(p) ? `${(p * 100).toFixed(1)}%` : '—');
const baseName = (p: string) => p.split(/[\\/]/).filter(Boolean).pop() ?? p;

function button(label: string, onClick: () => void, secondary = true, aria?: string): HTMLElement {
  const b = document.createElement('vscode-button');
  if (secondary) b.setAttribute('secondary', '');
  b.textContent = label;
  if (aria) b.setAttribute('aria-label', aria);
  b.addEventListener('click', onClick);
  return b;
}

function toolbar(current: PredictionSet | undefined): HTMLElement {
  const bar = el('div', undefined, 'actions');
  bar.append(
    button('Pick Images…', () => vscode.post({ type: 'pick', folders: false }), false),
    button('Pick Folders…', () => vscode.post({ type: 'pick', folders: true })),
  );
  if (current) bar.append(button('Another Model…', () => vscode.post({ type: 'change-model' }), true, 'Predict the same images with another run’s model'));
  if (current && (current.status === 'loading' || current.status === 'running')) bar.append(button('Cancel', () => vscode.post({ type: 'cancel' })));
  return bar;
}

function modelFacts(set: PredictionSet): HTMLElement {
  const m = set.model;
  const facts = el('dl', undefined, 'facts model');
  const add = (term: string, value: string | undefined) => value && facts.append(el('dt', term), el('dd', value));
  add('Model', describeModel(m));
  add('Run', m.runId && `${m.runId}${m.experiment ? ` (experiment ${m.experiment})` : ''}`);
  add('Strategy', m.strategy);
  add('Backbone', m.backbone);
  add(m.source === 'run' ? 'Run folder' : 'Exported model', m.target);
  add('Classes', m.labels.length ? m.labels.join(', ') : undefined);
  return facts;
}

function statusLine(set: PredictionSet): HTMLElement {
  const box = el('div', undefined, 'status');
  const done = set.rows.length + (set.droppedRows ?? 0);
  const words: Record<PredictionSet['status'], string> = {
    loading: 'Loading the model…',
    running: `Classifying: ${done} of ${set.total} images`,
    done: `${done} image${done === 1 ? '' : 's'} classified`,
    cancelled: `Cancelled after ${done} of ${set.total} images`,
    failed: 'Prediction failed',
  };
  box.append(el('p', words[set.status], `status-line status-${set.status}`));
  if (set.status === 'loading' || set.status === 'running') {
    const bar = el('progress');
    bar.max = Math.max(1, set.total);
    bar.value = done;
    bar.setAttribute('aria-label', words[set.status]);
    box.append(bar);
  }
  if (set.error) box.append(el('p', set.error, 'error'));
  if (set.problems.length > 0) {
    const list = el('ul', undefined, 'problems warning');
    list.setAttribute('aria-label', 'Not predicted');
    for (const p of set.problems) list.append(el('li', p));
    box.append(list);
  }
  return box;
}

function accuracyLine(a: FolderAccuracy): HTMLElement {
  const p = el('p', undefined, 'accuracy');
  const name = el('strong', `${baseName(a.folder)}/`);
  name.title = a.folder;
  p.append(name);
  if (a.accuracy === undefined) {
    p.append(document.createTextNode(`: no subfolder is named like a class of this model, so there is no accuracy (${a.unlabelled} images).`));
    return p;
  }
  p.append(
    document.createTextNode(': accuracy '),
    el('span', pct(a.accuracy), 'accuracy-value'),
    document.createTextNode(` (${a.correct} of ${a.labelled} images right, by their class folders)`),
  );
  if (a.unlabelled > 0) p.append(document.createTextNode(`; ${a.unlabelled} without a class folder or unreadable`));
  return p;
}

function bars(row: PredictionRow): HTMLElement {
  const list = el('ol', undefined, 'bars');
  list.setAttribute('aria-label', `Top ${row.top.length} classes`);
  row.top.forEach((t, i) => {
    const li = el('li', undefined, i === 0 ? 'bar top' : 'bar');
    const fill = el('span', undefined, t.label === row.truth ? 'fill truth' : 'fill');
    // CSSOM, not a style attribute: allowed under the panel's strict CSP.
    fill.style.width = `${Math.max(0, Math.min(1, t.probability)) * 100}%`;
    li.append(el('span', t.label, 'bar-label'), el('span', undefined, 'track'), el('span', pct(t.probability), 'bar-value'));
    li.querySelector('.track')!.append(fill);
    list.append(li);
  });
  return list;
}

function card(row: PredictionRow, index: number, image: string): HTMLElement {
  const right = isCorrect(row);
  const item = el('li', undefined, `card${right === false ? ' wrong' : right ? ' right' : ''}${row.error ? ' failed' : ''}`);
  if (image) {
    const img = el('img');
    img.src = image;
    img.alt = baseName(row.file);
    img.loading = 'lazy';
    item.append(img);
  }
  const name = el('button', baseName(row.file), 'file link');
  name.title = `${row.file} (open)`;
  name.addEventListener('click', () => vscode.post({ type: 'open-image', row: index }));
  item.append(name);
  if (row.truth) item.append(el('p', `${right ? '✓' : '✗'} folder says ${row.truth}`, right ? 'truth right' : 'truth wrong'));
  if (row.error) item.append(el('p', `${row.error}`, 'error'));
  else item.append(bars(row));
  return item;
}

function historyList(state: PredictionsState): HTMLElement {
  const section = el('section', undefined, 'history');
  section.setAttribute('aria-label', 'Recent predictions');
  section.append(el('h2', 'Recent predictions'));
  if (state.history.length === 0) {
    section.append(el('p', 'None yet.', 'muted'));
    return section;
  }
  const list = el('ul', undefined, 'history-list');
  for (const h of state.history) {
    const li = el('li');
    const when = new Date(h.at).toLocaleString();
    const text = `${h.title} · ${h.images} image${h.images === 1 ? '' : 's'}${h.accuracy !== undefined ? ` · ${pct(h.accuracy)}` : ''} · ${h.model} · ${when}`;
    const open = el('button', text, `link${state.current?.id === h.id ? ' selected' : ''}`);
    open.addEventListener('click', () => vscode.post({ type: 'show-history', id: h.id }));
    li.append(open);
    list.append(li);
  }
  section.append(
    list,
    button('Clear History', () => vscode.post({ type: 'clear-history' })),
  );
  return section;
}

function render(state: PredictionsState): void {
  const current = state.current;
  root.replaceChildren(el('h2', current ? `Predictions: ${current.inputs.map(baseName).join(', ')}` : 'Predictions'), toolbar(current));
  root.append(el('p', 'Drop images or folders here (hold Shift while dragging from the Explorer), or pick them.', 'muted drop-hint'));
  let shown = 0;
  if (current) {
    root.append(modelFacts(current), statusLine(current));
    for (const a of current.accuracy) root.append(accuracyLine(a));
    const grid = el('ul', undefined, 'cards');
    grid.setAttribute('aria-label', 'Images and their top classes (misclassified first)');
    current.rows.slice(0, ROWS_SHOWN).forEach((row, i) => grid.append(card(row, i, state.images[i] ?? '')));
    shown = Math.min(ROWS_SHOWN, current.rows.length);
    root.append(grid);
    const hidden = current.rows.length - shown + (current.droppedRows ?? 0);
    if (hidden > 0) root.append(el('p', `${hidden} more images not shown here (the mistakes come first).`, 'muted'));
  }
  root.append(historyList(state));
  vscode.post({
    type: 'rendered',
    rows: shown,
    images: root.querySelectorAll('img').length,
    accuracy: (current?.accuracy ?? []).flatMap((a) => (a.accuracy === undefined ? [] : [a.accuracy])),
  });
}

/** The URIs of a drop: VS Code's explorer gives a uri-list (files and folders alike). */
function droppedUris(data: DataTransfer): string[] {
  const text = data.getData('application/vnd.code.uri-list') || data.getData('text/uri-list');
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
}

document.body.addEventListener('dragover', (e) => {
  e.preventDefault();
  document.body.classList.add('dragging');
});
document.body.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
document.body.addEventListener('drop', (e) => {
  e.preventDefault();
  document.body.classList.remove('dragging');
  const uris = e.dataTransfer ? droppedUris(e.dataTransfer) : [];
  if (uris.length > 0) vscode.post({ type: 'drop', uris: uris.slice(0, 1000) });
});
vscode.post({ type: 'ready' });
