// A small canvas line chart for the Compare view: several series over epochs, one colour
// and dash pattern per series (readable without colour), axes with ticks, crisp on HiDPI,
// themed by VS Code's CSS variables. Redraws on resize and theme changes.

export interface ChartSeries {
  label: string;
  color: string;
  dash: number[];
  points: { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  yLabel: string;
  /** Formats a y value for ticks. */
  format: (y: number) => string;
  /** Fixed y range (e.g. accuracy 0..1); otherwise from the data. */
  yRange?: [number, number];
}

const cssVar = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** Colours from the theme's chart palette, then dash patterns so series differ without colour. */
export function seriesStyle(i: number): { color: string; dash: number[] } {
  const names = [
    '--vscode-charts-blue',
    '--vscode-charts-orange',
    '--vscode-charts-green',
    '--vscode-charts-purple',
    '--vscode-charts-red',
    '--vscode-charts-yellow',
  ];
  const fallbacks = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];
  const dashes = [[], [6, 3], [2, 3], [8, 3, 2, 3], [12, 4], [1, 2]];
  return { color: cssVar(names[i % names.length], fallbacks[i % fallbacks.length]), dash: dashes[i % dashes.length] };
}

function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

export class LineChart {
  readonly canvas: HTMLCanvasElement;
  private series: ChartSeries[] = [];
  private readonly observer: ResizeObserver;

  constructor(
    container: HTMLElement,
    private readonly options: ChartOptions,
  ) {
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.tabIndex = 0;
    container.append(this.canvas);
    this.observer = new ResizeObserver(() => this.draw());
    this.observer.observe(container);
  }

  setSeries(series: ChartSeries[]): void {
    this.series = series;
    this.canvas.setAttribute('aria-label', this.describe());
    this.draw();
  }

  /** A text alternative: per series, the last and best values. */
  describe(): string {
    const o = this.options;
    const parts = this.series.map((s) => {
      if (s.points.length === 0) return `${s.label}: no data`;
      const last = s.points[s.points.length - 1];
      return `${s.label}: ${o.format(last.y)} at epoch ${last.x}`;
    });
    return `${o.title} per epoch. ${parts.join('; ')}.`;
  }

  draw(): void {
    const dpr = window.devicePixelRatio || 1;
    const width = this.canvas.parentElement?.clientWidth ?? 400;
    const height = 220;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * dpr);
    this.canvas.height = Math.round(height * dpr);
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const fg = cssVar('--vscode-foreground', '#ccc');
    const muted = cssVar('--vscode-descriptionForeground', '#999');
    const grid = cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#444'));
    const font = cssVar('--vscode-font-family', 'sans-serif');
    const pad = { left: 52, right: 12, top: 22, bottom: 30 };
    const plotW = Math.max(10, width - pad.left - pad.right);
    const plotH = height - pad.top - pad.bottom;

    const all = this.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
    ctx.font = `12px ${font}`;
    ctx.fillStyle = fg;
    ctx.fillText(this.options.title, pad.left, 14);
    if (all.length === 0) {
      ctx.fillStyle = muted;
      ctx.fillText('No epochs recorded yet', pad.left, pad.top + plotH / 2);
      return;
    }
    const xMax = Math.max(2, ...all.map((p) => p.x));
    const xMin = 1;
    let [yMin, yMax] = this.options.yRange ?? [Math.min(...all.map((p) => p.y)), Math.max(...all.map((p) => p.y))];
    if (!this.options.yRange) {
      const span = yMax - yMin || Math.abs(yMax) || 1;
      yMin = Math.max(0, yMin - span * 0.05);
      yMax = yMax + span * 0.05;
    }
    const X = (x: number) => pad.left + ((x - xMin) / (xMax - xMin)) * plotW;
    const Y = (y: number) => pad.top + (1 - (y - yMin) / (yMax - yMin || 1)) * plotH;

    // Grid and ticks.
    ctx.strokeStyle = grid;
    ctx.lineWidth = 1;
    ctx.fillStyle = muted;
    ctx.font = `11px ${font}`;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const t of niceTicks(yMin, yMax, 4)) {
      const y = Math.round(Y(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(pad.left + plotW, y);
      ctx.stroke();
      ctx.fillText(this.options.format(t), pad.left - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const t of niceTicks(xMin, xMax, Math.min(8, xMax - xMin)).filter((t) => Number.isInteger(t))) {
      ctx.fillText(String(t), X(t), pad.top + plotH + 6);
    }
    ctx.fillText('epoch', pad.left + plotW / 2, pad.top + plotH + 17);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';

    // Series: line with its dash pattern, and a marker per epoch.
    for (const s of this.series) {
      const pts = s.points.filter((p) => Number.isFinite(p.y));
      if (pts.length === 0) continue;
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dash);
      ctx.beginPath();
      pts.forEach((p, i) => (i === 0 ? ctx.moveTo(X(p.x), Y(p.y)) : ctx.lineTo(X(p.x), Y(p.y))));
      ctx.stroke();
      ctx.setLineDash([]);
      if (pts.length <= 60) for (const p of pts) ctx.fillRect(X(p.x) - 2, Y(p.y) - 2, 4, 4);
    }
  }

  dispose(): void {
    this.observer.disconnect();
    this.canvas.remove();
  }
}
