// The layer probe in Show Layers (browser side): the Probe column of a block's row (a bar of
// its probe accuracy, the number, and LogME), the recommended cut marked, and a chart of probe
// accuracy by depth (the shared chart component, webview/lib/chart.ts, with the blocks as its x).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ProbeFile } from '../../src/core/probeFile';
import { el } from './dom';
import { Chart } from './chart';
import type { ChartReport } from '../../src/core/chartReport';

const pct = (x: number) => `${Math.round(x * 100)}%`;
/** The Probe cell of the row named `name` (a block, or a layer standing alone): empty when the probe did not look there. */
export function probeCell(probe: ProbeFile | undefined, name: string): HTMLElement {
  const cell = el('span', undefined, 'probe-cell');
  const b = probe?.blocks.find((x) => x.block === name);
  if (!probe || !b) return cell;
  const recommended = probe.advice.block === name;
  cell.classList.toggle('recommended', recommended);
  cell.dataset.accuracy = String(b.accuracy);
  cell.dataset.logme = String(b.logme);
  const bar = el('span', undefined, 'probe-bar');
  const fill = el('span', undefined, 'probe-fill');
  // CSSOM, not a style attribute: allowed under the panel's CSP.
  fill.style.width = `${Math.round(b.accuracy * 100)}%`;
  bar.append(fill);
  cell.append(bar, el('span', `${recommended ? '★ ' : ''}${pct(b.accuracy)}`, 'probe-acc'), el('span', b.logme.toFixed(2), 'probe-logme'));
  cell.title = `Probe of ${b.layer}'s output (${b.features} features, pooled): ${pct(b.accuracy)} on ${b.accuracyOn}, LogME ${b.logme.toFixed(3)}${recommended ? '; the recommended cut' : ''}`;
  return cell;
}

/** Probe accuracy by depth on the shared chart: the blocks by name along x, chance as a dashed line, the recommended block as the marker. */
function probeChart(host: HTMLElement, probe: ProbeFile): Chart {
  const chart = new Chart(host, {
    title: 'Probe accuracy by depth',
    xLabel: 'block',
    yLabel: 'probe accuracy',
    xCategories: probe.blocks.map((b) => b.block),
    format: pct,
    yRange: [0, 1],
    height: 150,
    ariaLabel: `Probe accuracy by depth: ${probe.blocks.map((b) => `${b.block} ${pct(b.accuracy)}`).join(', ')}; recommended ${probe.advice.block}`,
  });
  chart.root.classList.add('probe-chart');
  chart.define('accuracy', {
    label: `probe accuracy (${probe.blocks[0]?.accuracyOn ?? 'val'})`,
    short: 'accuracy',
    color: '--vscode-charts-blue',
    points: true,
  });
  chart.define('chance', { label: 'chance', color: '--vscode-descriptionForeground', dash: [3, 3] });
  chart.set(
    'accuracy',
    probe.blocks.map((b, i) => ({ x: i, y: b.accuracy })),
  );
  const chance = 1 / Math.max(2, probe.dataset.classes.length);
  chart.set('chance', [
    { x: 0, y: chance },
    { x: Math.max(1, probe.blocks.length - 1), y: chance },
  ]);
  const best = probe.blocks.findIndex((b) => b.block === probe.advice.block);
  chart.setMarker(best < 0 ? undefined : best, `recommended: ${probe.advice.block}`);
  return chart;
}

/** The probe's summary above the tree (what was measured, what it recommends, the chart and the time), kept while the probe is the same one. */
export class ProbeSummary {
  private chart: Chart | undefined;
  private shown: ProbeFile | undefined;

  constructor(private readonly box: HTMLElement) {}

  /** What the chart holds and drew (a test hook asks through the host). */
  reports(): ChartReport[] {
    return this.chart ? [this.chart.state()] : [];
  }

  show(probe: ProbeFile | undefined): void {
    if (probe && this.shown && probe.createdAt === this.shown.createdAt && this.chart) return;
    this.chart?.dispose();
    this.chart = undefined;
    this.shown = probe;
    if (!probe) {
      this.box.replaceChildren(
        el(
          'p',
          'Probe: measure how well each block’s features separate your classes (a linear probe and LogME per block, one pass of the frozen base).',
          'muted',
        ),
      );
      return;
    }
    const head = el('p', undefined, 'facts probe-measured');
    head.append(el('strong', 'Probe: '), document.createTextNode(`${probe.advice.measured}.`));
    const advice = el('p', undefined, `facts probe-advice${probe.advice.lowScore ? ' warning' : ''}`);
    advice.append(el('strong', 'Recommended: '), document.createTextNode(`${probe.advice.title}. ${probe.advice.reason}`));
    const when = el(
      'p',
      `Measured ${new Date(probe.createdAt).toLocaleString()} on ${probe.dataset.train} train / ${probe.dataset.val} val images in ${(probe.timings.totalMs / 1000).toFixed(1)} s; bars: probe accuracy, then LogME.`,
      'muted',
    );
    this.box.replaceChildren(head, advice);
    this.chart = probeChart(this.box, probe);
    this.box.append(when);
  }
}

/** The toolbar's Probe button. */
export function probeButtonFor(onClick: () => void): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = 'Probe';
  b.setAttribute('secondary', '');
  b.title = 'Measure each block: how well its features separate your classes (runs the frozen base once over train and val)';
  b.addEventListener('click', onClick);
  return b;
}
