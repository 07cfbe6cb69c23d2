// The pure half of the chart (webview/lib/chart.ts): the table of points the chart draws,
// the ticks of its axes, the best-epoch marker and the hover readout. No DOM, so it is
// tested in plain Node (test/unit/chartData.test.ts).

export interface Point {
  x: number;
  y: number;
}

/**
 * Every series of a chart over one shared x column, as uPlot draws it (its "aligned data"):
 * batch points at fractional epochs and epoch points at whole ones meet in one sorted column,
 * with null where a series has no point. Appends at the end cost O(1), so streaming stays
 * cheap at 100,000 points; a point between two existing x values is inserted (rare: a
 * late epoch point). Each series also keeps its own points for the hover readout.
 */
export class SeriesTable {
  readonly xs: number[] = [];
  readonly columns: (number | null)[][] = [];
  private readonly own: { xs: number[]; ys: number[] }[] = [];
  /** Points refused because they were not after their series' last point (a curve is a function of x). */
  outOfOrder = 0;

  /** Adds a series; returns its index. */
  addSeries(): number {
    this.columns.push(this.xs.map(() => null));
    this.own.push({ xs: [], ys: [] });
    return this.columns.length - 1;
  }

  get seriesCount(): number {
    return this.columns.length;
  }

  /** Points in one series (or all series). */
  length(series?: number): number {
    if (series !== undefined) return this.own[series].xs.length;
    return this.own.reduce((n, s) => n + s.xs.length, 0);
  }

  points(series: number): Point[] {
    const s = this.own[series];
    return s.xs.map((x, i) => ({ x, y: s.ys[i] }));
  }

  /** A series' last point. */
  last(series: number): Point | undefined {
    const s = this.own[series];
    const n = s.xs.length;
    return n > 0 ? { x: s.xs[n - 1], y: s.ys[n - 1] } : undefined;
  }

  /** Appends points to a series; non-finite y values are skipped (a NaN loss is not a point). */
  append(series: number, points: readonly Point[]): void {
    const s = this.own[series];
    for (const p of points) {
      if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) continue;
      if (s.xs.length > 0 && !(p.x > s.xs[s.xs.length - 1])) {
        this.outOfOrder++;
        continue;
      }
      s.xs.push(p.x);
      s.ys.push(p.y);
      this.columns[series][this.slot(p.x)] = p.y;
    }
  }

  /** Replaces a series' points (Compare sends whole curves). */
  replace(series: number, points: readonly Point[]): void {
    this.own[series] = { xs: [], ys: [] };
    this.columns[series].fill(null);
    this.append(series, points);
  }

  /** The index of x in the shared column, inserting it (with nulls) where it is missing. */
  private slot(x: number): number {
    const xs = this.xs;
    const n = xs.length;
    if (n === 0 || x > xs[n - 1]) {
      xs.push(x);
      for (const c of this.columns) c.push(null);
      return n;
    }
    const i = lowerBound(xs, x);
    if (xs[i] === x) return i;
    xs.splice(i, 0, x);
    for (const c of this.columns) c.splice(i, 0, null);
    return i;
  }

  /** The point of a series nearest to x (undefined when it has none). */
  nearest(series: number, x: number): Point | undefined {
    const s = this.own[series];
    const i = nearestIndex(s.xs, x);
    return i < 0 ? undefined : { x: s.xs[i], y: s.ys[i] };
  }
}

/** The first index whose value is >= x in an ascending array. */
export function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The index of the value nearest to x in an ascending array; -1 when empty. */
export function nearestIndex(xs: readonly number[], x: number): number {
  if (xs.length === 0) return -1;
  const i = lowerBound(xs, x);
  if (i === 0) return 0;
  if (i === xs.length) return xs.length - 1;
  return x - xs[i - 1] <= xs[i] - x ? i - 1 : i;
}

/** Ticks at 1, 2, 2.5 or 5 times a power of ten, about `count` of them, inside [min, max]. */
export function niceTicks(min: number, max: number, count: number, integer = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw * 0.999) ?? raw;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis: each power of ten in range, or 1-2-5 within a decade when the range is narrower. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max >= min)) return [];
  const lo = Math.floor(Math.log10(min) + 1e-9);
  const hi = Math.ceil(Math.log10(max) - 1e-9);
  const ticks: number[] = [];
  const factors = hi - lo <= 1 ? [1, 2, 5] : [1];
  for (let e = lo; e <= hi; e++) {
    for (const f of factors) {
      const t = Number((f * 10 ** e).toPrecision(12));
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

/** The y range a linear axis shows: the data plus 5% (kept inside `fixed` when it holds the data), never empty. */
export function linearRange(min: number, max: number, fixed?: readonly [number, number]): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return fixed ? [fixed[0], fixed[1]] : [0, 1];
  if (fixed && min >= fixed[0] && max <= fixed[1]) return [fixed[0], fixed[1]];
  if (max === min) return min === 0 ? [-1, 1] : [min - Math.abs(min) * 0.5, max + Math.abs(max) * 0.5]; // a flat series sits mid-chart
  const pad = (max - min) * 0.05;
  return [min >= 0 && min - pad < 0 ? 0 : min - pad, max + pad];
}

/** The y range a log axis shows: whole decades around the data (one decade for a flat series). */
export function logRange(min: number, max: number): [number, number] {
  if (!(min > 0) || !(max > 0)) return [1e-6, 1];
  const lo = 10 ** Math.floor(Math.log10(min) + 1e-9);
  let hi = 10 ** Math.ceil(Math.log10(max) - 1e-9);
  if (hi <= lo) hi = lo * 10;
  return [Number(lo.toPrecision(12)), Number(hi.toPrecision(12))];
}

/**
 * The x range of an epoch axis: whole epochs around the data [first, last]; a range that is
 * not the data's (a zoom the user dragged) is kept as it is.
 */
export function epochRange(min: number, max: number, first: number | undefined, last: number | undefined): [number, number] {
  if (first === undefined || last === undefined) return [0, 1];
  if (min !== first || max !== last) return [min, max];
  const lo = Math.floor(min);
  return [lo, Math.max(Math.ceil(max), lo + 1)];
}

/** The best epoch of a validation curve: the highest value (accuracy) or the lowest (loss); the first on ties. */
export function bestEpoch(points: readonly Point[], mode: 'max' | 'min'): Point | undefined {
  let best: Point | undefined;
  for (const p of points) {
    if (!Number.isFinite(p.y)) continue;
    if (!best || (mode === 'max' ? p.y > best.y : p.y < best.y)) best = p;
  }
  return best;
}

/** A value as a tick or readout shows it: a few significant digits, exponent form for learning rates. */
export function formatValue(y: number): string {
  if (!Number.isFinite(y)) return String(y);
  if (y === 0) return '0';
  const a = Math.abs(y);
  if (a < 1e-3 || a >= 1e5) return Number(y.toPrecision(3)).toExponential();
  return String(Number(y.toPrecision(3)));
}

export const formatPercent = (y: number): string => `${Number((y * 100).toPrecision(3))}%`;

/** An x position on the epoch axis: whole epochs plainly, fractional ones to two places. */
export const formatEpoch = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** A tick label: no float noise and no trailing zeros (0.5, not 0.50000000001 or 0.50). */
export const formatTick = (x: number): string => String(Number(x.toPrecision(6)));

/** The hover line: "epoch 7 · loss 0.412 · val 0.398" (the values of every shown series near the cursor); x as `formatX` says it. */
export function readoutText(xLabel: string, x: number, values: readonly { label: string; text: string }[], formatX = formatEpoch): string {
  return [`${xLabel} ${formatX(x)}`, ...values.map((v) => `${v.label} ${v.text}`)].join(' · ');
}
