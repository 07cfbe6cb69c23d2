// Show Environment in a real extension host: the trainer child process loads TensorFlow.js
// and reports its backend; a trainer killed mid-job is a failure with a reason, and the
// next job still runs.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EnvironmentReport } from '../../src/core/protocol';
import type { TransferLabApi } from '../../src/extension/extension';
import { note, test } from './harness';

const EXTENSION_ID = 'transfer-lab.transfer-lab';

async function api(): Promise<TransferLabApi> {
  const extension = vscode.extensions.getExtension<TransferLabApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is installed`);
  return extension.activate();
}

test('the extension activates without loading TensorFlow.js in the extension host', async () => {
  await api();
  const loaded = Object.keys(require.cache ?? {}).filter((m) => m.includes('@tensorflow'));
  assert.deepEqual(loaded, []);
  const commands = await vscode.commands.getCommands(true);
  assert.ok(commands.includes('transferLab.showEnvironment'));
});

test('Show Environment reports the backend the trainer loaded', async () => {
  const report = (await vscode.commands.executeCommand('transferLab.showEnvironment')) as EnvironmentReport | undefined;
  assert.ok(report, 'the command returned a report');
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(report.backend));
  assert.match(report.tfjsVersion, /^\d+\.\d+\.\d+$/);
  assert.ok(report.pid !== process.pid, 'the report comes from a child process');
  note(`backend in the extension host's trainer: ${report.backend} (fallbacks: ${JSON.stringify(report.fallbacks)})`);
  if (process.env.CI === 'true') assert.equal(report.backend, 'tensorflow', `CI requires the native backend: ${JSON.stringify(report.fallbacks)}`);
  // Native TensorFlow says which build it loaded, CPU or GPU (setting transferLab.nativeDevice), and why.
  if (report.backend === 'tensorflow') {
    assert.ok(report.nativeDevice, 'the report says which native build loaded');
    assert.equal(report.nativeDevice.requested, 'auto');
    assert.ok(['cpu', 'gpu'].includes(report.nativeDevice.build));
    assert.ok(report.nativeDevice.reason.length > 0, 'with a reason');
    note(`native build: ${report.nativeDevice.build} (${report.nativeDevice.reason})`);
  }
  const state = (await api()).environment.state;
  assert.ok(state && 'report' in state && state.report.backend === report.backend, 'views see the report');
}, 120_000);

test('a trainer killed mid-job is reported as a failure and the next job runs', async () => {
  const transferLab = await api();
  const started = new Promise<number>((resolve) => {
    const sub = transferLab.trainers.onDidStartTrainer((pid) => {
      sub.dispose();
      resolve(pid);
    });
  });
  const job = vscode.commands.executeCommand('transferLab.showEnvironment');
  const pid = await started;
  process.kill(pid, 'SIGKILL');
  assert.equal(await job, undefined, 'the killed job returns no report');
  const state = transferLab.environment.state;
  assert.ok(state && 'failure' in state, 'the failure is recorded');
  assert.match(state.failure, /killed by SIGKILL/);
  assert.deepEqual(transferLab.trainers.activePids(), [], 'no trainer left behind');
  const next = (await vscode.commands.executeCommand('transferLab.showEnvironment')) as EnvironmentReport | undefined;
  assert.ok(next && next.backend, 'the next job runs');
}, 180_000);
