// Helpers to drive the real VS Code workbench (code-server) in headless Chromium the way a
// user does: command palette, notifications, panels, screenshots kept as test artefacts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchBrowser, repoRoot, startCodeServer } from '../support/testEnv.mjs';

/** Polls `check` every 250 ms until it returns something truthy (returned), or fails naming `what`. */
export async function until(what, check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export const artefactsDir = path.join(repoRoot, 'test-results', 'e2e');

/** TRANSFER_LAB_E2E_FROM_SOURCE=1: load the extension from this repo (dist/ from npm run build)
 *  as an extension under development instead of installing the VSIX (quicker while iterating;
 *  the default, the VSIX, is what users install). */
export const fromSource = process.env.TRANSFER_LAB_E2E_FROM_SOURCE === '1';

/** Opens a workspace in code-server with the packaged extension installed (a fresh
 *  user-data dir and extensions dir each time; code-server --install-extension <vsix>).
 *  `env`: added to the server's environment, which the extension host and its trainer inherit. */
export async function openWorkbench({ workspace, settings = {}, untrusted = false, env = {}, vsix = path.join(repoRoot, 'dist', 'transfer-lab.vsix') }) {
  if (!fromSource && !fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run npm run package`);
  const server = await startCodeServer({
    workspace,
    untrusted,
    ...(fromSource ? { extensionDevelopmentPath: repoRoot } : { installVsix: vsix }),
    // An installed VSIX does not carry the native TensorFlow library; point it at this repo's
    // node_modules (@tensorflow/tfjs-node built by npm run setup:native).
    settings: { 'transferLab.nativeBackendPath': repoRoot, ...settings },
    env: { CI: process.env.CI ?? '', ...env },
  });
  let browser;
  let page;
  try {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(server.url);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    // Let the workbench finish restoring before typing.
    await page.waitForSelector('.statusbar', { timeout: 30_000 });
  } catch (e) {
    await browser?.close().catch(() => {});
    await server.close();
    throw e;
  }
  return {
    server,
    browser,
    page,
    async runCommand(title) {
      const input = page.locator('.quick-input-widget input');
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      // Contributions appear once the extension host has scanned extensions, and a quick input
      // that was closing when we looked can vanish under us: open, type, click, and start over
      // (short timeouts) until the command's row is there. The row is clicked, not Entered: an
      // Enter that lands while the palette is still filtering is dropped now and then.
      const until = Date.now() + 60_000;
      for (;;) {
        try {
          if (!(await input.isVisible())) await page.keyboard.press('F1');
          await input.waitFor({ state: 'visible', timeout: 5_000 });
          await input.fill(`>${title}`, { timeout: 5_000 });
          await row.waitFor({ timeout: 3_000 });
          await row.click({ timeout: 5_000 });
          return;
        } catch (e) {
          if (Date.now() > until) throw e;
          await page.keyboard.press('Escape').catch(() => {});
        }
      }
    },
    async screenshot(name) {
      fs.mkdirSync(artefactsDir, { recursive: true });
      const file = path.join(artefactsDir, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}
