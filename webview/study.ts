// The Study panel (browser side): test accuracy against images per class, one line per strategy
// (mean over seeds, min..max band), training time the same way, where transfer stops paying off,
// and a table of the cells whose rows open their run's dashboard. Renders the StudyState the
// host sends; remembers only the study folder (for a reload).
import { STUDY_PROTOCOL, parseStudyState, type StudyCellRow, type StudyLine, type StudyState, type StudyViewMessage } from '../src/core/studyMessages';
import { StudyChart, type StudyChartLine } from './study/studyChart';
import { el, openPage } from './lib/webviewPage';
import { seriesStyle } from './lib/seriesStyle';

const { vscode, root } = openPage<StudyState, StudyViewMessage>(STUDY_PROTOCOL, parseStudyState, receive);
let charts: StudyChart[] = [];
let lastState: StudyState | undefined;

function receive(state: StudyState): void {
  lastState = state;
  vscode.setState({ studyDir: state.studyDir });
  render(state);
}

const pct = (y: number | null) => (y === null ? '—' : `${(y * 100).toFixed(1)}%`);
const secs = (s: number | null) => (s === null ? '—' : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`);
const sizeLabel = (p: number | 'all') => (p === 'all' ? 'all' : String(p));

/** The sizes every line shares, ascending on the axis. */
function axisOf(lines: StudyLine[]): { xs: number[]; labels: string[] } {
  const byX = new Map<number, string>();
  for (const l of lines) for (const p of l.points) byX.set(p.x, sizeLabel(p.perClass));
  const xs = [...byX.keys()].sort((a, b) => a - b);
  return { xs, labels: xs.map((x) => byX.get(x)!) };
}

function chartLines(lines: StudyLine[], xs: number[], pick: 'accuracy' | 'time'): StudyChartLine[] {
  return lines.map((l) => {
    const at = (x: number) => l.points.find((p) => p.x === x);
    if (pick === 'time') return { label: l.strategy, mean: xs.map((x) => at(x)?.meanTrainSeconds ?? null) };
    return { label: l.strategy, mean: xs.map((x) => at(x)?.mean ?? null), low: xs.map((x) => at(x)?.min ?? null), high: xs.map((x) => at(x)?.max ?? null) };
  });
}

function legend(lines: StudyLine[]): HTMLUListElement {
  const ul = el('ul', undefined, 'legend');
  ul.setAttribute('aria-label', 'Strategies');
  lines.forEach((l, i) => {
    const li = el('li');
    const swatch = el('span', undefined, 'swatch');
    swatch.setAttribute('aria-hidden', 'true');
    // The chart's own colour for the line (a CSSOM write, which the nonce-only CSP allows).
    swatch.style.background = seriesStyle(i).color;
    li.append(swatch, el('span', l.strategy, 'strategy'));
    ul.append(li);
  });
  ul.append(el('li', 'line: mean over seeds · band: min–max over seeds', 'muted'));
  return ul;
}

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
  root.append(sentence, legend(state.lines));
  const { xs, labels } = axisOf(state.lines);
  const grid = el('section', undefined, 'charts');
  grid.setAttribute('aria-label', 'Charts against images per class');
  root.append(grid);
  if (xs.length > 0) {
    const accBox = el('figure', undefined, 'chart accuracy');
    const timeBox = el('figure', undefined, 'chart time');
    grid.append(accBox, timeBox);
    const common = { xs, xLabels: labels };
    const accuracy = {
      ...common,
      title: 'Test accuracy',
      yLabel: 'test accuracy',
      format: (y: number) => `${Math.round(y * 100)}%`,
      yRange: [0, 1] as [number, number],
    };
    charts.push(new StudyChart(accBox, accuracy, chartLines(state.lines, xs, 'accuracy')));
    const time = { ...common, title: 'Training time (mean over seeds)', yLabel: 'seconds', format: (y: number) => `${Number(y.toPrecision(2))} s`, logY: true };
    charts.push(new StudyChart(timeBox, time, chartLines(state.lines, xs, 'time')));
  } else grid.append(el('p', 'No cell has finished yet.', 'muted'));
  root.append(cellTable(state.cells, state.target));
  vscode.post({
    type: 'rendered',
    lines: state.lines.length,
    bands: charts.reduce((n, c) => n + c.bands, 0),
    points: state.lines.reduce((n, l) => n + l.points.length, 0),
    rows: state.cells.length,
    sentence: state.sentence !== null,
  });
}

// Theme changes restyle the canvas charts.
new MutationObserver(() => lastState && render(lastState)).observe(document.body, { attributes: true, attributeFilter: ['class'] });
vscode.post({ type: 'ready' });
