// Sidebar dashboard (browser side). Renders the state the host sends; asks the host to act.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { DASHBOARD_VIEW_PROTOCOL, parseDashboardViewState, type DashboardViewRequest, type DashboardViewState } from '../src/core/dashboardViewMessages';
import { el } from './lib/dom';
import { connect } from './lib/hostChannel';

const vscode = connect<DashboardViewState, DashboardViewRequest>(DASHBOARD_VIEW_PROTOCOL, parseDashboardViewState, render);
const root = document.getElementById('root')!;

function renderRun(run: NonNullable<DashboardViewState['run']>): void {
  root.append(el('h2', run.status === 'running' ? 'Training' : 'Latest run'));
  const table = el('dl', undefined, 'facts');
  const pct = (v?: number) => (v !== undefined && Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : undefined);
  const rows: [string, string | undefined][] = [
    ['Experiment', run.experiment],
    ['Run', run.id],
    ['Status', run.status],
    ['Epoch', run.epoch !== undefined ? `${run.epoch}/${run.epochs ?? '?'}` : undefined],
    [run.status === 'running' ? 'Val accuracy' : 'Best val acc', pct(run.valAccuracy)],
    ['Test accuracy', pct(run.testAccuracy)],
    ['Backend', run.backend],
  ];
  for (const [k, v] of rows) if (v) table.append(el('dt', k), el('dd', v, k === 'Status' ? `status-${run.status}` : undefined));
  root.append(table);
  if (run.status === 'running' && run.epoch !== undefined && run.epochs) {
    const progress = el('progress');
    progress.max = run.epochs;
    progress.value = run.epoch;
    progress.setAttribute('aria-label', `epoch ${run.epoch} of ${run.epochs}`);
    root.append(progress);
  }
  if (run.message) root.append(el('p', run.message, run.status === 'failed' ? 'error' : 'muted'));
  const actions = el('div', undefined, 'actions');
  const open = document.createElement('vscode-button');
  open.textContent = 'Open Dashboard';
  open.addEventListener('click', () => vscode.post({ type: 'command', command: 'transferLab.openDashboard', runDir: run.runDir }));
  actions.append(open);
  if (run.status === 'running') {
    const stop = document.createElement('vscode-button');
    stop.setAttribute('secondary', '');
    stop.textContent = 'Stop';
    stop.addEventListener('click', () => vscode.post({ type: 'command', command: 'transferLab.stopRun', runDir: run.runDir }));
    actions.append(stop);
  }
  root.append(actions);
}

function render(state: DashboardViewState): void {
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
  const button = document.createElement('vscode-button');
  button.textContent = state.report ? 'Check again' : 'Show Environment';
  button.addEventListener('click', () => vscode.post({ type: 'command', command: 'transferLab.showEnvironment' }));
  root.append(button);
  root.append(el('p', `${state.experiments} experiment file${state.experiments === 1 ? '' : 's'} in this workspace.`, 'muted'));
}

vscode.post({ type: 'ready' });
