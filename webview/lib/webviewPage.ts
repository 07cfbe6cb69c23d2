// What every Transfer Lab webview entry (dashboard, dashboardView, compare, layerTree, ...)
// starts from: its channel to the host (hostChannel.ts, the one acquireVsCodeApi), its #root
// element, and the DOM helpers (dom.ts, the one el()). Entries import these from here only,
// so the start of a page is written once.
import type { Parsed } from '../../src/core/messageProtocol';
import { connect, type HostChannel } from './hostChannel';

export { connect, type HostChannel } from './hostChannel';
export { cspViolations, el, epochProgress, onThemeChange, vscodeButton } from './dom';

/** Connects the page (once: acquireVsCodeApi may be called only once) and finds its root, which webviewHtml.ts writes. */
export function openPage<In, Out extends { protocol: number }>(
  protocol: Out['protocol'],
  parse: (raw: unknown) => Parsed<In>,
  onMessage: (message: In) => void,
): { vscode: HostChannel<Out>; root: HTMLElement } {
  const root = document.getElementById('root');
  if (!root) throw new Error('Transfer Lab: this webview page has no #root element (see src/extension/webviewHtml.ts).');
  return { vscode: connect<In, Out>(protocol, parse, onMessage), root };
}
