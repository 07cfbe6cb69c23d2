// A user who installed the VSIX (no clone, no transferLab.nativeBackendPath) trains on
// WebAssembly; Show Environment says so and offers "Install Native Backend"; one click
// downloads tfjs-node's binding and libtensorflow (here from a loopback mirror of
// storage.googleapis.com, TFJS_NODE_CDN_STORAGE, as tfjs-node's installer honours it),
// Show Environment then reports tensorflow and a run trains on it, without a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openWorkbench, until } from './workbench.mjs';
import { repoRoot } from '../support/testEnv.mjs';
import { buildNativeMirror, serveNativeMirror, LIB_PATH, BINDING_PATH } from '../support/nativeMirror.mjs';
import { copyShippedDataset } from '../support/datasets.mjs';

/** The notification toast showing `text`, and its message. */
function toastsOf(page) {
  const toast = (text) => page.locator('.notification-toast', { hasText: text }).first();
  const toastText = async (text) => (await toast(text).locator('.notification-list-item-message').first().innerText()).trim();
  return { toast, toastText };
}

/** 1. Before: the installed VSIX has no native TensorFlow. */
async function checkFallbackNotice(wb) {
  const { toast, toastText } = toastsOf(wb.page);
  await wb.runCommand('Transfer Lab: Show Environment');
  await toast('several times slower than native TensorFlow').waitFor({ timeout: 120_000 });
  const before = await toastText('several times slower than native TensorFlow');
  console.log(`# before: ${before}`);
  assert.match(before, /training on (wasm|cpu)/);
  for (const name of ['Install Native Backend', 'Open Setting', 'Show Output']) {
    assert.equal(await toast('several times slower').getByRole('button', { name }).count(), 1, `the notification has ${name}`);
  }
  await wb.screenshot('native-1-fallback');
}

/** 2. One click: the progress notification, then the result. */
async function installFromNotice(wb, mirror) {
  const { page } = wb;
  const { toast, toastText } = toastsOf(page);
  await toast('several times slower').getByRole('button', { name: 'Install Native Backend' }).click();
  const progress = toast('installing native TensorFlow');
  await progress.waitFor({ timeout: 30_000 });
  await until(
    'a download or extract step in the progress',
    async () => /Downloading|Extracting|Checking/.test(await progress.innerText().catch(() => '')),
    30_000,
  ).catch(() => {});
  console.log(`# progress: ${(await progress.innerText().catch(() => '(already done)')).replace(/\s+/g, ' ')}`);
  await page.waitForTimeout(600);
  await wb.screenshot('native-2-installing');
  await toast('is installed').waitFor({ timeout: 240_000 });
  const installed = await toastText('is installed');
  console.log(`# installed: ${installed}`);
  assert.match(installed, /native TensorFlow 2\.21\.0 is installed; training uses it from the next run, no reload needed/);
  assert.deepEqual(mirror.requests, [`GET /${LIB_PATH}`, `GET /${BINDING_PATH}`], "the two files tfjs-node's installer downloads, from the mirror");
}

/** 3. Show Environment (run by the install, no reload) now reports native TensorFlow. */
async function checkNativeReported(wb) {
  const { page } = wb;
  const { toast, toastText } = toastsOf(page);
  await toast('Transfer Lab: backend tensorflow').waitFor({ timeout: 120_000 });
  const after = await toastText('Transfer Lab: backend tensorflow');
  console.log(`# after: ${after}`);
  assert.match(after, /TF 2\.21\.0|TensorFlow 2\.21\.0|2\.21\.0/);
  await page.waitForTimeout(600);
  await wb.screenshot('native-3-installed');
}

/** 4. A run trains on it. */
async function checkRunTrainsOnNative(wb, workspace) {
  const { page } = wb;
  const { toast } = toastsOf(page);
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'native.tlexp.json' }).first().click();
  const lens = page.locator('.codelens-decoration a', { hasText: 'Run' }).first();
  await lens.waitFor({ timeout: 60_000 });
  await lens.click();
  const runsDir = path.join(workspace, '.transferlab', 'runs');
  const record = await until(
    'a finished run',
    () => {
      const dirs = fs.existsSync(runsDir) ? fs.readdirSync(runsDir) : [];
      for (const d of dirs) {
        try {
          const r = JSON.parse(fs.readFileSync(path.join(runsDir, d, 'run.json'), 'utf8'));
          if (r.status !== 'running') return r;
        } catch {
          /* being written */
        }
      }
      return undefined;
    },
    300_000,
  );
  console.log(`# run: ${record.status} on ${record.backend}, test accuracy ${record.metrics?.accuracy}`);
  assert.equal(record.status, 'succeeded');
  assert.equal(record.backend, 'tensorflow');
  await toast('finished')
    .waitFor({ timeout: 30_000 })
    .catch(() => {});
  await wb.screenshot('native-4-trained');
}

test(
  'Install Native Backend from the fallback notification: download, Show Environment says tensorflow, a run trains on it, no reload',
  { timeout: 600_000 },
  async () => {
    const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'tl-e2e-native-'));
    copyShippedDataset(path.join(workspace, 'photos'), { train: 8, val: 3, test: 3 });
    const file = path.join(workspace, 'native.tlexp.json');
    fs.writeFileSync(
      file,
      `${JSON.stringify({ name: 'native', data: { dir: 'photos' }, backbone: { catalog: 'fmnist-mini' }, strategy: { kind: 'feature-extraction' }, train: { epochs: 2 } }, null, 2)}\n`,
    );
    const mirror = await serveNativeMirror(await buildNativeMirror(repoRoot));
    const wb = await openWorkbench({ workspace, settings: { 'transferLab.nativeBackendPath': '' }, env: { TFJS_NODE_CDN_STORAGE: mirror.url } });
    try {
      await checkFallbackNotice(wb);
      await installFromNotice(wb, mirror);
      await checkNativeReported(wb);
      await checkRunTrainsOnNative(wb, workspace);
    } catch (e) {
      await wb.screenshot('native-failure').catch(() => {});
      throw e;
    } finally {
      await wb.close();
      await mirror.close();
    }
  },
);
