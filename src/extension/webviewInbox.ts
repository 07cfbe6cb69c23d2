// What a webview posts is untrusted: every message goes through its boundary's parser
// (core/*Messages.ts) before the host acts on it. A refused one is ignored, never thrown into
// the extension host, and logged once per distinct problem; one from another version of the
// extension (a webview left open across an update) also tells the user, once, what to do.
import * as vscode from 'vscode';
import type { Parsed } from '../core/messageProtocol';

/** Distinct problems logged per webview, at most: a webview that floods garbage cannot flood the log. */
const MAX_LOGGED = 20;

export function webviewInbox<T>(
  webview: string,
  parse: (raw: unknown) => Parsed<T>,
  log: (line: string) => void = (line) => console.warn(line),
): (raw: unknown) => T | undefined {
  const logged = new Set<string>();
  let told = false;
  return (raw) => {
    const parsed = parse(raw);
    if (parsed.ok) return parsed.value;
    if (logged.size < MAX_LOGGED && !logged.has(parsed.error)) {
      logged.add(parsed.error);
      log(`${webview}: ignored a message from the webview: ${parsed.error}`);
    }
    if (parsed.mismatch && !told) {
      told = true;
      void vscode.window.showWarningMessage(`Transfer Lab: the ${webview} webview is from another version of Transfer Lab; close it and open it again.`);
    }
    return undefined;
  };
}
