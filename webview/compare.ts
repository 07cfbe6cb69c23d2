// Compare Runs (browser side): the runs' validation accuracy, validation loss and training
// loss per epoch overlaid, a legend, the config fields that differ and the final metrics.
// Renders the CompareState the host sends; asks the host only to open a run's dashboard.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { COMPARE_PROTOCOL, parseCompareState, type CompareState, type CompareRow, type CompareViewMessage } from '../src/core/compareMessages';
import { Chart } from './lib/chart';
import { formatPercent } from './lib/chartData';
import { paletteEntry } from './lib/theme';
import { el, openPage, vscodeButton } from './lib/webviewPage';

const { vscode, root } = openPage<CompareState, CompareViewMessage>(COMPARE_PROTOCOL, parseCompareState, receive);
let charts: Chart[] = [];

function receive(state: CompareState): void {
  vscode.setState({ runDirs: state.runDirs ?? [] });
  render(state);
}

function table(caption: string, rows: CompareRow[], state: CompareState, className: string): HTMLTableElement {
  const t = el('table', undefined, `compare-table ${className}`);
  t.append(el('caption', caption));
  const head = el('thead');
  const hr = el('tr');
  const corner = el('th', 'field');
  corner.scope = 'col';
  hr.append(corner);
  state.runs.forEach((r, i) => {
    const th = el('th');
    th.scope = 'col';
    const swatch = el('span', undefined, `swatch swatch-${i % 6}`);
    swatch.setAttribute('aria-hidden', 'true');
    th.append(swatch, document.createTextNode(r.label));
    th.title = r.id;
    hr.append(th);
  });
  head.append(hr);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    const th = el('th', row.field);
    th.scope = 'row';
    tr.append(th);
    row.values.forEach((v, i) => {
      const td = el('td', v);
      if (row.best === i) {
        td.classList.add('best');
        td.setAttribute('aria-label', `${v} (best)`);
      }
      tr.append(td);
    });
    body.append(tr);
  }
  t.append(head, body);
  return t;
}

function legendItem(r: CompareState['runs'][number], i: number): HTMLLIElement {
  const li = el('li');
  const sample = el('span', undefined, `swatch swatch-${i % 6}`);
  sample.setAttribute('aria-hidden', 'true');
  const name = el('span', r.label, 'run-label');
  const id = el('span', `${r.id} · ${r.status}`, 'muted run-id');
  const open = vscodeButton('Dashboard', () => vscode.post({ type: 'open-dashboard', run: i }), {
    secondary: true,
    ariaLabel: `Open the dashboard of ${r.label} (${r.id})`,
  });
  const text = el('div', undefined, 'run-text');
  text.append(name, id);
  li.append(sample, text, open);
  return li;
}

function render(state: CompareState): void {
  for (const c of charts) c.dispose();
  charts = [];
  root.replaceChildren();
  root.append(el('h2', `Comparing ${state.runs.length} runs`));

  // The runs: colour swatch and name, one button each opens its dashboard (each chart's own legend hides a run).
  const legend = el('ul', undefined, 'legend');
  legend.setAttribute('aria-label', 'Runs');
  state.runs.forEach((r, i) => legend.append(legendItem(r, i)));
  root.append(legend);

  const grid = el('section', undefined, 'charts');
  grid.setAttribute('aria-label', 'Curves per epoch');
  const specs: {
    title: string;
    pick: (p: CompareState['runs'][number]['points'][number]) => number | undefined;
    percent: boolean;
    range?: [number, number];
  }[] = [
    { title: 'Validation accuracy', pick: (p) => p.valAccuracy, percent: true, range: [0, 1] },
    { title: 'Validation loss', pick: (p) => p.valLoss, percent: false },
    { title: 'Training loss', pick: (p) => p.loss, percent: false },
  ];
  for (const spec of specs) {
    // One series per run, one colour and dash pattern each (readable without colour); the chart's legend hides a run.
    const chart = new Chart(grid, { title: spec.title, yLabel: spec.title, format: spec.percent ? formatPercent : undefined, yRange: spec.range });
    state.runs.forEach((r, i) => chart.define(`run${i}`, { label: r.label, color: paletteEntry(i).variable, dash: paletteEntry(i).dash, points: true }));
    state.runs.forEach((r, i) =>
      chart.set(
        `run${i}`,
        r.points.flatMap((p) => {
          const y = spec.pick(p);
          return y === undefined ? [] : [{ x: p.epoch, y }];
        }),
      ),
    );
    charts.push(chart);
  }
  root.append(grid);

  root.append(table('Final metrics (best marked)', state.metrics, state, 'metrics'));
  if (state.differences.length > 0) root.append(table('Configuration: what differs', state.differences, state, 'differences'));
  else root.append(el('p', 'The runs have the same configuration (they differ only in randomness or data).', 'muted'));
  if (state.sameCount > 0) root.append(el('p', `${state.sameCount} other settings are the same in every run.`, 'muted'));

  vscode.post({
    type: 'rendered',
    runs: state.runs.length,
    charts: charts.length,
    differenceRows: state.differences.length,
    metricRows: state.metrics.length,
  });
}

vscode.post({ type: 'ready' });
