// Keras Applications from the catalog, as a new user meets them in the installed extension:
// the New Experiment wizard lists the families with size, ImageNet top-1, input size and
// "not downloaded yet"; an entry whose host cannot be reached is said before anything is
// written; EfficientNetB0 and ConvNeXtTiny are picked, Show Layers groups their stages and
// blocks from the shipped topology (no download), a block's "Train from here" edits the file,
// and the run downloads the weights and trains.
//
// The weights come from a loopback stand-in for Keras's host (kerasFixture.mjs): real Keras
// weight files in the Keras Applications layout, random (no ImageNet file can be downloaded
// here), listed with their sha256 in the override manifest TRANSFER_LAB_KERAS_WEIGHTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { serveKerasWeights } from './kerasFixture.mjs';
import { copyShippedDataset } from '../support/datasets.mjs';

/** The file's JSON once it is there and whole (the wizard writes it while we look). */
const readJson = (file) => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};

/** A loopback port nobody listens on (bound, then closed): "the internet is down" for one entry. */
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The quick input: its text box, a row by text, and choosing the focused row after filtering. */
function pickerOf(page) {
  const quickInput = page.locator('.quick-input-widget');
  const input = quickInput.locator('input').first();
  const row = (text) => quickInput.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  const choose = async (filter, label = filter) => {
    await input.fill(filter);
    await page.mouse.move(0, 0); // a hover tooltip of the list can cover the row
    await quickInput.locator('.quick-input-list .monaco-list-row.focused', { hasText: label }).first().click();
  };
  return { quickInput, input, row, choose };
}

/** The workbench parts and steps the catalog test drives. */
function catalogUi(wb, workspace) {
  const { page } = wb;
  const { quickInput, input, row, choose } = pickerOf(page);
  const webview = () => page.frameLocator('iframe.webview').last().frameLocator('iframe#active-frame');
  const lens = (text) => page.locator('.codelens-decoration a', { hasText: text }).first();

  /** The wizard up to the strategy step, on `id`; returns the strategy step's text. */
  async function wizardTo(id) {
    await wb.runCommand('Transfer Lab: New Experiment');
    await row('photos').waitFor({ timeout: 30_000 });
    await choose('photos');
    await row('fmnist-mini').waitFor({ timeout: 10_000 });
    await choose(id, id);
    await row('Feature extraction').waitFor({ timeout: 30_000 });
    return quickInput.innerText();
  }

  /** Show Layers from the CodeLens; waits for the tree and returns the summary text. */
  async function showLayers(fileName) {
    await page.locator('.tabs-container .tab', { hasText: fileName }).first().click();
    await lens('Layers').waitFor({ timeout: 60_000 });
    await lens('Layers').click();
    await webview().getByRole('tree', { name: 'Layers of the backbone' }).waitFor({ timeout: 120_000 });
    return webview().locator('.summary').innerText();
  }

  /** Hover a block header and click its Train from here; waits for the editor to show the edit. */
  async function trainFromBlock(block, firstLayer, file) {
    const head = webview().locator(`li.group[data-block="${block}"] > .row`).first();
    await head.scrollIntoViewIfNeeded();
    await head.hover();
    await head.getByRole('button', { name: 'Train from here' }).click();
    await page.locator('.editor-instance .view-lines', { hasText: 'unfreezeFrom' }).first().waitFor({ timeout: 20_000 });
    const text = await page.locator('.editor-instance .view-lines', { hasText: 'unfreezeFrom' }).first().innerText();
    assert.match(text, new RegExp(`"unfreezeFrom":\\s*"${firstLayer}"`));
    assert.match(text, /"kind":\s*"fine-tune"/);
    // Saved (the web workbench auto-saves after a delay; save now so the run reads it).
    await page.keyboard.press('Control+S');
    await until('the edit on disk', () => readJson(file)?.strategy?.unfreezeFrom === firstLayer, 20_000);
  }

  async function runAndWait(fileName) {
    await page.locator('.tabs-container .tab', { hasText: fileName }).first().click();
    await lens('Run').waitFor({ timeout: 30_000 });
    await lens('Run').click();
    const dashboard = webview();
    await dashboard.locator('.status-succeeded, .status-failed').first().waitFor({ timeout: 420_000 });
    const status = await dashboard.locator('.status-succeeded').count();
    const text = await dashboard.locator('body').innerText();
    assert.equal(status, 1, `the run succeeded; the dashboard says:\n${text.slice(0, 2000)}`);
    return dashboard.locator('.evaluation h2').innerText();
  }

  const runRecords = () => {
    const dir = path.join(workspace, '.transferlab', 'runs');
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((d) => JSON.parse(fs.readFileSync(path.join(dir, d, 'run.json'), 'utf8'))) : [];
  };

  const dialog = page.locator('.monaco-dialog-box');
  return { wb, page, quickInput, input, row, choose, webview, lens, wizardTo, showLayers, trainFromBlock, runAndWait, runRecords, dialog };
}

/** 1. The wizard's backbone step: families, sizes, top-1, input size, not downloaded yet. */
async function wizardFamilies(ui) {
  const { wb, quickInput, input, row, choose } = ui;
  await wb.runCommand('Transfer Lab: New Experiment');
  await row('photos').waitFor({ timeout: 30_000 });
  await choose('photos');
  await row('fmnist-mini').waitFor({ timeout: 10_000 });
  await input.fill('efficientnet');
  await row('efficientnet_b0').waitFor({ timeout: 10_000 });
  const listed = await quickInput.innerText();
  console.log(
    `# wizard, filtered to "efficientnet":\n${listed
      .split('\n')
      .slice(0, 12)
      .map((l) => `#   ${l}`)
      .join('\n')}`,
  );
  assert.match(listed, /efficientnet_b0/);
  assert.match(listed, /4\.0M params, 16\.2 MB · ImageNet top-1 77\.1% · 224×224 input/);
  assert.match(listed, /not downloaded yet \(needs internet, 16\.2 MB\)/);
  await wb.screenshot('catalog-wizard-efficientnet');
  await input.fill('');
  await row('fmnist-mini').waitFor({ timeout: 10_000 });
  const separators = (await quickInput.locator('.quick-input-list .quick-input-list-separator').filter({ visible: true }).allInnerTexts())
    .map((t) => t.trim())
    .filter(Boolean);
  console.log(`# family separators in view: ${separators.join(' | ')}`);
  assert.ok(separators.includes('Ships with Transfer Lab'), `separators: ${separators}`);
  await wb.screenshot('catalog-wizard-families');
  await input.fill('convnext');
  await row('convnext_tiny').waitFor({ timeout: 10_000 });
  console.log(
    `# wizard, filtered to "convnext":\n${(await quickInput.innerText())
      .split('\n')
      .slice(0, 8)
      .map((l) => `#   ${l}`)
      .join('\n')}`,
  );
  assert.match(await quickInput.innerText(), /convnext_tiny27\.8M params, 111\.3 MB · ImageNet top-1 82\.1% · 224×224 input/);
}

/** 2. Offline, said before anything is written: resnet50's host does not answer. */
async function offlineSaidInWizard(ui, workspace) {
  const { wb, row, choose, dialog } = ui;
  await choose('resnet50', 'resnet50');
  await dialog.waitFor({ timeout: 20_000 });
  const said = await dialog.innerText();
  console.log(
    `# offline dialog:\n${said
      .split('\n')
      .map((l) => `#   ${l}`)
      .join('\n')}`,
  );
  assert.match(said, /resnet50 is not downloaded yet \(94\.4 MB\)/);
  assert.match(said, /cannot be reached now/);
  await wb.screenshot('catalog-wizard-offline');
  await dialog.getByRole('button', { name: 'Pick Another Backbone' }).click();
  await row('fmnist-mini').or(row('resnet50')).first().waitFor({ timeout: 10_000 });
  assert.deepEqual(
    fs.readdirSync(workspace).filter((f) => f.endsWith('.tlexp.json')),
    [],
    'nothing written',
  );
}

/** 3. EfficientNetB0: the strategy step knows its stages; feature extraction, named effnet. */
async function pickEfficientNet(ui, workspace) {
  const { page, quickInput, input, row, choose } = ui;
  await choose('efficientnet_b0', 'efficientnet_b0');
  await row('Feature extraction').waitFor({ timeout: 30_000 });
  const strategies = await quickInput.innerText();
  console.log(
    `# EfficientNetB0 strategies:\n${strategies
      .split('\n')
      .slice(0, 14)
      .map((l) => `#   ${l}`)
      .join('\n')}`,
  );
  assert.match(strategies, /block5c_add/, 'the earlier cut is the end of stage block5');
  assert.match(strategies, /block7a_expand_conv/, 'fine-tune from the last stage');
  await choose('Feature extraction');
  await until('step 4', async () => /4\/4/.test(await quickInput.innerText()), 10_000);
  await input.fill('effnet');
  await page.keyboard.press('Enter');
  const effFile = path.join(workspace, 'effnet.tlexp.json');
  const effExp = await until('effnet.tlexp.json', () => readJson(effFile), 10_000);
  assert.deepEqual(effExp.backbone, { catalog: 'efficientnet_b0' });
  return effFile;
}

/** 4. Show Layers on it: stages and blocks, from the shipped topology, nothing downloaded. */
async function efficientNetLayers(ui, server) {
  const { wb, webview, showLayers } = ui;
  const effSummary = await showLayers('effnet.tlexp.json');
  console.log(`# EfficientNetB0 Show Layers summary:\n${effSummary.replace(/^/gm, '#   ')}`);
  assert.match(effSummary, /top_activation \(the backbone.s usual cut\)/);
  assert.match(effSummary, /Pixels:\s*none/);
  await webview().locator('li.stage-heading', { hasText: 'Stage block6' }).waitFor({ timeout: 10_000 });
  const blocks = await webview()
    .locator('li.group[data-block]')
    .evaluateAll((ls) => ls.map((l) => l.dataset.block));
  console.log(`# EfficientNetB0 blocks (${blocks.length}): ${blocks.join(' ')}`);
  for (const b of ['block1a', 'block2b', 'block5c', 'block6a', 'block6d', 'block7a']) assert.ok(blocks.includes(b), `block ${b} is shown`);
  assert.equal(server.requests.get('GET /keras-applications/efficientnet_b0_notop.h5') ?? 0, 0, 'Show Layers downloads nothing');
  await wb.screenshot('catalog-efficientnet-layers');
}

/** 5. Train from block6a: the file says so; run it (downloads the weights once, trains). */
async function trainEfficientNet(ui, server, effFile) {
  const { wb, webview, trainFromBlock, runAndWait, runRecords } = ui;
  await trainFromBlock('block6a', 'block6a_expand_conv', effFile);
  await webview().locator('.summary', { hasText: 'Fine-tuning from block6a_expand_conv' }).waitFor({ timeout: 20_000 });
  await wb.screenshot('catalog-efficientnet-train-from');
  const effEval = await runAndWait('effnet.tlexp.json');
  console.log(`# EfficientNetB0 run: ${effEval}`);
  await wb.screenshot('catalog-efficientnet-run');
  assert.equal(server.requests.get('GET /keras-applications/efficientnet_b0_notop.h5'), 1, 'the weights were downloaded once');
  const eff = runRecords().find((r) => r.config?.backbone?.catalog === 'efficientnet_b0');
  assert.equal(eff?.status, 'succeeded');
  assert.equal(eff.config.strategy.unfreezeFrom, 'block6a_expand_conv');
  console.log(`# EfficientNetB0 run notes:\n${(eff.notes ?? []).map((n) => `#   ${n}`).join('\n')}`);
  assert.ok(
    (eff.notes ?? []).some((n) => /keras-weights\.json|TRANSFER_LAB_KERAS_WEIGHTS/.test(n)),
    'the run says where the weights came from',
  );
}

/** 6. ConvNeXtTiny through the wizard; its stages in Show Layers; train its last block. */
async function convNeXt(ui, server, workspace) {
  const { wb, page, quickInput, input, choose, webview, wizardTo, showLayers, trainFromBlock, runAndWait, runRecords } = ui;
  const cnxStrategies = await wizardTo('convnext_tiny');
  console.log(
    `# ConvNeXtTiny strategies:\n${cnxStrategies
      .split('\n')
      .slice(0, 14)
      .map((l) => `#   ${l}`)
      .join('\n')}`,
  );
  await choose('Feature extraction');
  await until('step 4', async () => /4\/4/.test(await quickInput.innerText()), 10_000);
  await input.fill('convnext');
  await page.keyboard.press('Enter');
  const cnxFile = path.join(workspace, 'convnext.tlexp.json');
  await until('convnext.tlexp.json', () => readJson(cnxFile), 10_000);
  const cnxSummary = await showLayers('convnext.tlexp.json');
  console.log(`# ConvNeXtTiny Show Layers summary:\n${cnxSummary.replace(/^/gm, '#   ')}`);
  for (const s of [0, 1, 2, 3])
    await webview()
      .locator('li.stage-heading', { hasText: `Stage ${s} (convnext_tiny_stage_${s})` })
      .waitFor({ timeout: 10_000 });
  const cnxBlocks = await webview()
    .locator('li.group[data-block]')
    .evaluateAll((ls) => ls.map((l) => l.dataset.block));
  console.log(`# ConvNeXtTiny blocks (${cnxBlocks.length}): ${cnxBlocks.join(' ')}`);
  assert.ok(cnxBlocks.includes('convnext_tiny_stage_2_block_8') && cnxBlocks.includes('convnext_tiny_stage_3_block_2'), 'stage 2 has 9 blocks, stage 3 three');
  await wb.screenshot('catalog-convnext-layers');
  const first = await webview().locator('li.group[data-block="convnext_tiny_stage_3_block_2"]').getAttribute('data-train-from');
  await trainFromBlock('convnext_tiny_stage_3_block_2', first, cnxFile);
  const cnxEval = await runAndWait('convnext.tlexp.json');
  console.log(`# ConvNeXtTiny run: ${cnxEval}`);
  await wb.screenshot('catalog-convnext-run');
  assert.equal(server.requests.get('GET /keras-applications/convnext_tiny_notop.h5'), 1);
  assert.ok(runRecords().some((r) => r.config?.backbone?.catalog === 'convnext_tiny' && r.status === 'succeeded'));
}

/** 7. A file naming an entry that is not here, run while its host is down: said before a run is made. */
async function runWhileOffline(ui, workspace) {
  const { wb, page, lens, runRecords, dialog } = ui;
  const offFile = path.join(workspace, 'offline.tlexp.json');
  fs.writeFileSync(
    offFile,
    `${JSON.stringify({ name: 'offline', data: { dir: 'photos' }, backbone: { catalog: 'resnet50' }, strategy: { kind: 'feature-extraction' } }, null, 2)}\n`,
  );
  const before = runRecords().length;
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'offline.tlexp.json' }).first().click();
  await lens('Run').waitFor({ timeout: 60_000 });
  await lens('Run').click();
  await dialog.waitFor({ timeout: 20_000 });
  const runSaid = await dialog.innerText();
  console.log(
    `# Run while offline:\n${runSaid
      .split('\n')
      .map((l) => `#   ${l}`)
      .join('\n')}`,
  );
  assert.match(runSaid, /resnet50 is not downloaded yet.*cannot be reached now/s);
  assert.match(runSaid, /Run Anyway/);
  await wb.screenshot('catalog-run-offline');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(runRecords().length, before, 'no run was created');
}

test(
  'Keras Applications catalog: wizard families, offline said up front, EfficientNetB0 and ConvNeXtTiny grouped in Show Layers, Train from here, runs',
  { timeout: 900_000 },
  async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-catalog-'));
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-catalog-env-'));
    copyShippedDataset(path.join(workspace, 'photos'), { train: 12, val: 4, test: 4 });
    const server = await serveKerasWeights(['efficientnet_b0', 'convnext_tiny'], outside);
    // resnet50 "downloads" from a port where nothing answers: the offline case.
    const manifest = JSON.parse(fs.readFileSync(server.manifestFile, 'utf8'));
    manifest.resnet50 = { url: `http://127.0.0.1:${await closedPort()}/keras-applications/resnet50_notop.h5`, sha256: '0'.repeat(64) };
    fs.writeFileSync(server.manifestFile, JSON.stringify(manifest, null, 2));
    const kerasHome = path.join(outside, 'keras-home'); // empty: no Keras cache to fall back on
    fs.mkdirSync(kerasHome);
    const wb = await openWorkbench({ workspace, env: { TRANSFER_LAB_KERAS_WEIGHTS: server.manifestFile, KERAS_HOME: kerasHome } });
    const ui = catalogUi(wb, workspace);
    try {
      await wizardFamilies(ui);
      await offlineSaidInWizard(ui, workspace);
      const effFile = await pickEfficientNet(ui, workspace);
      await efficientNetLayers(ui, server);
      await trainEfficientNet(ui, server, effFile);
      await convNeXt(ui, server, workspace);
      await runWhileOffline(ui, workspace);
    } catch (e) {
      await wb.screenshot('catalog-failure').catch(() => {});
      throw e;
    } finally {
      await wb.close();
      await server.close();
    }
  },
);
