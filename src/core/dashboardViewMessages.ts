// Host <-> sidebar Dashboard view messages (the rule: messageProtocol.ts). Webviews are views:
// they render what they are sent and ask the host to act; they never read files or decide.
import * as v from 'valibot';
import { EnvironmentReportSchema } from './protocol';
import { CurvePointSchema, runFacts } from './dashboardMessages';
import { message, parseMessage, measured, type Parsed } from './messageProtocol';

export const DASHBOARD_VIEW_PROTOCOL = 1;

/** A validation accuracy and the epoch it is from: every accuracy shown says which one it is. */
const EpochValueSchema = v.object({ value: measured, epoch: v.number() });
export type EpochValue = v.InferOutput<typeof EpochValueSchema>;

/** The mini chart's curves, per epoch (x = the epoch number), sent whole: a few hundred points at most. */
const curve = v.array(CurvePointSchema);
const SidebarCurvesSchema = v.object({ epochLoss: curve, epochAccuracy: curve, valLoss: curve, valAccuracy: curve });
export type SidebarCurves = v.InferOutput<typeof SidebarCurvesSchema>;

/** The run the sidebar dashboard follows: the running one, else the one selected in the tree, else the latest. */
const DashboardViewRunSchema = v.object({
  runDir: v.string(),
  id: v.string(),
  ...runFacts,
  testAccuracy: v.optional(measured),
  lastValAccuracy: v.optional(EpochValueSchema),
  bestValAccuracy: v.optional(EpochValueSchema),
  curves: v.optional(SidebarCurvesSchema),
});
export type DashboardViewRun = v.InferOutput<typeof DashboardViewRunSchema>;

/** The only commands a webview may ask the host to run. */
export const DASHBOARD_COMMANDS = ['transferLab.showEnvironment', 'transferLab.openDashboard', 'transferLab.stopRun'] as const;
export type DashboardCommand = (typeof DASHBOARD_COMMANDS)[number];

const V = DASHBOARD_VIEW_PROTOCOL;

// host -> dashboard view
const DashboardViewStateSchema = message(V, 'environment', {
  report: v.optional(EnvironmentReportSchema),
  failure: v.optional(v.string()),
  experiments: v.number(),
  run: v.optional(DashboardViewRunSchema),
});
export type DashboardViewState = v.InferOutput<typeof DashboardViewStateSchema>;
export const parseDashboardViewState = (raw: unknown): Parsed<DashboardViewState> => parseMessage(DashboardViewStateSchema, V, raw);

// dashboard view -> host
const DashboardViewRequestSchema = v.variant('type', [
  message(V, 'ready', {}),
  message(V, 'command', { command: v.picklist(DASHBOARD_COMMANDS), runDir: v.optional(v.string()) }),
]);
export type DashboardViewRequest = v.InferOutput<typeof DashboardViewRequestSchema>;

/** Validates a message from the dashboard webview (untrusted input). */
export const parseDashboardViewRequest = (raw: unknown): Parsed<DashboardViewRequest> => parseMessage(DashboardViewRequestSchema, V, raw);
