// A user creates an experiment with the New Experiment wizard in the real workbench (typing
// into the quick picks, going Back once), sees the file open, runs it twice and compares the
// two runs in the Compare panel. Screenshots of each step are kept in test-results/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

function succeededRuns(workspace) {
  const dir = path.join(workspace, '.transferlab', 'runs');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((d) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8')).status === 'succeeded';
    } catch {
      return false;
    }
  });
}

async function until(what, check, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('New Experiment wizard, run twice, Compare Runs', { timeout: 420_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-wizard-'));
  fs.cpSync(path.join(repoRoot, 'media/datasets/fashion-target'), path.join(workspace, 'datasets/fashion-target'), { recursive: true });
  const wb = await openWorkbench({ workspace });
  const { page } = wb;
  const quickInput = page.locator('.quick-input-widget');
  const input = quickInput.locator('input').first();
  const row = (text) => quickInput.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  try {
    await wb.runCommand('Transfer Lab: New Experiment');
    // Step 1: the dataset found in the workspace.
    await row('datasets/fashion-target').waitFor({ timeout: 30_000 });
    assert.match(await quickInput.innerText(), /1\/4/);
    await wb.screenshot('wizard-1-dataset');
    await page.keyboard.press('Enter');
    // Step 2: the backbone catalog; go Back once, then forward again.
    await row('fmnist-mini').waitFor({ timeout: 10_000 });
    assert.match(await quickInput.innerText(), /2\/4/);
    await quickInput.getByRole('button', { name: 'Back' }).click();
    await until('step 1 again', async () => /1\/4/.test(await quickInput.innerText()), 10_000);
    await page.keyboard.press('Enter');
    await row('fmnist-mini').waitFor({ timeout: 10_000 });
    await input.fill('fmnist');
    await wb.screenshot('wizard-2-backbone');
    await page.keyboard.press('Enter');
    // Step 3: the four situations, with the recommendation for ~20 images per class.
    await row('Feature extraction').waitFor({ timeout: 10_000 });
    const strategyText = await quickInput.innerText();
    assert.match(strategyText, /20 training images per class/);
    assert.match(strategyText, /recommended/);
    await wb.screenshot('wizard-3-strategy');
    await page.keyboard.press('Enter');
    // Step 4: the name (validated), then the file opens.
    await until('step 4', async () => /4\/4/.test(await quickInput.innerText()), 10_000);
    await input.fill('bad name!');
    await quickInput.locator('.quick-input-message', { hasText: 'letters, digits' }).waitFor({ timeout: 5_000 });
    await input.fill('e2e-features');
    await wb.screenshot('wizard-4-name');
    await page.keyboard.press('Enter');
    const file = path.join(workspace, 'e2e-features.tlexp.json');
    await until('the experiment file', () => fs.existsSync(file), 10_000);
    await page.locator('.tab', { hasText: 'e2e-features.tlexp.json' }).first().waitFor({ timeout: 10_000 });
    await page.locator('.monaco-editor .view-lines', { hasText: 'feature-extraction' }).first().waitFor({ timeout: 10_000 });
    const exp = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(exp.data.dir, 'datasets/fashion-target');
    assert.deepEqual(exp.strategy, { kind: 'feature-extraction' });
    await wb.screenshot('wizard-5-file-open');

    // Two short runs of it (fewer epochs, edited like a user would in the file).
    exp.train.epochs = 4;
    fs.writeFileSync(file, JSON.stringify(exp, null, 2));
    for (let i = 1; i <= 2; i++) {
      // The Run button in the editor title, as a user would press it.
      await page.locator('.tab', { hasText: 'e2e-features.tlexp.json' }).first().click();
      await page.locator('.editor-actions .action-label[aria-label^="Run Experiment"]').first().click();
      await until(`run ${i} to succeed`, () => succeededRuns(workspace).length >= i, 180_000);
      if (i === 1) {
        exp.strategy = { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' };
        exp.train.epochs = 3;
        fs.writeFileSync(file, JSON.stringify(exp, null, 2));
      }
    }

    // Compare Runs from the palette: pick both runs in the multi-select quick pick.
    await page.locator('.monaco-editor .view-lines').first().click();
    await wb.runCommand('Transfer Lab: Compare Runs');
    await row('e2e-features').waitFor({ timeout: 20_000 });
    // Clicking a row of a multi-select quick pick toggles its checkbox.
    const rows = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'e2e-features' });
    assert.equal(await rows.count(), 2);
    await rows.nth(0).click();
    await rows.nth(1).click();
    await quickInput.locator('.quick-input-count', { hasText: '2' }).waitFor({ timeout: 5_000 }).catch(() => {});
    await wb.screenshot('compare-pick');
    await page.keyboard.press('Enter');
    const view = page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
    await view.locator('table.metrics').waitFor({ timeout: 30_000 });
    assert.equal(await view.locator('.chart canvas').count(), 3);
    const diff = await view.locator('table.differences').innerText();
    assert.match(diff, /strategy/);
    assert.match(diff, /fine-tune/);
    const label = await view.locator('.chart canvas').first().getAttribute('aria-label');
    console.log(`# chart text alternative: ${label}`);
    assert.match(label, /Validation accuracy per epoch/);
    await wb.screenshot('compare-runs');
  } catch (e) {
    await wb.screenshot('workflows-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
