// The Study panel's two charts on the shared chart component (webview/lib/chart.ts): test
// accuracy and training time against images per class on a log x axis, one line per strategy
// (the mean over seeds) with a min..max band over seeds for accuracy. Ticks sit at the sizes
// the study ran, 'all' named as such.
import { Chart, type Point } from '../lib/chart';
import { formatTick } from '../lib/chartData';
import { paletteEntry } from '../lib/theme';
import type { StudyLine, StudyPoint } from '../../src/core/studyMessages';

const sizeLabel = (p: StudyPoint) => (p.perClass === 'all' ? 'all' : String(p.perClass));

/** The sizes the lines share, ascending, each with what it is called (a number, or 'all'). */
export function studyAxis(lines: readonly StudyLine[]): Map<number, string> {
  const byX = new Map<number, string>();
  for (const l of lines) for (const p of l.points) if (p.x > 0) byX.set(p.x, sizeLabel(p)); // a log axis has no place for 0
  return new Map([...byX].sort((a, b) => a[0] - b[0]));
}

/** One value of each point, ascending in x; points without it are left out (a gap the line spans). */
function pointsOf(line: StudyLine, pick: (p: StudyPoint) => number | null): Point[] {
  return line.points
    .filter((p) => p.x > 0)
    .sort((a, b) => a.x - b.x)
    .flatMap((p) => {
      const y = pick(p);
      return y === null ? [] : [{ x: p.x, y }];
    });
}

interface StudyChartSpec {
  title: string;
  yLabel: string;
  format: (y: number) => string;
  yRange?: [number, number];
  logY?: boolean;
  pick: (p: StudyPoint) => number | null;
  /** The min..max band over seeds. */
  band?: boolean;
}

/** The text alternative: per strategy, the value at each size. */
function describe(spec: StudyChartSpec, axis: Map<number, string>, lines: readonly StudyLine[]): string {
  const at = (l: StudyLine) =>
    [...axis].map(([x, name]) => {
      const p = l.points.find((q) => q.x === x);
      const y = p ? spec.pick(p) : null;
      return `${name} per class ${y === null ? 'no data' : spec.format(y)}`;
    });
  return `${spec.title}. ${lines.map((l) => `${l.strategy}: ${at(l).join(', ')}`).join('; ')}.`;
}

function studyChart(host: HTMLElement, axis: Map<number, string>, lines: readonly StudyLine[], spec: StudyChartSpec): Chart {
  const chart = new Chart(host, {
    title: spec.title,
    xLabel: 'images per class (log scale)',
    yLabel: spec.yLabel,
    format: spec.format,
    yRange: spec.yRange,
    logY: spec.logY,
    logX: true,
    xTicks: [...axis.keys()],
    xFormat: (x) => axis.get(x) ?? formatTick(x),
    height: 240,
    ariaLabel: describe(spec, axis, lines),
  });
  lines.forEach((line, i) => {
    const { variable, dash } = paletteEntry(i);
    const key = `s${i}`;
    if (spec.band) {
      // The edges first: the band names them.
      chart.define(`${key}-min`, { label: `${line.strategy} min`, color: variable });
      chart.define(`${key}-max`, { label: `${line.strategy} max`, color: variable });
      chart.set(
        `${key}-min`,
        pointsOf(line, (p) => p.min),
      );
      chart.set(
        `${key}-max`,
        pointsOf(line, (p) => p.max),
      );
    }
    const band = spec.band ? { lower: `${key}-min`, upper: `${key}-max` } : undefined;
    chart.define(key, { label: line.strategy, color: variable, dash, points: true, band });
    chart.set(key, pointsOf(line, spec.pick));
  });
  chart.setMarker(undefined);
  return chart;
}

/** The accuracy and time charts, appended to `grid`. */
export function studyCharts(grid: HTMLElement, lines: readonly StudyLine[]): Chart[] {
  const axis = studyAxis(lines);
  const accuracy = studyChart(grid, axis, lines, {
    title: 'Test accuracy',
    yLabel: 'test accuracy',
    format: (y) => `${Math.round(y * 100)}%`,
    yRange: [0, 1],
    pick: (p) => p.mean,
    band: true,
  });
  const time = studyChart(grid, axis, lines, {
    title: 'Training time (mean over seeds)',
    yLabel: 'seconds',
    format: (y) => `${Number(y.toPrecision(2))} s`,
    logY: true,
    pick: (p) => p.meanTrainSeconds,
  });
  accuracy.root.classList.add('chart', 'accuracy');
  time.root.classList.add('chart', 'time');
  return [accuracy, time];
}
