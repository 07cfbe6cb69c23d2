// The HTML shell every Transfer Lab webview uses: strict CSP with a per-load nonce,
// no remote resources, scripts and styles only from the extension's dist/ and media/.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Disposable } from './disposable';
import { pathExists } from './pathChecks';
import { watchWebviewReady, type ReadyWatch } from './webviewReadyWatch';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

/** Whether each view has its own stylesheet: shipped files, so looked up once per view. */
const ownStyles = new Map<string, Promise<boolean>>();

function hasOwnStyle(extensionUri: vscode.Uri, entry: string): Promise<boolean> {
  const file = path.join(extensionUri.fsPath, 'media', `${entry}.css`);
  let known = ownStyles.get(file);
  if (!known) ownStyles.set(file, (known = pathExists(file)));
  return known;
}

/** Where the page is shown: a panel or a sidebar view (only whether it is `visible` is read). */
export interface WebviewHost {
  readonly visible: boolean;
}

/**
 * Sets a webview's HTML once it is known whether the view has its own stylesheet (a look at
 * the disk); not when its owner was disposed meanwhile, as the webview then is too. A page
 * that never starts is loaded again (webviewReadyWatch.ts); the watch ends with the owner.
 * Whoever reloads the page otherwise (new options) rearms the watch it returns.
 */
export async function loadWebviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  entry: string,
  title: string,
  owner: Disposable,
  host: WebviewHost,
  log?: (line: string) => void,
): Promise<ReadyWatch | undefined> {
  const ownStyle = await hasOwnStyle(extensionUri, entry);
  if (owner.isDisposed) return undefined;
  const load = () => (webview.html = webviewHtml(webview, extensionUri, entry, title, ownStyle));
  load();
  return watchWebviewReady(webview, title, { shown: () => host.visible, reload: load, gone: () => owner.isDisposed, log });
}

function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, entry: string, title: string, ownStyle: boolean): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${entry}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  // The chart component's styles (webview/lib/chart.ts), for every view that draws one.
  const chartStyle = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'chart.css'));
  // A view's own stylesheet, when it has one (media/<entry>.css).
  const own = ownStyle ? webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', `${entry}.css`)) : undefined;
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<link rel="stylesheet" href="${chartStyle}">${own ? `\n<link rel="stylesheet" href="${own}">` : ''}
<title>${title}</title>
</head>
<body>
<main id="root" aria-live="polite"></main>
<script type="module" nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
