// Export Model to TensorFlow Lite from the installed VSIX, as a user does it: a run trained from
// the CodeLens, then the palette's Export Model, the run, the format (TFLite int8, then float32),
// the folder; TensorFlow's converter runs in the Python transferLab.pythonPath names (the bench's
// Keras venv), and the notification gives the converted model's test accuracy next to the run's.
// Screenshots: test-results/e2e/export-*.png. Skipped (saying so) where that venv is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

const venv = process.env.TL_KERAS_PYTHON ?? path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python');

function succeededRun(workspace) {
  const dir = path.join(workspace, '.transferlab', 'runs');
  if (!fs.existsSync(dir)) return undefined;
  for (const d of fs.readdirSync(dir)) {
    try {
      const run = JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8'));
      if (run.status === 'succeeded') return run;
    } catch {
      /* not written yet */
    }
  }
  return undefined;
}

/** Export Model from the palette: the run, the format, the folder; returns the notification's text. */
async function exportAs(wb, runId, formatLabel, folder, shot) {
  const quickInput = wb.page.locator('.quick-input-widget');
  const row = (text) => quickInput.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await wb.runCommand('Transfer Lab: Export Model');
  await row(runId).click({ timeout: 20_000 });
  await row(formatLabel).waitFor({ timeout: 10_000 });
  await wb.screenshot(`export-${shot}-format`);
  await row(formatLabel).click();
  const input = quickInput.locator('input').first();
  await until('the folder prompt', async () => /Export the model of/.test(await quickInput.innerText().catch(() => '')), 10_000);
  await input.fill(folder);
  await wb.page.waitForTimeout(500); // the folder check runs as it is typed
  await wb.page.keyboard.press('Enter');
  const toast = wb.page.locator('.notification-toast', { hasText: `exported ${runId}` }).first();
  const text = await toast.innerText({ timeout: 240_000 });
  await wb.screenshot(`export-${shot}-done`);
  return text.replace(/\s+/g, ' ');
}

test('Export Model to TFLite int8 and float32 from the VSIX: the converted accuracy beside the run’s', { timeout: 900_000 }, async (t) => {
  if (!fs.existsSync(venv)) return t.skip(`no Python with TensorFlow at ${venv} (the bench's Keras venv): TL_KERAS_PYTHON names one`);
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-export-'));
  const experiment = {
    name: 'export-me',
    data: { dir: path.join(repoRoot, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
    train: { epochs: 3, batchSize: 16, learningRate: 0.01 },
  };
  fs.writeFileSync(path.join(workspace, 'export-me.tlexp.json'), JSON.stringify(experiment, null, 2));
  const wb = await openWorkbench({ workspace, settings: { 'transferLab.pythonPath': venv } });
  try {
    await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'export-me.tlexp.json' }).first().click();
    const run = wb.page.locator('.codelens-decoration a', { hasText: 'Run' }).first();
    await run.waitFor({ timeout: 60_000 });
    await run.click();
    const record = await until('the run to succeed', () => succeededRun(workspace), 240_000);
    const original = `${(record.metrics.accuracy * 100).toFixed(1)}% original`;
    const seen = {};
    for (const [shot, label, file] of [
      ['int8', 'TensorFlow Lite (int8 quantized)', 'model_int8.tflite'],
      ['float32', 'TensorFlow Lite (float32)', 'model.tflite'],
    ]) {
      const folder = path.join(workspace, `exported-${shot}`);
      const said = await exportAs(wb, record.id, label, folder, shot);
      console.log(`# ${shot}: ${said}`);
      assert.match(said, new RegExp(`as ${file.replace('.', '\\.')}: test accuracy ${original.replace('.', '\\.')}, \\d+\\.\\d% tflite`));
      assert.equal(fs.readFileSync(path.join(folder, file)).subarray(4, 8).toString('latin1'), 'TFL3', `${file} is a TFLite flatbuffer`);
      const written = JSON.parse(fs.readFileSync(path.join(folder, 'export.json'), 'utf8'));
      assert.equal(written.accuracy.original, record.metrics.accuracy);
      seen[shot] = written.accuracy.converted;
      // The toast goes so that the next one is the one read.
      await wb.page.keyboard.press('Escape');
    }
    console.log(`# run ${(record.metrics.accuracy * 100).toFixed(1)}%, int8 ${(seen.int8 * 100).toFixed(1)}%, float32 ${(seen.float32 * 100).toFixed(1)}%`);
    assert.ok(Math.abs(seen.float32 - record.metrics.accuracy) <= 0.01, 'float32 keeps the accuracy');
  } catch (e) {
    await wb.screenshot('export-failure').catch(() => {});
    throw e;
  } finally {
    await wb.close();
  }
});
