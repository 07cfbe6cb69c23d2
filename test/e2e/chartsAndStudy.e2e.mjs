// The views of issues 14 and 15 from the installed VSIX, used as a user does: the Dashboard's
// chart read by hovering it, then seen in High Contrast Light and High Contrast Dark without
// reopening; the sidebar Dashboard following the run selected in the Experiments tree; a
// data-efficiency study from the palette (its grid typed in the prompts) drawn in the Study
// panel; and Show Layers' Probe button filling the Probe column. Screenshots in
// test-results/e2e/views-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

const SAMPLE = path.join(repoRoot, 'media/datasets/fashion-target');

function writeExperiment(workspace, name, strategy, train) {
  const file = path.join(workspace, `${name}.tlexp.json`);
  fs.writeFileSync(file, JSON.stringify({ name, data: { dir: SAMPLE }, backbone: { catalog: 'fmnist-mini' }, strategy, train }, null, 2));
  return file;
}

function runRecords(workspace) {
  const dir = path.join(workspace, '.transferlab', 'runs');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((d) => {
    try {
      return [{ dir: path.join(dir, d), ...JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8')) }];
    } catch {
      return [];
    }
  });
}

/** The first frame whose document matches `probe` (webviews are nested iframes). */
async function frameWith(page, probe, arg) {
  for (const frame of page.frames()) if (await frame.evaluate(probe, arg).catch(() => false)) return frame;
  return undefined;
}
/** The dashboard of run `id` (a hidden tab's dashboard keeps its frame, so match the header). */
const dashboardFrame = (page, id) =>
  frameWith(
    page,
    (runId) => document.querySelector('section.charts figure.tl-chart') !== null && (document.querySelector('h2')?.textContent ?? '').includes(runId),
    id,
  );
const sidebarFrame = (page) => frameWith(page, () => [...document.querySelectorAll('h2')].some((h) => h.textContent === 'Environment'));

/** Runs an experiment from its CodeLens and waits for its run to succeed. */
async function runFromLens(wb, workspace, name, before) {
  await wb.page
    .locator('.explorer-folders-view .monaco-list-row', { hasText: `${name}.tlexp.json` })
    .first()
    .click();
  const lens = wb.page.locator('.codelens-decoration a', { hasText: 'Run' }).first();
  await lens.waitFor({ timeout: 60_000 });
  await lens.click();
  return until(`${name}'s run to succeed`, () => runRecords(workspace).find((r) => r.status === 'succeeded' && !before.includes(r.dir)), 240_000);
}

/** Hovers the middle of the accuracy chart; returns the readout under it. */
async function hoverAccuracy(wb, frame) {
  const plot = frame.locator('figure.tl-chart', { hasText: 'Accuracy' }).first().locator('.tl-chart-plot canvas').first();
  const box = await plot.boundingBox();
  assert.ok(box, 'the accuracy chart is on screen');
  await wb.page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  const readout = frame.locator('figure.tl-chart', { hasText: 'Accuracy' }).first().locator('.tl-chart-readout');
  return until(
    'a hover readout with values',
    async () => {
      const t = await readout.innerText().catch(() => '');
      return /epoch \d+(\.\d+)? · .*\d+(\.\d)?%/.test(t) ? t : undefined;
    },
    10_000,
  );
}

async function setTheme(wb, theme) {
  await wb.runCommand('Preferences: Color Theme');
  const row = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first();
  await wb.page.locator('.quick-input-widget input').fill(theme);
  await row.click({ timeout: 10_000 });
  await until(`the workbench in ${theme}`, async () => (await wb.page.locator('.monaco-workbench').getAttribute('class')).includes('hc-'), 10_000);
}

/** The chart's axis-label colour as the page drew it against the page's background. */
const chartInk = (frame) =>
  frame.evaluate(() => {
    const fig = document.querySelector('figure.tl-chart');
    return { body: document.body.className, text: getComputedStyle(fig).color, background: getComputedStyle(document.body).backgroundColor };
  });

/** High Contrast Light, then Dark: the open dashboard's charts redraw in the theme's ink, and hover still reads. */
async function themesRedraw(wb, runId) {
  for (const [theme, shot] of [
    ['High Contrast Light', 'views-2-hc-light'],
    ['High Contrast', 'views-3-hc-dark'],
  ]) {
    await setTheme(wb, theme);
    const ink = await until(
      `the chart redrawn for ${theme}`,
      async () => {
        const f = await dashboardFrame(wb.page, runId);
        const i = f && (await chartInk(f));
        return i && i.body.includes('high-contrast') && (theme.includes('Light') ? i.body.includes('light') : !i.body.includes('light')) ? { f, i } : undefined;
      },
      20_000,
    );
    console.log(`# ${theme}: text ${ink.i.text} on ${ink.i.background}`);
    assert.notEqual(ink.i.text, ink.i.background);
    console.log(`# hover in ${theme}: ${await hoverAccuracy(wb, ink.f)}`);
    await wb.screenshot(shot);
  }
}

/** No run is going, so the sidebar shows the run selected in the Experiments tree. */
async function sidebarFollowsSelection(wb, quick) {
  // The sidebar: no run is going, so it shows the one selected in the Experiments tree.
  await wb.page.locator('.activitybar .action-item a[aria-label^="Transfer Lab"]').first().click();
  const quickRow = wb.page.locator('.monaco-list-row', { hasText: 'feature extraction ·' }).first();
  await until(
    'the quick run in the tree',
    async () => {
      const expand = wb.page.locator('.monaco-list-row[aria-expanded="false"]', { hasText: 'quick' }).first();
      if (await expand.isVisible().catch(() => false)) await expand.click();
      return quickRow.isVisible().catch(() => false);
    },
    30_000,
  );
  await quickRow.click();
  const facts = await until(
    'the sidebar showing the selected run',
    async () => {
      const f = await sidebarFrame(wb.page);
      const run =
        f &&
        (await f
          .locator('dl.facts dd')
          .first()
          .innerText()
          .catch(() => ''));
      return run === 'quick' ? f.evaluate(() => document.body.innerText) : undefined;
    },
    30_000,
  );
  console.log(`# sidebar after selecting the quick run: ${facts.replace(/\s+/g, ' ').slice(0, 300)}`);
  assert.match(facts, new RegExp(quick.id));
  await wb.screenshot('views-4-sidebar-selected');
}

test('Dashboard chart hover, High Contrast Light and Dark, and the sidebar following the selected run', { timeout: 600_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-views-'));
  writeExperiment(workspace, 'quick', { kind: 'feature-extraction' }, { epochs: 8, batchSize: 16 });
  writeExperiment(workspace, 'tuned', { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 1e-5 }, { epochs: 6, batchSize: 16 });
  const wb = await openWorkbench({ workspace });
  try {
    const quick = await runFromLens(wb, workspace, 'quick', []);
    const tuned = await runFromLens(wb, workspace, 'tuned', [quick.dir]);
    const frame = await until('the dashboard of the fine-tune run', () => dashboardFrame(wb.page, tuned.id), 60_000);
    await frame.locator('table.confusion').waitFor({ timeout: 60_000 });
    const said = await hoverAccuracy(wb, frame);
    console.log(`# hover on the accuracy chart: ${said}`);
    const lr = await frame.locator('figure.tl-chart', { hasText: 'Learning rate' }).first().innerText();
    console.log(`# learning-rate chart legend: ${lr.replace(/\s+/g, ' ')}`);
    assert.match(lr, /base/i, 'the learning-rate chart names the base rate');
    await wb.screenshot('views-1-hover');

    await themesRedraw(wb, tuned.id);
    await setTheme(wb, 'Dark Modern').catch(() => {});

    await sidebarFollowsSelection(wb, quick);
  } catch (e) {
    await wb.screenshot('views-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});

/** Run Data-Efficiency Study from the palette, the grid typed in its three prompts: 3 strategies x 5,20 per class x 2 seeds. */
async function startStudy(wb, quickInput, input) {
  const { page } = wb;
  await wb.runCommand('Transfer Lab: Run Data-Efficiency Study');
  // 1/3 strategies: all four come ticked; untick earlier-cut to keep the study short.
  await quickInput.locator('.quick-input-title', { hasText: 'strategies' }).waitFor({ timeout: 20_000 });
  // A click that lands while the list is still settling is lost: click until it says 3 selected, then OK.
  const earlier = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'earlier' }).first();
  await until(
    'earlier-cut unticked',
    async () => {
      if (/3 Selected/.test(await quickInput.innerText())) return true;
      await earlier
        .locator('.monaco-checkbox, input[type=checkbox]')
        .first()
        .click({ timeout: 2_000 })
        .catch(() => {});
      await page.waitForTimeout(300);
      return /3 Selected/.test(await quickInput.innerText());
    },
    15_000,
  );
  await quickInput.getByRole('button', { name: 'OK' }).click();
  await quickInput.locator('.quick-input-title', { hasText: 'images per class' }).waitFor({ timeout: 10_000 });
  await input.fill('5,20');
  await page.keyboard.press('Enter');
  await quickInput.locator('.quick-input-title', { hasText: 'seeds' }).waitFor({ timeout: 10_000 });
  await input.fill('2');
  await page.keyboard.press('Enter');
}

test('A data-efficiency study from the palette in the Study panel, and the Probe column in Show Layers', { timeout: 900_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-study-'));
  writeExperiment(workspace, 'study', { kind: 'fine-tune', unfreezeFrom: 'block_5_dw', baseLearningRate: 3e-4 }, { epochs: 12, batchSize: 16 });
  const wb = await openWorkbench({ workspace });
  const { page } = wb;
  const quickInput = page.locator('.quick-input-widget');
  const input = quickInput.locator('input').first();
  try {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'study.tlexp.json' }).first().click();
    await page.locator('.codelens-decoration a', { hasText: 'Run' }).first().waitFor({ timeout: 60_000 });
    await startStudy(wb, quickInput, input);
    const progress = page.locator('.notification-toast', { hasText: 'study of study' }).first();
    await progress.waitFor({ timeout: 60_000 });
    console.log(`# study notification: ${(await progress.innerText()).replace(/\s+/g, ' ')}`);
    // The Study panel opens beside the file when the study starts, as a run's dashboard does.
    const studyFrame = () => frameWith(page, () => document.querySelector('h2')?.textContent?.startsWith('Data-efficiency study') === true);
    const done = await until(
      'the study to finish in the panel (12 cells)',
      async () => {
        const f = await studyFrame();
        const head =
          f &&
          (await f
            .locator('header')
            .innerText()
            .catch(() => ''));
        return head && /12 of 12 cells/.test(head) ? f : undefined;
      },
      780_000,
    );
    const header = await done.locator('header').innerText();
    const sentence = await done.locator('p.sentence').innerText();
    console.log(`# study panel: ${header.replace(/\s+/g, ' ')}`);
    console.log(`# study sentence: ${sentence}`);
    assert.ok((await done.locator('canvas').count()) >= 2, 'the accuracy and time charts');
    assert.equal(await done.locator('table tbody tr').count(), 12, 'one row per cell');
    await wb.screenshot('views-5-study');

    // Show Layers from the CodeLens; Probe fills its column.
    await page.locator('.tab', { hasText: 'study.tlexp.json' }).first().click();
    await page.locator('.codelens-decoration a', { hasText: 'Layers' }).first().click();
    const layers = await until(
      'the layer tree',
      async () => frameWith(page, () => document.querySelector('[role="tree"][aria-label="Layers of the backbone"]') !== null),
      90_000,
    );
    await layers.locator('vscode-button', { hasText: 'Probe' }).first().click();
    await layers.locator('.probe-acc').first().waitFor({ timeout: 180_000 });
    const cells = await layers.locator('.probe-cell').evaluateAll((els) => els.map((e) => e.textContent).filter(Boolean));
    const chart = await layers.locator('figure.probe-chart canvas').getAttribute('aria-label');
    console.log(`# probe column: ${cells.join(' | ')}`);
    console.log(`# probe chart: ${chart}`);
    assert.ok(cells.length >= 5, 'a probe value per block');
    await wb.screenshot('views-6-probe');
  } catch (e) {
    await wb.screenshot('views-study-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
