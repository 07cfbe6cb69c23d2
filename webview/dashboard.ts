// The run dashboard (browser side): header, live loss/accuracy/learning-rate curves, and,
// when the run is evaluated, the confusion matrix, per-class metrics and the most
// confidently wrong images. Renders what the host sends; remembers only its run folder.
import {
  DASHBOARD_PROTOCOL,
  parseDashboardMessage,
  type DashboardCurves,
  type DashboardHeader,
  type DashboardMessage,
  type DashboardRequest,
  type WrongImage,
} from '../src/core/dashboardMessages';
import type { EvaluationReport } from '../src/core/metrics';
import { DashboardCharts } from './lib/dashboardCharts';
import { cspViolations, el, openPage } from './lib/webviewPage';
import { neverTrainedNote } from './lib/neverTrained';

const { vscode, root } = openPage<DashboardMessage, DashboardRequest>(DASHBOARD_PROTOCOL, parseDashboardMessage, receive);

const header = el('section', undefined, 'header');
header.setAttribute('aria-live', 'polite');
const charts = el('section', undefined, 'charts');
const evaluationSection = el('section', undefined, 'evaluation');
const neverTrained = el('section', undefined, 'never-trained');
root.append(header, neverTrained, charts, evaluationSection);

const curves = new DashboardCharts(charts);

let lastHeader: DashboardHeader | undefined;

/** A run that ended before its first epoch: its error and what to do, instead of empty charts. */
function showNeverTrained(): void {
  const note = lastHeader && neverTrainedNote(lastHeader, curves.pointCount);
  charts.style.display = note ? 'none' : '';
  neverTrained.replaceChildren(...(note ? [el('h3', note.title), ...(note.message ? [el('p', note.message, 'error')] : []), el('p', note.next, 'muted')] : []));
}

function appendCurves(c: Partial<DashboardCurves>): void {
  curves.append(c);
  showNeverTrained();
  vscode.post({ type: 'rendered', points: curves.pointCount, outOfOrder: curves.outOfOrder });
}

const fmtEta = (s?: number) => (s === undefined ? '' : s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

function renderHeader(h: DashboardHeader): void {
  header.replaceChildren();
  const title = el('h2', `${h.experiment || 'Run'} · ${h.runId}`);
  const status = el('span', h.status, `status status-${h.status}`);
  title.append(' ', status);
  const facts = el('dl', undefined, 'facts');
  const add = (k: string, v: string | undefined) => {
    if (v === undefined || v === '') return;
    facts.append(el('dt', k), el('dd', v));
  };
  add('Backend', h.backend);
  add('Epoch', h.epoch !== undefined ? `${h.epoch}/${h.epochs ?? '?'}` : h.epochs !== undefined ? `0/${h.epochs}` : undefined);
  // Every accuracy says which one it is, in the words every view uses (core/runSummary.ts).
  add('Validation accuracy', h.accuracy?.last);
  add('Best validation accuracy', h.accuracy?.best);
  add(h.accuracy?.evaluation?.startsWith('test') === false ? 'Final evaluation' : 'Test accuracy', h.accuracy?.evaluation);
  add('Weights kept and exported', h.accuracy?.weights?.replace(/^weights: /, ''));
  add('Images/s', h.imagesPerSec !== undefined ? h.imagesPerSec.toFixed(0) : undefined);
  add('Learning rate', h.learningRate?.toExponential(2));
  add('ETA', h.status === 'running' ? fmtEta(h.etaSeconds) : undefined);
  header.append(title, facts);
  if (h.epoch !== undefined && h.epochs) {
    const progress = el('progress');
    progress.max = h.epochs;
    progress.value = h.epoch;
    progress.setAttribute('aria-label', `epoch ${h.epoch} of ${h.epochs}`);
    header.append(progress);
  }
  lastHeader = h;
  showNeverTrained();
  // The never-trained block shows the error already.
  if (h.message && neverTrained.childElementCount === 0) header.append(el('p', h.message, h.status === 'failed' ? 'error' : 'muted'));
}

function renderEvaluation(e: EvaluationReport, wrong: WrongImage[]): void {
  evaluationSection.replaceChildren();
  evaluationSection.append(el('h2', `Evaluation on the ${e.split} split: ${(e.accuracy * 100).toFixed(1)}% accuracy (${e.count} images)`));
  const top = Object.entries(e.topK)
    .map(([k, v]) => `${k.replace('top', 'top-')} ${(v * 100).toFixed(1)}%`)
    .join(' · ');
  evaluationSection.append(el('p', `${top} · macro F1 ${e.macroF1.toFixed(3)}`, 'muted'));

  // Confusion matrix: rows = true class, columns = predicted.
  const cm = el('table', undefined, 'confusion');
  cm.append(el('caption', 'Confusion matrix (rows: true class, columns: predicted)'));
  const head = el('tr');
  head.append(el('th', ''));
  for (const l of e.labels) head.append(Object.assign(el('th', l), { scope: 'col' }));
  cm.append(head);
  const max = Math.max(1, ...e.confusion.flat());
  e.confusion.forEach((row, i) => {
    const tr = el('tr');
    tr.append(Object.assign(el('th', e.labels[i]), { scope: 'row' }));
    row.forEach((v, j) => {
      const td = el('td', String(v), i === j ? 'diag' : v > 0 ? 'off' : '');
      td.style.setProperty('--weight', String(v / max));
      td.setAttribute('aria-label', `${v} ${e.labels[i]} predicted as ${e.labels[j]}`);
      tr.append(td);
    });
    cm.append(tr);
  });

  const pc = el('table', undefined, 'per-class');
  pc.append(el('caption', 'Per class'));
  const h = el('tr');
  for (const c of ['class', 'precision', 'recall', 'F1', 'images']) h.append(Object.assign(el('th', c), { scope: 'col' }));
  pc.append(h);
  for (const p of e.perClass) {
    const tr = el('tr');
    tr.append(el('td', p.label), el('td', p.precision.toFixed(3)), el('td', p.recall.toFixed(3)), el('td', p.f1.toFixed(3)), el('td', String(p.support)));
    pc.append(tr);
  }
  const tables = el('div', undefined, 'tables');
  tables.append(cm, pc);
  evaluationSection.append(tables);

  if (wrong.length > 0) {
    evaluationSection.append(el('h3', 'Most confidently wrong'));
    const grid = el('div', undefined, 'wrong');
    for (const w of wrong) {
      const fig = el('figure');
      const img = el('img');
      img.src = w.uri;
      img.alt = `${w.path}: ${w.trueLabel} predicted as ${w.predictedLabel}`;
      const cap = el('figcaption', `${w.trueLabel} → ${w.predictedLabel} (${(w.confidence * 100).toFixed(0)}%)`);
      const button = el('button', undefined, 'thumb');
      button.title = `${w.path} — reveal in the explorer`;
      button.append(img);
      button.addEventListener('click', () => vscode.post({ type: 'reveal', path: w.path }));
      fig.append(button, cap);
      grid.append(fig);
    }
    evaluationSection.append(grid);
  }
}

function receive(m: DashboardMessage): void {
  switch (m.type) {
    case 'init':
      vscode.setState({ runDir: m.runDir });
      renderHeader(m.header);
      curves.setCheckpointMetric(m.checkpointMetric);
      appendCurves(m.curves);
      if (m.evaluation) renderEvaluation(m.evaluation, m.wrong ?? []);
      break;
    case 'append':
      appendCurves(m.curves);
      break;
    case 'header':
      renderHeader(m.header);
      break;
    case 'evaluation':
      renderEvaluation(m.evaluation, m.wrong);
      break;
    case 'describe-charts':
      vscode.post({
        type: 'charts',
        charts: curves.reports(),
        cspViolations,
        notice: charts.style.display === 'none' ? (neverTrained.textContent ?? '') : undefined,
      });
      break;
  }
}
vscode.post({ type: 'ready' });
