// The DOM helpers every webview uses: an element with optional text and class, a vscode-button, the theme watch.
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** Calls back when VS Code switches the theme (it sets body's class: vscode-light, -dark, -high-contrast, -high-contrast-light). */
export function onThemeChange(callback: () => void): () => void {
  const observer = new MutationObserver(callback);
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => observer.disconnect();
}

/** A vscode-button (its module must be imported by the entry); secondary for the less important actions. */
export function vscodeButton(label: string, onClick: () => void, options: { secondary?: boolean; ariaLabel?: string; title?: string } = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  if (options.secondary) b.setAttribute('secondary', '');
  if (options.ariaLabel) b.setAttribute('aria-label', options.ariaLabel);
  if (options.title) b.title = options.title;
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

/**
 * Content-Security-Policy violations this page has seen: the webviews' CSP is nonce-only with
 * no 'unsafe-inline', and what the charts set through the CSSOM must not trip it. Views send
 * these with their chart reports, so the integration tests check it in the real webview.
 */
export const cspViolations: string[] = [];
document.addEventListener('securitypolicyviolation', (e) => {
  if (cspViolations.length < 20) cspViolations.push(`${e.violatedDirective}: ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
});

/** The run's progress, "epoch 3 of 10" (a vscode-progress-bar: the entry imports its module). */
export function epochProgress(epoch: number, epochs: number): HTMLElement {
  const bar = document.createElement('vscode-progress-bar') as HTMLElement & { value: number; max: number };
  bar.max = epochs;
  bar.value = epoch;
  bar.setAttribute('aria-label', `epoch ${epoch} of ${epochs}`);
  return bar;
}
