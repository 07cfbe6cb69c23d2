// Pieces of the chart (chart.ts) that draw or build one thing: the best-epoch marker on
// uPlot's canvas, a legend entry that shows or hides its series, and a series' uPlot options.
import type uPlot from 'uplot';
import { el } from './dom';

/** A dashed vertical line at x with its label at the top, flipped left near the right edge. */
export function drawMarker(u: uPlot, marker: { x: number; label: string }, color: string): void {
  const x = Math.round(u.valToPos(marker.x, 'x', true));
  const { left, top, width, height } = u.bbox;
  if (!(x >= left && x <= left + width)) return;
  const g = u.ctx;
  const dpr = devicePixelRatio || 1;
  g.save();
  g.strokeStyle = g.fillStyle = color;
  g.lineWidth = dpr;
  g.setLineDash([4 * dpr, 3 * dpr]);
  g.beginPath();
  g.moveTo(x + 0.5, top);
  g.lineTo(x + 0.5, top + height);
  g.stroke();
  g.font = `${11 * dpr}px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
  g.textBaseline = 'top';
  const flip = x + 4 * dpr + g.measureText(marker.label).width > left + width;
  g.textAlign = flip ? 'right' : 'left';
  g.fillText(marker.label, flip ? x - 4 * dpr : x + 4 * dpr, top + 2 * dpr);
  g.restore();
}

/** A legend entry: a toggle button (aria-pressed) with the series' swatch; the swatch's colour is set by the chart. */
export function legendToggle(spec: { label: string; dash?: number[] }, onToggle: (show: boolean) => void): HTMLElement {
  const item = el('button', undefined, 'tl-legend-item');
  item.type = 'button';
  item.setAttribute('aria-pressed', 'true');
  item.title = `Show or hide ${spec.label}`;
  const swatch = el('span', undefined, `tl-swatch${spec.dash?.length ? ' dashed' : ''}`);
  swatch.setAttribute('aria-hidden', 'true');
  item.append(swatch, document.createTextNode(spec.label));
  item.addEventListener('click', () => {
    const show = item.getAttribute('aria-pressed') === 'false';
    item.setAttribute('aria-pressed', String(show));
    onToggle(show);
  });
  return item;
}

/** A series as uPlot draws it: a line in its colour, or, for a band's edge, no line (the band fills between the edges). */
export function seriesOptions(spec: { label: string; dash?: number[]; points?: boolean }, color: string, bandEdge: boolean): uPlot.Series {
  if (bandEdge) return { label: spec.label, stroke: 'transparent', width: 0, spanGaps: true, points: { show: false } };
  return { label: spec.label, stroke: color, width: 1.5, dash: spec.dash, spanGaps: true, points: { show: spec.points ?? false, size: 5, fill: color } };
}
