// The layer probe in Show Layers (browser side): the Probe column of a block's row (a bar of
// its probe accuracy, the number, and LogME), the recommended cut marked, and a small chart of
// probe accuracy by depth (inline SVG: attributes only, so the strict CSP needs no inline style).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ProbeFile } from '../../src/core/probeFile';
import { el } from './dom';

const pct = (x: number) => `${Math.round(x * 100)}%`;
const SVG = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

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

/** Probe accuracy by depth, the recommended block marked. */
export function probeChart(probe: ProbeFile): SVGSVGElement {
  const [w, h, pad] = [320, 90, 6];
  const chart = svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'probe-chart', role: 'img' });
  chart.setAttribute('aria-label', `Probe accuracy by depth: ${probe.blocks.map((b) => `${b.block} ${pct(b.accuracy)}`).join(', ')}`);
  const n = probe.blocks.length;
  const x = (i: number) => pad + (n <= 1 ? 0 : (i * (w - 2 * pad)) / (n - 1));
  const y = (a: number) => h - pad - a * (h - 2 * pad);
  const chance = 1 / Math.max(2, probe.dataset.classes.length);
  chart.append(svg('line', { x1: pad, x2: w - pad, y1: y(chance), y2: y(chance), class: 'probe-chance' }));
  chart.append(svg('polyline', { points: probe.blocks.map((b, i) => `${x(i)},${y(b.accuracy)}`).join(' '), class: 'probe-line' }));
  probe.blocks.forEach((b, i) => {
    const dot = svg('circle', {
      cx: x(i),
      cy: y(b.accuracy),
      r: probe.advice.block === b.block ? 4 : 2.5,
      class: probe.advice.block === b.block ? 'probe-dot recommended' : 'probe-dot',
    });
    const t = svg('title', {});
    t.textContent = `${b.block}: ${pct(b.accuracy)}, LogME ${b.logme.toFixed(3)}`;
    dot.append(t);
    chart.append(dot);
  });
  return chart;
}

/** The probe's summary above the tree: what was measured, what it recommends, the chart and the time. */
export function probeSummary(probe: ProbeFile | undefined): Node[] {
  if (!probe)
    return [
      el(
        'p',
        'Probe: measure how well each block’s features separate your classes (a linear probe and LogME per block, one pass of the frozen base).',
        'muted',
      ),
    ];
  const head = el('p', undefined, 'facts probe-measured');
  head.append(el('strong', 'Probe: '), document.createTextNode(`${probe.advice.measured}.`));
  const advice = el('p', undefined, `facts probe-advice${probe.advice.lowScore ? ' warning' : ''}`);
  advice.append(el('strong', 'Recommended: '), document.createTextNode(`${probe.advice.title}. ${probe.advice.reason}`));
  const when = el(
    'p',
    `Measured ${new Date(probe.createdAt).toLocaleString()} on ${probe.dataset.train} train / ${probe.dataset.val} val images in ${(probe.timings.totalMs / 1000).toFixed(1)} s; bars: probe accuracy, then LogME.`,
    'muted',
  );
  return [head, advice, probeChart(probe), when];
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
