// The VS Code walkthrough "Transfer Lab: from images to a first result" (contributes.walkthroughs),
// done as a new user does it: opened from the palette in an empty workspace, each step's own
// button clicked in the walkthrough page, whatever it asks answered, and the step seen checked
// off there. From the sample dataset to a folder's prediction. A screenshot per step in
// test-results/e2e/getting-started-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';

const STEP = 'transfer-lab.transfer-lab#transferLab.firstResult#';

function succeededRuns(workspace) {
  const dir = path.join(workspace, '.transferlab', 'runs');
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir).filter((d) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8')).status === 'succeeded';
    } catch {
      return false;
    }
  }).length;
}

function gettingStartedUi(wb) {
  const { page } = wb;
  const quickInput = page.locator('.quick-input-widget');
  const input = quickInput.locator('input').first();
  const row = (text) => quickInput.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  const choose = async (filter) => {
    await input.fill(filter);
    await quickInput.locator('.quick-input-list .monaco-list-row.focused', { hasText: filter }).first().click();
  };
  const stepButton = (id) => page.locator(`button.getting-started-step[data-step-id="${STEP}${id}"]`);
  const webview = () => page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
  const notification = (text) => page.locator('.notification-toast', { hasText: text }).first();
  /** Back to the walkthrough's tab (a click that lands while a quick input closes is lost: again until it shows). */
  const showWalkthrough = () =>
    until(
      'the walkthrough tab',
      async () => {
        await page
          .locator('.tab', { hasText: /Walkthrough|Welcome/ })
          .first()
          .click({ timeout: 5_000 })
          .catch(() => {});
        // From the Welcome page's overview (where an Escape leads), back into this walkthrough.
        const category = page.locator('button.getting-started-category', { hasText: 'Transfer Lab' }).first();
        if (await category.isVisible().catch(() => false)) await category.click({ timeout: 5_000 }).catch(() => {});
        return stepButton('sample')
          .isVisible({ timeout: 1_000 })
          .catch(() => false);
      },
      30_000,
    );
  /** The step expanded, its button clicked. */
  const clickStep = async (id, buttonText) => {
    await showWalkthrough();
    await stepButton(id).locator('.step-title').click();
    await stepButton(id).locator('.button-container a.monaco-button', { hasText: buttonText }).click();
  };
  /** The step shows checked in the walkthrough (its own checkbox, aria-checked). */
  const checked = async (id, n, name) => {
    // An editor the step opened may take the front a moment later: show the walkthrough each time.
    await until(
      `step ${id} checked off`,
      async () => {
        await showWalkthrough();
        return (
          (await stepButton(id)
            .getAttribute('aria-checked', { timeout: 2_000 })
            .catch(() => null)) === 'true'
        );
      },
      30_000,
    );
    await showWalkthrough();
    await wb.screenshot(`getting-started-${n}-${name}`);
  };
  return { wb, page, quickInput, input, row, choose, stepButton, webview, notification, clickStep, checked };
}

async function sample(ui, workspace) {
  await ui.clickStep('sample', 'Copy the Sample Dataset');
  const said = await ui.notification('sample dataset').innerText({ timeout: 30_000 });
  console.log(`# 1 sample: ${said.replace(/\s+/g, ' ')}`);
  assert.ok(fs.readdirSync(path.join(workspace, 'datasets/fashion-target/train/coat')).length > 0);
  await ui.checked('sample', 1, 'sample');
}

async function experiment(ui, workspace) {
  await ui.clickStep('experiment', 'New Experiment');
  await ui.row('fashion-target').waitFor({ timeout: 30_000 });
  await ui.choose('fashion-target');
  await ui.row('fmnist-mini').waitFor({ timeout: 10_000 });
  await ui.choose('fmnist');
  await ui.row('Feature extraction').waitFor({ timeout: 10_000 });
  console.log(`# 2 strategy step: ${(await ui.quickInput.innerText()).split('\n').slice(0, 6).join(' | ')}`);
  await ui.choose('Feature extraction');
  await until('the name step', async () => /4\/4/.test(await ui.quickInput.innerText()), 10_000);
  await ui.input.fill('first');
  await ui.page.keyboard.press('Enter');
  const file = path.join(workspace, 'first.tlexp.json');
  await until('the experiment file', () => fs.existsSync(file), 10_000);
  await ui.page.locator('.tab.active', { hasText: 'first.tlexp.json' }).waitFor({ timeout: 10_000 });
  await ui.checked('experiment', 2, 'experiment');
  return file;
}

async function run(ui, workspace, n) {
  await ui.clickStep('run', 'Run Experiment');
  await until(`run ${n} to succeed`, () => succeededRuns(workspace) >= n, 240_000);
  // The dashboard that opened beside it says so too (seen in the screenshot that follows).
  await ui.page.waitForTimeout(2_000);
}

async function dashboard(ui) {
  await ui.clickStep('dashboard', 'Open Dashboard');
  // Two runs: the dashboard asks which.
  if (
    await ui
      .row('first')
      .isVisible({ timeout: 5_000 })
      .catch(() => false)
  )
    await ui.page.keyboard.press('Enter');
  await ui.webview().locator('table.confusion').waitFor({ timeout: 60_000 });
  const header = await ui.webview().locator('.evaluation h2').innerText();
  console.log(`# 4 dashboard: ${header.replace(/\s+/g, ' ').slice(0, 200)}`);
  await ui.checked('dashboard', 4, 'dashboard');
}

async function layers(ui) {
  await ui.clickStep('layers', 'Show Layers');
  await ui.webview().getByRole('tree', { name: 'Layers of the backbone' }).waitFor({ timeout: 90_000 });
  await ui.checked('layers', 5, 'layers');
}

async function compare(ui) {
  const rows = ui.quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'first' });
  // The run picker can close under us (a finished run's editor taking focus as it opens): open it
  // again from the step's button until the two runs are picked and Compare shows.
  await until(
    'Compare showing the two runs',
    async () => {
      if (
        !(await rows
          .nth(1)
          .isVisible()
          .catch(() => false))
      ) {
        // Escape only closes a picker that is open: in the walkthrough page it would go back to the Welcome page.
        if (await ui.quickInput.isVisible().catch(() => false)) await ui.page.keyboard.press('Escape').catch(() => {});
        await ui.clickStep('compare', 'Compare Runs');
        await rows
          .nth(1)
          .waitFor({ timeout: 10_000 })
          .catch(() => {});
      }
      try {
        await rows.nth(0).click({ timeout: 3_000 });
        await rows.nth(1).click({ timeout: 3_000 });
        await ui.page.keyboard.press('Enter');
        await ui.webview().locator('table.metrics').waitFor({ timeout: 15_000 });
        return true;
      } catch {
        return false;
      }
    },
    120_000,
  );
  await ui.checked('compare', 6, 'compare');
}

async function predict(ui) {
  await ui.clickStep('predict', 'Predict Image(s)');
  await ui.row('Folders of images').click({ timeout: 10_000 });
  // VS Code's own open dialog (a quick input in the browser): type the folder, press Predict.
  await ui.quickInput.locator('.quick-input-title', { hasText: 'Folders of images to classify' }).waitFor({ timeout: 10_000 });
  // It opens at the workspace: go into datasets/fashion-target/test as a user clicks through.
  for (const [name, rel] of [
    ['datasets', 'datasets/'],
    ['fashion-target', 'datasets/fashion-target/'],
    ['test', 'datasets/fashion-target/test/'],
  ]) {
    await ui.row(name).click({ timeout: 10_000 });
    await until(`the dialog inside ${rel}`, async () => (await ui.input.inputValue()).endsWith(rel), 10_000);
  }
  await ui.quickInput.getByRole('button', { name: 'Predict' }).click();
  await ui.row('latest').waitFor({ timeout: 20_000 });
  await ui.page.keyboard.press('Enter');
  const accuracy = ui
    .webview()
    .getByText(/accuracy \d+(\.\d)?% \(\d+ of 250 images right/)
    .first();
  await accuracy.waitFor({ timeout: 120_000 });
  console.log(`# 7 predictions for test/: ${await accuracy.innerText()}`);
  await ui.page.locator('.tab', { hasText: 'Predictions' }).first().click();
  await ui.page.waitForTimeout(1000);
  await ui.wb.screenshot('getting-started-7-predictions');
  await ui.checked('predict', 8, 'done');
}

test('Walkthrough in the Welcome page: every step from its own button, checked off, to a folder prediction', { timeout: 900_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-gs-'));
  const wb = await openWorkbench({ workspace });
  const ui = gettingStartedUi(wb);
  try {
    await wb.runCommand('Transfer Lab: Open the Walkthrough');
    await ui.stepButton('sample').waitFor({ timeout: 30_000 });
    await wb.screenshot('getting-started-0-opened');
    await sample(ui, workspace);
    await experiment(ui, workspace);
    await run(ui, workspace, 1);
    await ui.checked('run', 3, 'run');
    await dashboard(ui);
    await layers(ui);
    await run(ui, workspace, 2);
    await compare(ui);
    await predict(ui);
    const progress = await wb.page.locator('.gettingStartedContainer').first().innerText();
    assert.equal(await wb.page.locator(`button.getting-started-step[aria-checked="true"]`).count(), 7, 'all seven steps checked');
    console.log(`# all seven steps checked off: ${progress.includes('Predict')}`);
  } catch (e) {
    await wb.screenshot('getting-started-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
