// A webview's end of its boundary (src/core/*Messages.ts; the rule: messageProtocol.ts): what
// it posts gets its protocol stamped, and what the host posts is parsed, deeply, before it is
// rendered. A message from another version replaces the page with what to do about it.
import { versioned, type Parsed, type Unversioned } from '../../src/core/messageProtocol';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void; setState(state: unknown): void; getState(): unknown };

export interface HostChannel<Out> {
  post(message: Unversioned<Out>): void;
  setState(state: unknown): void;
  getState(): unknown;
}

/** Call once per webview (acquireVsCodeApi may be called only once). */
export function connect<In, Out extends { protocol: number }>(
  protocol: Out['protocol'],
  parse: (raw: unknown) => Parsed<In>,
  onMessage: (message: In) => void,
): HostChannel<Out> {
  const api = acquireVsCodeApi();
  const logged = new Set<string>();
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const parsed = parse(event.data);
    if (parsed.ok) return onMessage(parsed.value);
    if (parsed.mismatch) return showStale();
    if (logged.size < 20 && !logged.has(parsed.error)) {
      logged.add(parsed.error);
      console.error(`Transfer Lab: ignored a message from the extension: ${parsed.error}`);
    }
  });
  return {
    post: (message) => api.postMessage(versioned<Out>(protocol, message)),
    setState: (state) => api.setState(state),
    getState: () => api.getState(),
  };
}

function showStale(): void {
  const p = document.createElement('p');
  p.className = 'error';
  p.setAttribute('role', 'alert');
  p.textContent = 'This Transfer Lab view is from another version of the extension: close it and open it again.';
  document.getElementById('root')?.replaceChildren(p);
}
