// The experiment as a Keras job, from the installed VSIX, as a user does it: a run trained here
// from the CodeLens; Export Experiment as Keras Script from the palette (the folder it offers
// accepted); `python train.py` in that folder with the Keras venv's Python, as in a terminal;
// then the Keras run in the Experiments view beside ours, and both in Compare, told apart.
// Screenshots: test-results/e2e/kjob-*.png. Skipped (saying so) where that venv is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';

const venv = process.env.TL_KERAS_PYTHON ?? path.join(os.homedir(), '.cache/transfer-lab/bench/keras-venv/bin/python');

function succeededRuns(workspace) {
  const dir = path.join(workspace, '.transferlab', 'runs');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((d) => {
    try {
      const run = JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8'));
      return run.status === 'succeeded' ? [run] : [];
    } catch {
      return []; // not written yet
    }
  });
}

/** `python train.py` in the job folder; resolves with the exit code and the output's tail. */
function trainPy(jobDir) {
  return new Promise((resolve) => {
    const child = spawn(venv, ['train.py'], { cwd: jobDir, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, tail: out.slice(-3000) });
    });
  });
}

/** 1. A run here, from the CodeLens; returns its run.json. */
async function runHere(wb, workspace) {
  await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'kjob.tlexp.json' }).first().click();
  const run = wb.page.locator('.codelens-decoration a', { hasText: 'Run' }).first();
  await run.waitFor({ timeout: 60_000 });
  await run.click();
  return await until('the run here to succeed', () => succeededRuns(workspace)[0], 240_000);
}

/** 2. Export Experiment as Keras Script from the palette, the folder it offers accepted; returns that folder. */
async function exportJob(wb, workspace) {
  const quickInput = wb.page.locator('.quick-input-widget');
  await wb.runCommand('Transfer Lab: Export Experiment as Keras Script');
  const picked = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'kjob' }).first();
  await until(
    'the folder prompt',
    async () => {
      if (await picked.isVisible().catch(() => false)) await picked.click();
      return /train\.py, job\.json/.test(await quickInput.innerText().catch(() => ''));
    },
    20_000,
  );
  await wb.page.keyboard.press('Enter');
  const written = wb.page.locator('.notification-toast', { hasText: 'Keras job written to' }).first();
  const said = (await written.innerText({ timeout: 120_000 })).replace(/\s+/g, ' ');
  await wb.screenshot('kjob-1-written');
  console.log(`# ${said}`);
  const jobDir = path.join(workspace, 'kjob-keras-job');
  assert.ok(said.includes(jobDir), `the job folder is the one offered: ${said}`);
  for (const f of ['train.py', 'job.json', 'splits.json', 'requirements.txt', 'README.md']) assert.ok(fs.existsSync(path.join(jobDir, f)), f);
  return jobDir;
}

/** 3. `python train.py` in the job folder, as in a terminal; returns the Keras run's run.json. */
async function trainWithKeras(workspace, jobDir) {
  const keras = await trainPy(jobDir);
  assert.equal(keras.code, 0, keras.tail);
  const runs = await until('the Keras run folder', () => (succeededRuns(workspace).length >= 2 ? succeededRuns(workspace) : undefined), 30_000);
  const theirs = runs.find((r) => /^keras/.test(r.backend));
  assert.ok(theirs, `a run by Keras: ${runs.map((r) => r.backend).join(', ')}`);
  return theirs;
}

/** 4. The Experiments view lists the Keras run beside ours. */
async function treeShowsKeras(wb) {
  const { page } = wb;
  await page.locator('.activitybar .action-item a[aria-label^="Transfer Lab"]').first().click();
  const kerasRow = page.locator('.monaco-list-row', { hasText: 'keras' }).filter({ hasText: 'feature extraction ·' }).first();
  await until(
    'the Keras run in the Experiments view',
    async () => {
      const expand = page.locator('.monaco-list-row[aria-expanded="false"]', { hasText: 'kjob' }).first();
      if (await expand.isVisible().catch(() => false)) await expand.click();
      return kerasRow.isVisible().catch(() => false);
    },
    30_000,
  );
  assert.equal(await page.locator('.monaco-list-row', { hasText: 'feature extraction ·' }).count(), 2, 'both runs under the experiment');
  await wb.screenshot('kjob-2-tree');
  console.log(`# tree: ${(await kerasRow.innerText()).replace(/\s+/g, ' ')}`);
}

/** 5. Compare: both runs, each column its own name, both test accuracies. */
async function compareBoth(wb, ours, theirs) {
  const { page } = wb;
  const quickInput = page.locator('.quick-input-widget');
  await wb.runCommand('Transfer Lab: Compare Runs');
  const rows = quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'kjob' });
  await rows.first().waitFor({ timeout: 20_000 });
  assert.equal(await rows.count(), 2);
  await rows.nth(0).click();
  await rows.nth(1).click();
  await page.keyboard.press('Enter');
  const webview = page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
  const metrics = webview.locator('table.metrics');
  await metrics.waitFor({ timeout: 30_000 });
  const heads = (await metrics.locator('thead th').allInnerTexts()).map((h) => h.trim()).filter(Boolean);
  assert.equal(new Set(heads).size, heads.length, `the columns are told apart: ${heads.join(' | ')}`);
  const table = (await metrics.innerText()).replace(/\s+/g, ' ');
  const pct = (r) => `${(r.metrics.accuracy * 100).toFixed(1)}%`;
  assert.ok(table.includes(pct(ours)) && table.includes(pct(theirs)), `both test accuracies in Compare: ${table}`);
  await wb.screenshot('kjob-3-compare');
  console.log(`# compare: ${heads.join(' | ')}; ${table}`);
  console.log(`# test accuracy: Transfer Lab ${pct(ours)} (${ours.backend}), Keras ${pct(theirs)} (${theirs.backend})`);
}

test(
  'the experiment as a Keras job from the VSIX: exported, trained by Keras, shown in the Experiments view and in Compare',
  { timeout: 900_000 },
  async (t) => {
    if (!fs.existsSync(venv)) return t.skip(`no Python with TensorFlow at ${venv} (the bench's Keras venv): TL_KERAS_PYTHON names one`);
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-kjob-'));
    const experiment = {
      name: 'kjob',
      data: { dir: path.join(repoRoot, 'media/datasets/fashion-target'), seed: 42 },
      backbone: { catalog: 'fmnist-mini' },
      strategy: { kind: 'feature-extraction' },
      train: { epochs: 10, batchSize: 16, optimizer: 'adam', learningRate: 0.003, earlyStopping: { patience: 8, monitor: 'val_loss' } },
    };
    fs.writeFileSync(path.join(workspace, 'kjob.tlexp.json'), JSON.stringify(experiment, null, 2));
    const wb = await openWorkbench({ workspace });
    try {
      const ours = await runHere(wb, workspace);
      const jobDir = await exportJob(wb, workspace);
      const theirs = await trainWithKeras(workspace, jobDir);
      await treeShowsKeras(wb);
      await compareBoth(wb, ours, theirs);
      assert.ok(Math.abs(ours.metrics.accuracy - theirs.metrics.accuracy) <= 0.1, 'within a few points');
    } catch (e) {
      await wb.screenshot('kjob-failure').catch(() => {});
      throw e;
    } finally {
      await wb.close();
    }
  },
);
