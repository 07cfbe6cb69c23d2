// Sidebar dashboard (browser side). Renders the state the host sends; asks the host to act.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import {
  DASHBOARD_VIEW_PROTOCOL,
  parseDashboardViewState,
  type DashboardCommand,
  type DashboardViewRequest,
  type DashboardViewState,
} from '../src/core/dashboardViewMessages';
import { Chart } from './lib/chart';
import { bestEpoch, formatPercent } from './lib/chartData';
import { el, epochProgress, openPage, vscodeButton } from './lib/webviewPage';

const { vscode, root } = openPage<DashboardViewState, DashboardViewRequest>(DASHBOARD_VIEW_PROTOCOL, parseDashboardViewState, render);

type ViewRun = NonNullable<DashboardViewState['run']>;

function runFacts(run: ViewRun): HTMLElement {
  const table = el('dl', undefined, 'facts');
  const rows: [string, string | undefined][] = [
    ['Experiment', run.experiment],
    ['Run', run.id],
    ['Status', run.status],
    ['Epoch', run.epoch !== undefined ? `${run.epoch} of ${run.epochs ?? '?'}` : undefined],
    // Labelled by the host (core/runSummary.ts): the same words as the panel, the CodeLens and the status bar.
    ['Val accuracy', run.accuracy?.last],
    ['Best val acc', run.accuracy?.best],
    [run.accuracy?.evaluation?.startsWith('test') === false ? 'Final evaluation' : 'Test accuracy', run.accuracy?.evaluation],
    ['Weights', run.accuracy?.weights?.replace(/^weights: /, '')],
    ['Backend', run.backend],
  ];
  for (const [k, v] of rows) if (v) table.append(el('dt', k), el('dd', v, k === 'Status' ? `status-${run.status}` : undefined));
  return table;
}

/** The mini charts on screen: disposed before each render (each watches the theme and its size). */
let minis: Chart[] = [];

/** Loss and accuracy per epoch, small and compact (no legend; hover still reads values): the panel (Open Dashboard) has the full curves. */
function miniCharts(curves: NonNullable<ViewRun['curves']>): HTMLElement {
  const box = el('div', undefined, 'mini-charts');
  const loss = new Chart(box, { title: 'Loss', compact: true });
  const accuracy = new Chart(box, { title: 'Accuracy', compact: true, yRange: [0, 1], format: formatPercent });
  loss.define('epochLoss', { label: 'train', short: 'loss', color: '--vscode-charts-blue', points: true });
  loss.define('valLoss', { label: 'validation', short: 'val', color: '--vscode-charts-orange', points: true });
  accuracy.define('epochAccuracy', { label: 'train', short: 'acc', color: '--vscode-charts-green', points: true });
  accuracy.define('valAccuracy', { label: 'validation', short: 'val', color: '--vscode-charts-orange', points: true });
  for (const key of ['epochLoss', 'valLoss'] as const) loss.append(key, curves[key]);
  for (const key of ['epochAccuracy', 'valAccuracy'] as const) accuracy.append(key, curves[key]);
  const best = bestEpoch(curves.valAccuracy, 'max');
  for (const c of [loss, accuracy]) c.setMarker(best?.x);
  minis.push(loss, accuracy);
  return box;
}

const button = (label: string, run: ViewRun, command: DashboardCommand, secondary = false): HTMLElement =>
  vscodeButton(label, () => vscode.post({ type: 'command', command, runDir: run.runDir }), { secondary });

function renderRun(run: ViewRun): void {
  root.append(el('h2', run.status === 'running' ? 'Training' : 'Run'), runFacts(run));
  if (run.status === 'running' && run.epoch !== undefined && run.epochs) root.append(epochProgress(run.epoch, run.epochs));
  if (run.message) root.append(el('p', run.message, run.status === 'failed' ? 'error' : 'muted'));
  if (run.curves && run.curves.epochLoss.length > 0) root.append(miniCharts(run.curves));
  const actions = el('div', undefined, 'actions');
  if (run.status === 'running') actions.append(button('Stop', run, 'transferLab.stopRun', true));
  actions.append(button('Open Dashboard', run, 'transferLab.openDashboard'));
  root.append(actions);
}

function render(state: DashboardViewState): void {
  for (const c of minis) c.dispose();
  minis = [];
  root.replaceChildren();
  if (state.run) renderRun(state.run);
  const heading = el('h2', 'Environment');
  root.append(heading);
  if (state.report) {
    const r = state.report;
    const table = el('dl', undefined, 'facts');
    const rows: [string, string][] = [
      ['Backend', r.backend],
      ['TensorFlow.js', r.tfjsVersion + (r.tensorflowVersion ? ` (TF ${r.tensorflowVersion})` : '')],
      ['Threads', String(r.threads)],
      ['Load time', `${Math.round(r.loadMs)} ms`],
      ['Memory free', `${r.memory.systemFreeMB} / ${r.memory.systemTotalMB} MB`],
    ];
    for (const [k, v] of rows) table.append(el('dt', k), el('dd', v, k === 'Backend' ? `backend backend-${r.backend}` : undefined));
    root.append(table);
    if (r.fallbacks.length > 0) {
      const warn = el('p', undefined, 'warning');
      warn.setAttribute('role', 'alert');
      warn.textContent = `Fell back from ${r.fallbacks.map((f) => `${f.backend} (${f.error})`).join(', ')}. Training will be slower.`;
      root.append(warn);
    }
  } else if (state.failure) {
    const p = el('p', `The trainer failed: ${state.failure}`, 'error');
    p.setAttribute('role', 'alert');
    root.append(p);
  } else {
    root.append(el('p', 'The training backend has not been checked yet in this window.'));
  }
  root.append(vscodeButton(state.report ? 'Check again' : 'Show Environment', () => vscode.post({ type: 'command', command: 'transferLab.showEnvironment' })));
  root.append(el('p', `${state.experiments} experiment file${state.experiments === 1 ? '' : 's'} in this workspace.`, 'muted'));
}

vscode.post({ type: 'ready' });
