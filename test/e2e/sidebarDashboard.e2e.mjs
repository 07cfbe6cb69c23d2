// A user starts a run from the CodeLens, opens the Transfer Lab sidebar and sees its Dashboard
// view follow the run (status, epoch progress, labelled accuracies, mini curves), stops it
// with the view's Stop button, and sees the stopped run stay shown with its final numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

/** The frame of the sidebar Dashboard view's content (the one with an Environment section; the panel has none). */
async function sidebarFrame(page) {
  for (const frame of page.frames()) {
    const isView = await frame
      .evaluate(() => [...document.querySelectorAll('h2')].some((h) => h.textContent === 'Environment') && document.querySelector('dl.facts') !== null)
      .catch(() => false);
    if (isView) return frame;
  }
  return undefined;
}

/** The view's facts as { label: value }. */
const factsOf = (frame) =>
  frame.evaluate(() => {
    const out = {};
    for (const dt of document.querySelectorAll('dl.facts dt')) out[dt.textContent] = dt.nextElementSibling?.textContent ?? '';
    return out;
  });

function writeExperiment(workspace) {
  const experiment = {
    name: 'sidebar',
    data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'fine-tune', unfreezeFrom: 'block_5_dw' },
    train: { epochs: 60, batchSize: 4 },
  };
  fs.writeFileSync(path.join(workspace, 'sidebar.tlexp.json'), JSON.stringify(experiment, null, 2));
}

async function startRun(wb) {
  await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'sidebar.tlexp.json' }).first().click();
  const run = wb.page.locator('.codelens-decoration a', { hasText: 'Run' }).first();
  await run.waitFor({ timeout: 60_000 });
  await run.click();
  await wb.page.locator('.activitybar .action-item a[aria-label^="Transfer Lab"]').first().click();
}

test('the sidebar Dashboard follows a running run, and its Stop button stops it', { timeout: 300_000 }, async () => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-sidebar-'));
  writeExperiment(workspace);
  const wb = await openWorkbench({ workspace });
  try {
    await startRun(wb);
    const running = await until(
      'the sidebar showing the run training with two epochs done',
      async () => {
        const frame = await sidebarFrame(wb.page);
        const facts = frame && (await factsOf(frame));
        return facts?.Status === 'running' && /last \(epoch [2-9]/.test(facts['Val accuracy'] ?? '') ? { frame, facts } : undefined;
      },
      180_000,
    );
    console.log(`# sidebar while training: ${JSON.stringify(running.facts)}`);
    assert.match(running.facts.Epoch, /^\d+ of 60$/);
    assert.match(running.facts['Best val acc'], /^\d+\.\d% best \(epoch \d+\)$/);
    assert.equal(running.facts['Test accuracy'], undefined, 'no test accuracy before the run ends');
    // The epoch progress is a vscode-elements progress bar now (h-charts), labelled with the epoch.
    assert.match(await running.frame.locator('vscode-progress-bar').getAttribute('aria-label'), /^epoch \d+ of 60$/);
    assert.equal(await running.frame.locator('.mini-charts canvas').count(), 2, 'loss and accuracy mini charts');
    await wb.screenshot('sidebar-running');

    await running.frame.locator('vscode-button', { hasText: 'Stop' }).click();
    const stopped = await until(
      'the sidebar showing the stopped run',
      async () => {
        const frame = await sidebarFrame(wb.page);
        const facts = frame && (await factsOf(frame));
        return facts && facts.Status !== 'running' && facts.Run === running.facts.Run ? { frame, facts } : undefined;
      },
      60_000,
    );
    console.log(`# sidebar after Stop: ${JSON.stringify(stopped.facts)}`);
    assert.equal(stopped.facts.Status, 'cancelled');
    assert.match(stopped.facts['Val accuracy'], /last \(epoch \d+\)/);
    assert.equal(await stopped.frame.locator('vscode-button', { hasText: 'Stop' }).count(), 0, 'no Stop for a run that ended');
    await wb.screenshot('sidebar-stopped');
  } catch (e) {
    await wb.screenshot('sidebar-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
