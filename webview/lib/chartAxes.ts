// The x axis of the chart (chart.ts), pure: an epoch axis (Dashboard, sidebar, Compare), a log
// axis of sizes (the Study panel's images per class: 5, 10, 20, 50 ...) or named categories at
// x = 0..n-1 (the probe's blocks). Each kind says its range, its ticks and how an x value
// reads, so the chart itself never branches on the kind. Also the bands' data: which uPlot
// series a band fills between, and its translucent fill. No DOM (test/unit/chartAxes.test.ts).
import { epochRange, formatEpoch, formatTick, niceTicks } from './chartData';
import { parseColor } from './theme';

export interface XAxisOptions {
  /** A log x axis (sizes that span decades). */
  logX?: boolean;
  /** Named categories at x = 0..n-1: the ticks read these names. */
  xCategories?: readonly string[];
  /** Formats x for ticks and the readout (default: the epoch or the number). */
  xFormat?: (x: number) => string;
  /** Ticks at exactly these x values (the sizes a study ran), instead of computed ones. */
  xTicks?: readonly number[];
}

export interface XAxis {
  /** uPlot's distribution: 1 linear, 3 log. */
  distr: 1 | 3;
  /** The range shown for a requested [min, max]; the data runs [first, last]. A range that is not the data's (a zoom) is kept. */
  range(min: number, max: number, first: number | undefined, last: number | undefined): [number, number];
  /** About `count` ticks inside [min, max]. */
  ticks(min: number, max: number, count: number): number[];
  /** A tick label. */
  tick(x: number): string;
  /** The x as the hover readout says it. */
  readout(x: number): string;
}

/** Ticks of a log axis of sizes: 1, 2, 5 times each power of ten, thinned to 1-5 then to decades when more than `count`. */
export function logXTicks(min: number, max: number, count: number): number[] {
  if (!(min > 0) || !(max >= min)) return [];
  const lo = Math.floor(Math.log10(min) + 1e-9);
  const hi = Math.ceil(Math.log10(max) - 1e-9);
  let ticks: number[] = [];
  for (const factors of [[1, 2, 5], [1, 5], [1]]) {
    ticks = [];
    for (let e = lo; e <= hi; e++)
      for (const f of factors) {
        const t = Number((f * 10 ** e).toPrecision(12));
        if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
      }
    if (ticks.length <= Math.max(2, count)) return ticks;
  }
  const step = Math.ceil(ticks.length / Math.max(2, count));
  return ticks.filter((_t, i) => i % step === 0);
}

/** The range of a log axis: the data widened by a quarter on each side (a factor of two around one size), so end points are not on the frame. */
export function logXRange(first: number, last: number): [number, number] {
  if (!(first > 0) || !(last >= first)) return [1, 10];
  const pad = last === first ? 2 : 1.25;
  return [first / pad, last * pad];
}

/** Category indices inside [min, max] (0..n-1), every k-th when more than `count` fit. */
export function categoryTicks(n: number, min: number, max: number, count: number): number[] {
  const lo = Math.max(0, Math.ceil(min - 1e-9));
  const hi = Math.min(n - 1, Math.floor(max + 1e-9));
  if (hi < lo) return [];
  const step = Math.max(1, Math.ceil((hi - lo + 1) / Math.max(1, count)));
  const ticks: number[] = [];
  for (let i = lo; i <= hi; i += step) ticks.push(i);
  return ticks;
}

/** The name at a whole x; '' between categories or past the ends. */
export function categoryLabel(categories: readonly string[], x: number): string {
  return Number.isInteger(x) ? (categories[x] ?? '') : '';
}

/** Fixed ticks inside [min, max], every k-th when more than `count`. */
function fixedTicks(ticks: readonly number[], min: number, max: number, count: number): number[] {
  const inside = ticks.filter((t) => t >= min && t <= max);
  const step = Math.max(1, Math.ceil(inside.length / Math.max(2, count)));
  return inside.filter((_t, i) => i % step === 0);
}

const zoomed = (min: number, max: number, first: number | undefined, last: number | undefined) => first !== undefined && (min !== first || max !== last);

/** The x axis the options describe. */
export function xAxisFor(o: XAxisOptions): XAxis {
  const cats = o.xCategories;
  const pick = (computed: (min: number, max: number, count: number) => number[]) => (min: number, max: number, count: number) =>
    o.xTicks ? fixedTicks(o.xTicks, min, max, count) : computed(min, max, count);
  if (cats)
    return {
      distr: 1,
      range: (min, max, first, last) => (zoomed(min, max, first, last) ? [min, max] : [-0.5, Math.max(1, cats.length) - 0.5]),
      ticks: pick((min, max, count) => categoryTicks(cats.length, min, max, count)),
      tick: o.xFormat ?? ((x) => categoryLabel(cats, x)),
      readout: o.xFormat ?? ((x) => categoryLabel(cats, x) || formatTick(x)),
    };
  if (o.logX)
    return {
      distr: 3,
      range: (min, max, first, last) =>
        first === undefined || last === undefined ? [1, 10] : zoomed(min, max, first, last) ? [min, max] : logXRange(first, last),
      ticks: pick(logXTicks),
      tick: o.xFormat ?? formatTick,
      readout: o.xFormat ?? formatTick,
    };
  return {
    distr: 1,
    range: epochRange,
    ticks: pick((min, max, count) => niceTicks(min, max, count, max - min >= 3)),
    tick: o.xFormat ?? formatTick,
    readout: o.xFormat ?? formatEpoch,
  };
}

/** A series' band: the keys of the series that are its lower and upper edge. */
export interface BandSpec {
  lower: string;
  upper: string;
}

/**
 * The uPlot bands of a chart's series (uPlot numbers series from 1; 0 is x): each fills from
 * its upper edge down to its lower one. Also the edges' owner, so the edges are drawn as no
 * line, left out of the legend and shown or hidden with their series. A band naming a series
 * the chart lacks is an error the chart's author sees at once.
 */
export function bandLayout(
  title: string,
  specs: readonly { key: string; band?: BandSpec }[],
): { bands: { owner: number; series: [number, number] }[]; edgeOwner: Map<number, number> } {
  const index = new Map(specs.map((s, i) => [s.key, i]));
  const bands: { owner: number; series: [number, number] }[] = [];
  const edgeOwner = new Map<number, number>();
  specs.forEach((s, owner) => {
    if (!s.band) return;
    const [lo, hi] = [index.get(s.band.lower), index.get(s.band.upper)];
    if (lo === undefined || hi === undefined)
      throw new Error(`Chart "${title}": the band of "${s.key}" names the series "${lo === undefined ? s.band.lower : s.band.upper}", which is not defined.`);
    bands.push({ owner, series: [hi + 1, lo + 1] });
    edgeOwner.set(lo, owner).set(hi, owner);
  });
  return { bands, edgeOwner };
}

/** A CSS colour at the given opacity (a band in its series' colour); a colour that does not parse is returned as it is. */
export function translucent(color: string, alpha: number): string {
  const c = parseColor(color);
  return c ? `rgba(${c.r}, ${c.g}, ${c.b}, ${Number((c.a * alpha).toFixed(3))})` : color;
}
