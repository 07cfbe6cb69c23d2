// The page bench/chartAppend.ts opens in headless Chromium: one chart as the Dashboard's loss
// chart (batch points at fractional epochs, epoch points, validation), filled to 100,000
// batch points, then timed appends of one batch point each (each append followed by its
// redraw, as streaming does). Reports through window.benchResult; CSP violations counted.
import { Chart } from '../lib/chart';

declare global {
  interface Window {
    benchResult?: unknown;
  }
}

const violations: string[] = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));

const BATCHES = 1000;
const TOTAL = Number(new URLSearchParams(location.search).get('points') ?? 100_000);
const box = document.getElementById('root')!;
const chart = new Chart(box, { title: 'Loss', yLabel: 'loss' });
chart.define('batchLoss', { label: 'train (per batch)', short: 'loss', color: '--vscode-charts-blue', smoothing: 0.8 });
chart.define('epochLoss', { label: 'train (per epoch)', short: 'epoch loss', color: '--vscode-charts-blue', dash: [4, 3], points: true });
chart.define('valLoss', { label: 'validation', short: 'val', color: '--vscode-charts-orange', points: true });

const loss = (step: number) => 2 * Math.exp(-step / 20_000) + 0.1 * Math.sin(step);
const point = (step: number) => ({ x: step / BATCHES, y: loss(step) });
const frame = () => new Promise((r) => requestAnimationFrame(() => r(undefined)));

async function run(): Promise<void> {
  const fill = Array.from({ length: TOTAL }, (_, i) => point(i + 1));
  const t0 = performance.now();
  chart.append('batchLoss', fill);
  for (let e = 1; e <= TOTAL / BATCHES; e++) {
    chart.append('epochLoss', [{ x: e, y: loss(e * BATCHES) }]);
    chart.append('valLoss', [{ x: e, y: loss(e * BATCHES) + 0.05 }]);
  }
  chart.setMarker(Math.floor(TOTAL / BATCHES / 2));
  await frame();
  await frame();
  const fillMs = performance.now() - t0;
  const appendMs: number[] = [];
  const drawMs: number[] = [];
  for (let i = 1; i <= 60; i++) {
    const t = performance.now();
    chart.append('batchLoss', [point(TOTAL + i)]);
    await frame();
    appendMs.push(performance.now() - t);
    drawMs.push(chart.state().lastDrawMs);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  window.benchResult = { points: chart.pointCount, fillMs, appendFrameMs: median(appendMs), setDataMs: median(drawMs), state: chart.state(), violations };
}
void run();
