// `node out/bench/chartAppend.js [points]`: how the chart component (webview/lib/chart.ts, on
// uPlot) streams at 100,000 points, in headless Chromium under the webviews' own CSP (nonce-only
// scripts, styles only from the page's origin: no 'unsafe-inline'). Prints the time to fill the
// chart, the median time from appending one batch point to its frame being drawn, uPlot's
// setData+redraw time, and every CSP violation (there must be none). A measurement, never a test.
// CHART_SCREENSHOT=<file.png> also saves a picture of the chart, hovered in the middle.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';

const root = path.resolve(__dirname, '../..');
const need = createRequire(path.join(root, 'package.json'));

async function main(): Promise<void> {
  const points = Number(process.argv[2] ?? 100_000);
  const esbuild = need('esbuild') as typeof import('esbuild');
  const bundle = await esbuild.build({
    entryPoints: [path.join(root, 'webview/bench/chartAppend.ts')],
    bundle: true,
    format: 'esm',
    write: false,
    target: 'es2022',
  });
  const script = bundle.outputFiles[0].text;
  const css = ['webview.css', 'chart.css'].map((f) => fs.readFileSync(path.join(root, 'media', f), 'utf8')).join('\n');
  const nonce = 'bench-nonce';
  const server = createServer((req, res) => {
    const csp = `default-src 'none'; style-src http://${req.headers.host}; script-src 'nonce-${nonce}'`;
    if (req.url?.startsWith('/page?')) {
      res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': csp });
      res.end(
        `<!DOCTYPE html><html><head><link rel="stylesheet" href="/style.css"></head><body class="vscode-dark"><main id="root"></main><script type="module" nonce="${nonce}" src="/page.js"></script></body></html>`,
      );
    } else if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
    } else if (req.url === '/style.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(`body { --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; width: 800px; }\n${css}`);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { launchBrowser } = (await import(path.join(root, 'test/support/testEnv.mjs'))) as { launchBrowser(): Promise<import('playwright-core').Browser> };
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/page?points=${points}`);
    const result = await page
      // A function, not a string: a string predicate is eval'd in the page, which its CSP refuses.
      .waitForFunction(() => (globalThis as { benchResult?: unknown }).benchResult, undefined, { timeout: 60_000 })
      .then((h) => h.jsonValue())
      .catch((e: Error) => ({ timedOut: e.message }));
    // A picture to look at: hover the middle of the plot first, so the readout shows hovered values.
    const plot = await page.$('.u-over');
    const box = await plot?.boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    if (process.env.CHART_SCREENSHOT) await page.screenshot({ path: process.env.CHART_SCREENSHOT });
    const hovered = await page.evaluate("document.querySelector('.tl-chart-readout')?.textContent");
    console.log(JSON.stringify({ ...(result as object), hovered, pageErrors: errors }, null, 1));
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
