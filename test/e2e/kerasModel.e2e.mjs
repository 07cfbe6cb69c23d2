// A Keras user brings their own trained model: an InceptionV3 with a Dense head of their own,
// saved by Keras 3 as `model.keras` (made by Keras itself: scripts/keras-fixtures/). In the
// installed extension they point an experiment at it, open Show Layers (the cut is the last
// feature map, mixed10, not their hidden Dense; the pixels are fed as Keras's "tf" mode and
// the panel says that was guessed), then run it from the CodeLens and see it succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';
import { kerasFixtureRoot } from './kerasFixture.mjs';

test(
  'A Keras .keras model with its own head: Show Layers cuts at mixed10 and says the preprocessing was guessed; the run succeeds',
  { timeout: 420_000 },
  async () => {
    const fixtures = kerasFixtureRoot();
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-keras-'));
    fs.mkdirSync(path.join(workspace, 'models'));
    fs.copyFileSync(path.join(fixtures, 'models', 'inception_v3_head', 'model.keras'), path.join(workspace, 'models', 'my_inception.keras'));
    fs.cpSync(path.join(repoRoot, 'media/datasets/fashion-target/train'), path.join(workspace, 'photos'), { recursive: true });
    const file = path.join(workspace, 'mine.tlexp.json');
    const experiment = {
      name: 'mine',
      data: { dir: 'photos', split: { val: 0.2, test: 0.2 }, resize: 'squash' },
      backbone: { path: 'models/my_inception.keras' },
      strategy: { kind: 'feature-extraction' },
      train: { epochs: 3, batchSize: 16 },
    };
    fs.writeFileSync(file, `${JSON.stringify(experiment, null, 2)}\n`);
    const wb = await openWorkbench({ workspace });
    try {
      await wb.page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mine.tlexp.json' }).first().click();
      const lens = (text) => wb.page.locator('.codelens-decoration a', { hasText: text }).first();
      await lens('Layers').waitFor({ timeout: 60_000 });
      await lens('Layers').click();
      const view = wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
      await view.getByRole('tree', { name: 'Layers of the backbone' }).waitFor({ timeout: 120_000 });
      const summary = await view.locator('.summary').innerText();
      console.log(`# Show Layers summary:\n${summary.replace(/^/gm, '#   ')}`);
      assert.match(summary, /my_inception\.keras/);
      assert.match(summary, /the head attaches after mixed10/);
      assert.match(summary, /mixed10 \(the last layer before the model.s own classifier head, which is left out\)/, 'the cut says why: their head is left out');
      assert.match(summary, /Pixels:\s*tf \(x \* 0\.007843 - 1, RGB\), guessed from the architecture/);
      assert.match(summary, /Keras 3 \.keras file: read directly/);
      await view.locator('.marker-cut', { hasText: 'head attaches here' }).waitFor();
      await wb.screenshot('keras-model-layers');

      // Back to the file, run it from the CodeLens; the dashboard opens and the run succeeds.
      await wb.page.locator('.tabs-container .tab', { hasText: 'mine.tlexp.json' }).first().click();
      await lens('Run').waitFor({ timeout: 30_000 });
      await lens('Run').click();
      const dashboard = wb.page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
      await dashboard.locator('.status-succeeded').waitFor({ timeout: 300_000 });
      const evaluation = await dashboard.locator('.evaluation h2').innerText();
      console.log(`# run: ${evaluation}`);
      assert.match(evaluation, /Evaluation on the test split: \d+\.\d% accuracy/);
      await wb.screenshot('keras-model-run');
      const runs = fs.readdirSync(path.join(workspace, '.transferlab', 'runs'));
      const record = JSON.parse(fs.readFileSync(path.join(workspace, '.transferlab', 'runs', runs[0], 'run.json'), 'utf8'));
      assert.equal(record.status, 'succeeded');
      assert.ok(
        (record.notes ?? []).some((n) => /Preprocessing guessed from the model: "tf"/.test(n)),
        `run.json notes: ${JSON.stringify(record.notes)}`,
      );
    } catch (e) {
      await wb.screenshot('keras-model-failure').catch(() => {});
      throw e;
    } finally {
      await wb.close();
    }
  },
);
