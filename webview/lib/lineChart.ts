// A small streaming line chart on a canvas. Points are appended, never re-sent; drawing
// reduces each series to min/max per pixel column, so 100,000 points cost what the pixels
// cost. Colours come from VS Code's theme variables.
export interface SeriesStyle {
  label: string;
  /** A CSS colour or var(--vscode-…) name. */
  color: string;
  dashed?: boolean;
  /** Exponential moving average weight for a smoothed line (0 = raw). */
  smoothing?: number;
  /** Draw points as dots (per-epoch values). */
  dots?: boolean;
}

class Series {
  xs = new Float64Array(1024);
  ys = new Float64Array(1024);
  n = 0;
  constructor(readonly style: SeriesStyle) {}
  push(x: number, y: number): void {
    if (!Number.isFinite(y)) return;
    if (this.n === this.xs.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.xs = grow(this.xs);
      this.ys = grow(this.ys);
    }
    this.xs[this.n] = x;
    this.ys[this.n] = y;
    this.n++;
  }
}

function cssColor(el: HTMLElement, color: string): string {
  const m = /^var\((--[^)]+)\)$/.exec(color);
  return m ? getComputedStyle(el).getPropertyValue(m[1]).trim() || '#888' : color;
}

export class LineChart {
  private readonly series = new Map<string, Series>();
  private readonly canvas: HTMLCanvasElement;
  private dirty = false;
  private readonly legend: HTMLElement;

  constructor(
    private readonly host: HTMLElement,
    title: string,
    private readonly yRange?: [number, number],
    /** The sidebar's mini charts are shorter and count epochs, not steps. */
    private readonly options: { height?: number; xLabel?: string } = {},
  ) {
    const heading = document.createElement('h3');
    heading.textContent = title;
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', title);
    this.legend = document.createElement('div');
    this.legend.className = 'legend';
    host.append(heading, this.canvas, this.legend);
    new ResizeObserver(() => this.invalidate()).observe(host);
    this.invalidate();
  }

  define(key: string, style: SeriesStyle): void {
    this.series.set(key, new Series(style));
    const item = document.createElement('span');
    item.className = 'legend-item';
    const swatch = document.createElement('span');
    swatch.className = `swatch${style.dashed ? ' dashed' : ''}`;
    swatch.style.setProperty('--swatch', cssColor(this.host, style.color));
    item.append(swatch, document.createTextNode(style.label));
    this.legend.append(item);
  }

  /** Points whose x is not after their series' last point, refused by append. A curve is a
   *  function of its x; such a point would draw a line back to the start. */
  outOfOrder = 0;

  append(key: string, points: { x: number; y: number }[]): void {
    const s = this.series.get(key);
    if (!s) return;
    for (const p of points) {
      if (s.n > 0 && !(p.x > s.xs[s.n - 1])) {
        this.outOfOrder++;
        continue;
      }
      s.push(p.x, p.y);
    }
    this.invalidate();
  }

  get pointCount(): number {
    let n = 0;
    for (const s of this.series.values()) n += s.n;
    return n;
  }

  /** A text summary for screen readers: the last value of each series. */
  describe(): string {
    return [...this.series.values()]
      .filter((s) => s.n > 0)
      .map((s) => `${s.style.label} ${s.ys[s.n - 1].toFixed(4)}`)
      .join(', ');
  }

  private invalidate(): void {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => this.draw());
  }

  draw(): void {
    this.dirty = false;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(100, this.host.clientWidth);
    const height = this.options.height ?? 180;
    this.canvas.width = width * dpr;
    this.canvas.height = height * dpr;
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${height}px`;
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.scale(dpr, dpr);
    g.clearRect(0, 0, width, height);
    const all = [...this.series.values()].filter((s) => s.n > 0);
    const pad = { l: 44, r: 8, t: 6, b: 18 };
    const fg = cssColor(this.host, 'var(--vscode-descriptionForeground)');
    g.font = `11px ${getComputedStyle(document.body).fontFamily}`;
    g.fillStyle = fg;
    if (all.length === 0) {
      g.fillText('waiting for data…', pad.l, height / 2);
      this.canvas.setAttribute('aria-label', `${this.canvas.getAttribute('aria-label')?.split(':')[0]}: no data yet`);
      return;
    }
    let x0 = Infinity,
      x1 = -Infinity,
      y0 = Infinity,
      y1 = -Infinity;
    for (const s of all)
      for (let i = 0; i < s.n; i++) {
        x0 = Math.min(x0, s.xs[i]);
        x1 = Math.max(x1, s.xs[i]);
        y0 = Math.min(y0, s.ys[i]);
        y1 = Math.max(y1, s.ys[i]);
      }
    if (this.yRange) [y0, y1] = [Math.min(y0, this.yRange[0]), Math.max(y1, this.yRange[1])];
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) [y0, y1] = y0 === 0 ? [-1, 1] : [y0 - Math.abs(y0) * 0.5, y1 + Math.abs(y1) * 0.5]; // a flat series sits mid-chart
    const W = width - pad.l - pad.r,
      H = height - pad.t - pad.b;
    const px = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * W;
    const py = (y: number) => pad.t + (1 - (y - y0) / (y1 - y0)) * H;
    // Axes and labels.
    g.strokeStyle = cssColor(this.host, 'var(--vscode-editorWidget-border)') || fg;
    g.globalAlpha = 0.6;
    g.beginPath();
    g.moveTo(pad.l, pad.t);
    g.lineTo(pad.l, pad.t + H);
    g.lineTo(pad.l + W, pad.t + H);
    g.stroke();
    g.globalAlpha = 1;
    g.fillText(y1.toPrecision(3), 2, pad.t + 8);
    g.fillText(y0.toPrecision(3), 2, pad.t + H);
    g.fillText(`${this.options.xLabel ?? 'step'} ${Math.round(x1)}`, pad.l + W - 60, height - 4);
    for (const s of all) drawSeries(g, s, cssColor(this.host, s.style.color), px, py);
    this.canvas.setAttribute('aria-label', `${this.canvas.getAttribute('aria-label')?.split(':')[0]}: ${this.describe()}`);
  }
}

/** One series: its dots, then its line as the min/max of each pixel column (of the smoothed values when smoothing is on). */
function drawSeries(g: CanvasRenderingContext2D, s: Series, color: string, px: (x: number) => number, py: (y: number) => number): void {
  g.strokeStyle = g.fillStyle = color;
  g.lineWidth = 1.5;
  g.setLineDash(s.style.dashed ? [4, 3] : []);
  if (s.style.dots) {
    for (let i = 0; i < s.n; i++) g.fillRect(px(s.xs[i]) - 2, py(s.ys[i]) - 2, 4, 4);
  }
  g.beginPath();
  let col = -1,
    lo = 0,
    hi = 0,
    first = true,
    ema = s.ys[0];
  const flush = () => {
    if (col < 0) return;
    if (first) {
      g.moveTo(col, py(lo));
      first = false;
    } else g.lineTo(col, py(lo));
    if (hi !== lo) g.lineTo(col, py(hi));
  };
  for (let i = 0; i < s.n; i++) {
    const w = s.style.smoothing ?? 0;
    ema = w > 0 ? w * ema + (1 - w) * s.ys[i] : s.ys[i];
    const c = Math.round(px(s.xs[i]));
    if (c !== col) {
      flush();
      col = c;
      lo = hi = ema;
    } else {
      lo = Math.min(lo, ema);
      hi = Math.max(hi, ema);
    }
  }
  flush();
  g.stroke();
}
