// The Study panel's chart on uPlot: one mean line per strategy against images per class (log x
// axis), with an optional min..max band over seeds. uPlot styles its elements through the CSSOM
// (element.style.x = ...), which a nonce-only CSP allows (it blocks style attributes in markup and
// <style> elements, not property writes); its stylesheet ships as media/uplot.min.css, imported
// by media/study.css from the webview's own origin.
import uPlot from 'uplot';
import { seriesStyle } from '../lib/seriesStyle';

export interface StudyChartLine {
  label: string;
  /** One value (or gap) per x. */
  mean: (number | null)[];
  /** The spread band's edges, per x; omitted: no band. */
  low?: (number | null)[];
  high?: (number | null)[];
}

export interface StudyChartOptions {
  title: string;
  yLabel: string;
  /** The sizes on the x axis (images per class), ascending, and what each is called ('all'). */
  xs: number[];
  xLabels: string[];
  format: (y: number) => string;
  yRange?: [number, number];
  logY?: boolean;
}

const cssVar = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** '#rrggbb' (VS Code's chart colours) with an alpha, for the translucent bands. */
export function translucent(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(color);
  if (!m) return color;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${alpha})`;
}

export class StudyChart {
  private plot: uPlot | undefined;
  private readonly observer: ResizeObserver;
  /** How many bands the last draw filled (tests read it through the 'rendered' message). */
  bands = 0;

  constructor(
    private readonly box: HTMLElement,
    private readonly options: StudyChartOptions,
    private readonly lines: StudyChartLine[],
  ) {
    this.observer = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.observer.observe(box);
    this.draw();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(240, this.box.clientWidth - 12), height: 260 };
  }

  private draw(): void {
    const o = this.options;
    const fg = cssVar('--vscode-foreground', '#cccccc');
    const grid = cssVar('--vscode-editorWidget-border', '#454545');
    const data: uPlot.AlignedData = [o.xs];
    const series: uPlot.Series[] = [{ label: 'images per class' }];
    const bands: uPlot.Band[] = [];
    this.lines.forEach((line, i) => {
      const { color, dash } = seriesStyle(i);
      data.push(line.mean);
      series.push({ label: line.label, stroke: color, dash, width: 2, points: { show: true, size: 6 }, spanGaps: true });
      if (line.low && line.high) {
        const edge = { stroke: 'transparent', width: 0, points: { show: false }, spanGaps: true };
        data.push(line.high, line.low);
        series.push({ ...edge, label: `${line.label} max` }, { ...edge, label: `${line.label} min` });
        bands.push({ series: [series.length - 2, series.length - 1], fill: translucent(color, 0.18) });
      }
    });
    this.bands = bands.length;
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    this.plot = new uPlot(
      {
        ...this.size(),
        title: o.title,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false, distr: 3, log: 10 }, y: { distr: o.logY ? 3 : 1, log: 10, ...(o.yRange ? { range: o.yRange } : {}) } },
        series,
        bands,
        axes: [
          {
            ...axis,
            label: 'images per class (log scale)',
            splits: () => o.xs,
            values: (_u, splits) => splits.map((x) => (x == null ? '' : (o.xLabels[o.xs.indexOf(x)] ?? String(x)))),
          },
          // uPlot hands null for the splits a log axis leaves unlabelled.
          { ...axis, label: o.yLabel, size: 56, values: (_u, splits) => splits.map((y) => (y == null ? '' : o.format(y))) },
        ],
      },
      data,
      this.box,
    );
    const canvas = this.box.querySelector('canvas');
    canvas?.setAttribute('role', 'img');
    canvas?.setAttribute('aria-label', this.describe());
  }

  /** A text alternative: per strategy, the value at each size. */
  describe(): string {
    const o = this.options;
    const parts = this.lines.map((l) => `${l.label}: ${l.mean.map((y, i) => `${o.xLabels[i]} per class ${y === null ? 'no data' : o.format(y)}`).join(', ')}`);
    return `${o.title}. ${parts.join('; ')}.`;
  }

  dispose(): void {
    this.observer.disconnect();
    this.plot?.destroy();
  }
}
