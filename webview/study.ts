// The Study panel (browser side): test accuracy against images per class, one line per strategy
// (mean over seeds, min..max band), training time the same way, where transfer stops paying off,
// and a table of the cells whose rows open their run's dashboard. Renders the StudyState the
// host sends; remembers only the study folder (for a reload).
import { STUDY_PROTOCOL, parseStudyState, type StudyCellRow, type StudyState, type StudyViewMessage } from '../src/core/studyMessages';
import { studyCharts } from './study/studyChart';
import type { Chart } from './lib/chart';
import { el, openPage } from './lib/webviewPage';

const { vscode, root } = openPage<StudyState, StudyViewMessage>(STUDY_PROTOCOL, parseStudyState, receive);
let charts: Chart[] = [];

function receive(state: StudyState): void {
  vscode.setState({ studyDir: state.studyDir });
  render(state);
}

const pct = (y: number | null) => (y === null ? '—' : `${(y * 100).toFixed(1)}%`);
const secs = (s: number | null) => (s === null ? '—' : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const sizeLabel = (p: number | 'all') => (p === 'all' ? 'all' : String(p));

function cellTable(cells: StudyCellRow[], target: number): HTMLTableElement {
  const t = el('table', undefined, 'cells');
  t.append(el('caption', 'Cells (select a row with a run to open its dashboard)'));
  const head = el('tr');
  for (const h of ['strategy', 'per class', 'seed', 'status', 'train images', 'test acc', 'best val acc', 'epochs', `epochs to ${pct(target)}`, 'train time'])
    head.append(Object.assign(el('th', h), { scope: 'col' }));
  const body = el('tbody');
  cells.forEach((c, i) => {
    const tr = el('tr', undefined, `cell status-${c.status}`);
    const values = [c.strategy, sizeLabel(c.perClass), String(c.seed), c.status, c.trainImages === null ? '—' : String(c.trainImages)];
    values.push(
      pct(c.testAccuracy),
      pct(c.bestValAccuracy),
      c.epochs === null ? '—' : String(c.epochs),
      c.epochsToTarget === null ? '—' : String(c.epochsToTarget),
    );
    values.push(secs(c.trainSeconds));
    for (const value of values) tr.append(el('td', value));
    if (c.error) tr.title = c.error;
    if (c.hasRun) {
      tr.tabIndex = 0;
      tr.classList.add('opens');
      tr.setAttribute('aria-label', `${c.strategy}, ${sizeLabel(c.perClass)} per class, seed ${c.seed}: open its dashboard`);
      const open = () => vscode.post({ type: 'open-run', cell: i });
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && open());
    }
    body.append(tr);
  });
  t.append(el('thead'), body);
  t.tHead!.append(head);
  return t;
}

function header(state: StudyState): HTMLElement {
  const h = el('header');
  h.append(el('h2', `Data-efficiency study: ${state.experimentName}`));
  const status = state.finished ? 'finished' : state.running ? `running ${state.running}` : 'not running';
  const failed = state.failed ? `, ${state.failed} failed` : '';
  h.append(el('p', `${state.grid} · ${state.done} of ${state.total} cells${failed} · ${status}`, 'muted'));
  return h;
}

function render(state: StudyState): void {
  for (const c of charts) c.dispose();
  charts = [];
  root.replaceChildren(header(state));
  const sentence = el('p', state.sentence ?? 'Where transfer stops paying off shows once the cells of at least two sizes have finished.', 'sentence');
  root.append(sentence, el('p', 'line: mean over seeds · band: min–max over seeds (a legend entry shows or hides its strategy)', 'muted'));
  const grid = el('section', undefined, 'charts');
  grid.setAttribute('aria-label', 'Charts against images per class');
  root.append(grid);
  if (state.lines.some((l) => l.points.length > 0)) charts = studyCharts(grid, state.lines);
  else grid.append(el('p', 'No cell has finished yet.', 'muted'));
  root.append(cellTable(state.cells, state.target));
  vscode.post({
    type: 'rendered',
    lines: state.lines.length,
    bands: charts.reduce((n, c) => n + c.bandCount, 0),
    points: state.lines.reduce((n, l) => n + l.points.length, 0),
    rows: state.cells.length,
    sentence: state.sentence !== null,
  });
}

vscode.post({ type: 'ready' });
