// What a webview's chart (webview/lib/chart.ts) says it holds and last drew: its series and
// their lengths, the marker, the tick labels, the theme colours it drew with. Webviews send
// it when the host asks (integration tests read it through a test hook); defined once here
// so every view that draws charts (Dashboard, sidebar, Compare, Study, probe) sends the same.
import * as v from 'valibot';
import { count, measured } from './messageProtocol';

export const ChartReportSchema = v.object({
  title: v.string(),
  xLabel: v.string(),
  logY: v.boolean(),
  series: v.array(v.object({ key: v.string(), label: v.string(), points: count, visible: v.boolean(), color: v.string() })),
  marker: v.nullable(v.object({ x: v.number(), label: v.string() })),
  xTicks: v.array(v.string()),
  yTicks: v.array(v.string()),
  colors: v.object({ theme: v.string(), foreground: v.string(), muted: v.string(), grid: v.string() }),
  /** The hover line (the last values when the cursor is away). */
  readout: v.string(),
  /** Frames drawn, and the last setData+redraw in milliseconds. */
  draws: count,
  lastDrawMs: measured,
});
export type ChartReport = v.InferOutput<typeof ChartReportSchema>;

/** The charts of one view, and the Content-Security-Policy violations its page saw (there must be none). */
export const ChartsReportEntries = {
  charts: v.array(ChartReportSchema),
  cspViolations: v.array(v.string()),
  /** What the view shows instead of its charts (the Dashboard of a run that never trained: its error and what to do). */
  notice: v.optional(v.string()),
};
