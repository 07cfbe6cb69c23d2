// Host <-> webview messages, defined once for both sides. Webviews are views: they render
// what they are sent and ask the host to act; they never read files or decide.
import type { EnvironmentReport } from './protocol';

export const WEBVIEW_PROTOCOL_VERSION = 1;

/** The run the sidebar dashboard follows: the running one, else the one selected in the tree. */
export interface DashboardViewRun {
  runDir: string;
  id: string;
  experiment: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  backend: string;
  epoch?: number;
  epochs?: number;
  valAccuracy?: number;
  testAccuracy?: number;
  message?: string;
}

// host -> dashboard view
export type DashboardViewState = { type: 'environment'; report?: EnvironmentReport; failure?: string; experiments: number; run?: DashboardViewRun };

// dashboard view -> host
export type DashboardViewRequest = { type: 'ready' } | { type: 'command'; command: DashboardCommand; runDir?: string };

/** The only commands a webview may ask the host to run. */
export const DASHBOARD_COMMANDS = ['transferLab.showEnvironment', 'transferLab.openDashboard', 'transferLab.stopRun'] as const;
export type DashboardCommand = (typeof DASHBOARD_COMMANDS)[number];

/** Validates a message from the dashboard webview (untrusted input). */
export function parseDashboardViewRequest(raw: unknown): DashboardViewRequest | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m.type === 'ready') return { type: 'ready' };
  if (m.type === 'command' && (DASHBOARD_COMMANDS as readonly unknown[]).includes(m.command) && (m.runDir === undefined || typeof m.runDir === 'string')) {
    return { type: 'command', command: m.command as DashboardCommand, runDir: m.runDir as string | undefined };
  }
  return undefined;
}
