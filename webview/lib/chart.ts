// The one chart every Transfer Lab webview draws with (Dashboard, sidebar, Compare, Study,
// probe): curves over an epoch, log-size or category axis (chartAxes.ts) on uPlot. Why uPlot: ~50 KB minified with no
// dependencies, draws on a canvas (no SVG node per point), was built for streaming time
// series (setData of 100,000+ points redraws in milliseconds; bench/chartAppend.ts), and sets
// its few styles through the CSSOM, which our nonce-only CSP allows (no inline style
// attributes, no eval). What this adds on top: the hover readout of every series, nice
// ticks, a log y axis, min..max bands, the best-epoch marker, legend toggles, redraw on a theme
// change and on resize. The pure parts (table, ticks, readout) are in chartData.ts, colours in theme.ts.
import uPlot from 'uplot';
import { formatValue, linearRange, logRange, logTicks, niceTicks, readoutText, formatEpoch, SeriesTable, type Point } from './chartData';
import { bandLayout, translucent, xAxisFor, type BandSpec, type XAxis, type XAxisOptions } from './chartAxes';
import { chartColors, themeKind, type ChartColors } from './theme';
import type { ChartReport } from '../../src/core/chartReport';
import { el, onThemeChange } from './dom';
import { drawMarker, legendToggle, seriesOptions } from './chartParts';

export type { Point } from './chartData';

/** The x axis: epochs unless the options say log sizes (`logX`) or categories (`xCategories`). */
export interface ChartOptions extends XAxisOptions {
  title: string;
  /** The x axis' name; 'epoch' unless said. Batch points sit at fractional epochs. */
  xLabel?: string;
  /** The y axis' name, shown beside it (not in compact charts). */
  yLabel?: string;
  /** Formats y values for ticks and the readout (default: a few significant digits). */
  format?: (y: number) => string;
  /** A log y axis (learning rates span decades). */
  logY?: boolean;
  /** A y range always shown when the data fits in it (accuracy 0..1). */
  yRange?: [number, number];
  /** The sidebar's mini charts: short, no legend and no axis names; hover still reads values. */
  compact?: boolean;
  /** Plot height in CSS pixels. */
  height?: number;
  /** The canvas' text alternative, for charts whose data is set once (every probed block); default: each series' last value. */
  ariaLabel?: string;
}

export interface SeriesSpec {
  label: string;
  /** The name in the hover readout ("val" for "validation"); the label when left out. */
  short?: string;
  /** A VS Code theme colour variable such as '--vscode-charts-blue', read again on each theme change. */
  color: string;
  dash?: number[];
  /** Markers at each point (per-epoch values). */
  points?: boolean;
  /** Exponential moving average weight (0..1) for noisy per-batch curves. */
  smoothing?: number;
  /** A band in this series' colour between two series defined before it (min..max over seeds); they draw no line of their own. */
  band?: BandSpec;
}

/** Tick labels; uPlot passes null for a split its log-axis filter hides (too dense), which gets no label. */
const tickLabels = (splits: readonly (number | null)[], format: (v: number) => string): string[] => splits.map((v) => (v === null ? '' : format(v)));

/** Within this many x units of the hovered point a series' nearest point counts as "at the cursor". */
const READOUT_REACH = 0.5;

export class Chart {
  readonly root: HTMLElement;
  private readonly table = new SeriesTable();
  private readonly specs: (SeriesSpec & { key: string })[] = [];
  private readonly keys = new Map<string, number>();
  private readonly ema = new Map<number, number>();
  private readonly hidden = new Set<number>();
  private readonly plotBox: HTMLElement;
  private readonly legend: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly disposers: (() => void)[] = [];
  private plot: uPlot | undefined;
  private colors: ChartColors;
  private marker: { x: number; label: string } | null = null;
  private frame = 0;
  private stale = false;
  private autoX: [number, number] | undefined;
  private ticks = { x: [] as string[], y: [] as string[] };
  private draws = 0;
  private lastDrawMs = 0;
  private readonly xAxis: XAxis;
  private bands: ReturnType<typeof bandLayout> = { bands: [], edgeOwner: new Map() };

  constructor(
    host: HTMLElement,
    private readonly options: ChartOptions,
  ) {
    this.xAxis = xAxisFor(options);
    this.root = el('figure', undefined, `tl-chart${options.compact ? ' compact' : ''}`);
    const caption = el('figcaption', options.title, 'tl-chart-title');
    this.plotBox = el('div', undefined, 'tl-chart-plot');
    this.readout = el('div', undefined, 'tl-chart-readout');
    this.legend = el('div', undefined, 'tl-chart-legend');
    if (options.compact) this.legend.hidden = true;
    this.root.append(caption, this.plotBox, this.readout, this.legend);
    host.append(this.root);
    this.colors = this.readColors();
    const resize = new ResizeObserver(() => this.resize());
    resize.observe(this.plotBox);
    this.disposers.push(
      () => resize.disconnect(),
      onThemeChange(() => this.rebuild()),
    );
    this.schedule(true);
  }

  /** Adds a series (before its points); its legend entry toggles it. */
  define(key: string, spec: SeriesSpec): void {
    if (this.keys.has(key)) throw new Error(`Chart "${this.options.title}": the series "${key}" is defined twice.`);
    this.keys.set(key, this.table.addSeries());
    this.specs.push({ ...spec, key });
    const i = this.specs.length - 1;
    this.legend.append(legendToggle(spec, (show) => this.toggle(i, show)));
    this.bands = bandLayout(this.options.title, this.specs);
    // A band's edges are part of their series: no legend entry of their own.
    this.legend.querySelectorAll<HTMLElement>('.tl-legend-item').forEach((item, j) => (item.hidden = this.bands.edgeOwner.has(j)));
    this.schedule(true);
  }

  /** Streams points onto the end of a series (each x after its last); a redraw follows on the next frame. */
  append(key: string, points: readonly Point[]): void {
    const i = this.seriesIndex(key);
    const w = this.specs[i].smoothing ?? 0;
    if (w > 0) {
      let last = this.ema.get(i);
      points = points.map((p) => ({ x: p.x, y: (last = last === undefined || !Number.isFinite(last) ? p.y : w * last + (1 - w) * p.y) }));
      if (last !== undefined) this.ema.set(i, last);
    }
    this.table.append(i, points);
    this.schedule();
  }

  /** Replaces a series' points. */
  set(key: string, points: readonly Point[]): void {
    const i = this.seriesIndex(key);
    this.ema.delete(i);
    this.table.replace(i, []);
    this.append(key, points);
  }

  /** The vertical marker ("best, epoch N"), or none. */
  setMarker(x: number | undefined, label = x === undefined ? '' : `best, epoch ${formatEpoch(x)}`): void {
    this.marker = x === undefined ? null : { x, label };
    this.plot?.redraw(false, false);
  }

  get pointCount(): number {
    return this.table.length();
  }

  /** The bands drawn (the Study panel reports them). */
  get bandCount(): number {
    return this.bands.bands.length;
  }

  get outOfOrder(): number {
    return this.table.outOfOrder;
  }

  /** The series' points (a copy), for views that derive something from them (the best epoch). */
  points(key: string): Point[] {
    return this.table.points(this.seriesIndex(key));
  }

  state(): ChartReport {
    const { theme, foreground, muted, grid } = this.colors;
    return {
      title: this.options.title,
      xLabel: this.xLabel,
      logY: this.options.logY ?? false,
      series: this.specs.map((s, i) => ({
        key: s.key,
        label: s.label,
        points: this.table.length(i),
        visible: !this.hidden.has(i),
        color: this.colors.series[s.color],
      })),
      marker: this.marker,
      xTicks: this.ticks.x,
      yTicks: this.ticks.y,
      colors: { theme, foreground, muted, grid },
      readout: this.readout.textContent ?? '',
      draws: this.draws,
      lastDrawMs: this.lastDrawMs,
    };
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    for (const d of this.disposers) d();
    this.plot?.destroy();
    this.root.remove();
  }

  private get xLabel(): string {
    return this.options.xLabel ?? 'epoch';
  }

  private get format(): (y: number) => string {
    return this.options.format ?? formatValue;
  }

  private seriesIndex(key: string): number {
    const i = this.keys.get(key);
    if (i === undefined) throw new Error(`Chart "${this.options.title}": no series "${key}"; define it first.`);
    return i;
  }

  private readColors(): ChartColors {
    const style = getComputedStyle(document.body);
    return chartColors(
      themeKind(document.body.className),
      (name) => style.getPropertyValue(name),
      this.specs.map((s) => s.color),
    );
  }

  /** New data (or new series: `rebuild`) on the next frame: many appends in one frame cost one redraw. A zoomed view stays zoomed. */
  private schedule(rebuild = false): void {
    this.stale ||= rebuild;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      if (this.stale) this.rebuild();
      const u = this.plot;
      if (!u) return;
      const zoomed = this.autoX !== undefined && (u.scales.x.min !== this.autoX[0] || u.scales.x.max !== this.autoX[1]);
      const started = performance.now();
      u.batch(() => u.setData(this.data(), !zoomed)); // batch: drawn now, so the time below is the redraw's
      this.lastDrawMs = performance.now() - started;
      this.updateReadout(undefined);
      this.label();
    });
  }

  private data(): uPlot.AlignedData {
    return [this.table.xs, ...this.table.columns] as uPlot.AlignedData;
  }

  private resize(): void {
    const width = Math.max(120, this.plotBox.clientWidth);
    if (this.plot && this.plot.width !== width) this.plot.setSize({ width, height: this.height });
  }

  private get height(): number {
    return this.options.height ?? (this.options.compact ? 90 : 200);
  }

  /** A fresh uPlot with the current theme's colours (canvas colours do not follow CSS). */
  private rebuild(): void {
    this.stale = false;
    this.colors = this.readColors();
    this.plot?.destroy();
    this.plot = new uPlot(this.plotOptions(), this.data(), this.plotBox);
    for (const i of this.hidden) this.plot.setSeries(i + 1, { show: false });
    this.plot.over.addEventListener('dblclick', () => this.updateReadout(undefined));
    this.plot.ctx.canvas.setAttribute('role', 'img');
    this.updateReadout(undefined);
    this.label();
    this.legend.querySelectorAll<HTMLElement>('.tl-swatch').forEach((s, i) => (s.style.background = this.colors.series[this.specs[i].color]));
  }

  private plotOptions(): uPlot.Options {
    const c = this.colors;
    const font = `11px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
    const axis = { stroke: c.muted, font, labelFont: font, grid: { stroke: c.grid, width: 1 }, ticks: { stroke: c.grid, width: 1, size: 4 } };
    const compact = this.options.compact;
    return {
      width: Math.max(120, this.plotBox.clientWidth),
      height: this.height,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
      scales: {
        x: { time: false, distr: this.xAxis.distr, log: 10, range: (_u, min, max) => this.xRange(min, max) },
        y: this.options.logY
          ? { distr: 3, log: 10, range: (_u, min, max) => logRange(min, max) }
          : { range: (_u, min, max) => linearRange(min, max, this.options.yRange) },
      },
      axes: [
        {
          ...axis,
          label: compact ? undefined : this.xLabel,
          size: compact ? 24 : 40,
          splits: (_u, _i, min, max) => this.xAxis.ticks(min, max, Math.max(2, Math.floor(this.plotBox.clientWidth / 70))),
          filter: (_u, s) => s, // the ticks above are already thinned (uPlot's log filter would blank sizes such as 4 and 8)
          values: (_u, s) => (this.ticks.x = tickLabels(s, (x) => this.xAxis.tick(x))),
        },
        {
          ...axis,
          label: compact ? undefined : this.options.yLabel,
          size: compact ? 40 : 56,
          splits: (_u, _i, min, max) => this.ySplits(min, max),
          values: (_u, s) => (this.ticks.y = tickLabels(s, this.format)),
        },
      ],
      series: [{ label: this.xLabel }, ...this.specs.map((s, i) => seriesOptions(s, c.series[s.color], this.bands.edgeOwner.has(i)))],
      bands: this.bands.bands.map((b) => ({ series: b.series, fill: translucent(c.series[this.specs[b.owner].color], 0.18) })),
      hooks: {
        draw: [
          (u) => {
            this.draws++;
            if (this.marker) drawMarker(u, this.marker, this.colors.marker);
          },
        ],
        setCursor: [(u) => this.updateReadout(u.cursor.idx ?? undefined)],
      },
    };
  }

  /** The axis' range around the data (whole epochs, padded sizes, all categories); a zoom (the range uPlot asks about is then not the data's) is kept as it is. */
  private xRange(min: number, max: number): [number, number] {
    const xs = this.table.xs;
    const range = this.xAxis.range(min, max, xs[0], xs[xs.length - 1]);
    if (xs.length > 0 && min === xs[0] && max === xs[xs.length - 1]) this.autoX = range;
    return range;
  }

  /** About one y tick per 30 px; decades (or 1-2-5) on a log axis. */
  private ySplits(min: number, max: number): number[] {
    if (this.options.logY) return logTicks(min, max);
    return niceTicks(min, max, Math.max(2, Math.floor((this.height - 30) / 30)));
  }

  /** The canvas' text alternative: each series' last value ("Loss: train (per batch, smoothed) 0.412, validation 0.398"). */
  private label(): void {
    const last = this.specs.flatMap((s, i) => {
      const p = this.bands.edgeOwner.has(i) ? undefined : this.table.last(i);
      return p ? [`${s.label} ${this.format(p.y)}`] : [];
    });
    const text = this.options.ariaLabel ?? `${this.options.title}: ${last.length > 0 ? last.join(', ') : 'no data yet'}`;
    this.plot?.ctx.canvas.setAttribute('aria-label', text);
  }

  private toggle(i: number, show: boolean): void {
    for (const [edge, owner] of [[i, i], ...this.bands.edgeOwner]) {
      if (owner !== i) continue;
      if (show) this.hidden.delete(edge);
      else this.hidden.add(edge);
      this.plot?.setSeries(edge + 1, { show });
    }
    this.updateReadout(undefined);
  }

  /** The readout line: the values at the hovered x, or the last values when the cursor is away. */
  private updateReadout(idx: number | undefined): void {
    const xs = this.table.xs;
    if (xs.length === 0) {
      this.readout.textContent = 'waiting for data…';
      return;
    }
    const x = idx === undefined ? xs[xs.length - 1] : xs[idx];
    const at = (i: number) => {
      const p = this.table.nearest(i, x);
      return p && Math.abs(p.x - x) <= READOUT_REACH ? p : undefined;
    };
    const values = this.specs.flatMap((s, i) => {
      const p = this.hidden.has(i) || this.bands.edgeOwner.has(i) ? undefined : at(i);
      if (!p) return [];
      const [lo, hi] = s.band ? [at(this.seriesIndex(s.band.lower)), at(this.seriesIndex(s.band.upper))] : [];
      const range = lo && hi ? ` (${this.format(lo.y)}–${this.format(hi.y)})` : '';
      return [{ label: s.short ?? s.label, text: `${this.format(p.y)}${range}` }];
    });
    this.readout.textContent = readoutText(this.xLabel, x, values, (v) => this.xAxis.readout(v));
  }
}
