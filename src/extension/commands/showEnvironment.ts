// Transfer Lab: Show Environment — which TensorFlow.js backend trains here, and how well.
import * as vscode from 'vscode';
import { describeBackend, type EnvironmentReport } from '../../core/protocol';
import { formatNativeDevice } from '../../core/nativeDevice';
import type { TrainerHost } from '../trainerHost';
import type { EnvironmentStore } from '../environmentStore';
import { fallbackMessage, offerNativeBackend } from './installNativeBackend';

/** On or off, always with why; and the models this machine runs with oneDNN off after a crash. */
function formatOneDnn(o: NonNullable<EnvironmentReport['oneDnn']>): string[] {
  const remembered = o.rememberedOff
    ? [
        `  remembered off:   ${o.rememberedOff} model${o.rememberedOff === 1 ? '' : 's'} on this machine, after oneDNN crashed ${o.rememberedOff === 1 ? 'it' : 'them'}${o.verdictFile ? ` (${o.verdictFile}; delete it to forget)` : ''}`,
      ]
    : [];
  return [`oneDNN kernels:     ${o.enabled ? 'on' : 'off'} (${o.reason})`, ...remembered];
}

export function formatEnvironment(r: EnvironmentReport): string[] {
  return [
    `Backend:            ${r.backend}${r.requested !== 'auto' ? ` (requested ${r.requested})` : ''}`,
    ...r.fallbacks.map((f) => `  not used:         ${f.backend} (${f.error})`),
    `TensorFlow.js:      ${r.tfjsVersion}${r.tensorflowVersion ? ` (native TensorFlow ${r.tensorflowVersion})` : ''}`,
    ...(r.nativeDevice ? formatNativeDevice(r.nativeDevice) : []),
    ...(r.oneDnn ? formatOneDnn(r.oneDnn) : []),
    ...(r.kernels ? [`Kernel self-check:  ${r.kernels.ok ? 'passed' : 'WRONG RESULTS'} (${Math.round(r.kernels.ms)} ms)`] : []),
    `Loaded from:        ${r.tfjsRoot}`,
    `Threads:            ${r.threads}`,
    `Load time:          ${Math.round(r.loadMs)} ms`,
    `Trainer memory:     ${r.memory.rssMB} MB resident, ${r.memory.heapUsedMB} MB JS heap`,
    `System memory:      ${r.memory.systemFreeMB} MB free of ${r.memory.systemTotalMB} MB`,
    `Runtime:            Node ${r.node} on ${r.platform} (pid ${r.pid})`,
  ];
}

export async function showEnvironment(host: TrainerHost, output: vscode.OutputChannel, store: EnvironmentStore): Promise<EnvironmentReport | undefined> {
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Transfer Lab: loading TensorFlow.js in the trainer…' },
    () => host.environment(),
  );
  output.appendLine(`--- Transfer Lab environment (${new Date().toLocaleString()}) ---`);
  if (!result.ok) {
    const { reason, hint, stderrTail } = result.outcome;
    output.appendLine(`Trainer failed: ${reason}`);
    if (hint) output.appendLine(`What to do: ${hint}`);
    if (stderrTail) output.appendLine(`Trainer stderr (last lines):\n${stderrTail}`);
    store.set({ failure: reason });
    void vscode.window.showErrorMessage(`Transfer Lab: Show Environment failed: ${reason}`, 'Show Output').then((pick) => {
      if (pick) output.show(true);
    });
    return undefined;
  }
  const report = result.value;
  for (const line of formatEnvironment(report)) output.appendLine(line);
  store.set({ report });
  // Not native TensorFlow: never silent; a warning that offers the install, with the reason.
  if (report.backend !== 'tensorflow' && report.fallbacks.some((f) => f.backend === 'tensorflow')) {
    void offerNativeBackend(output, fallbackMessage(report));
    return report;
  }
  const text = `Transfer Lab: ${describeBackend(report)}`;
  const shown = report.fallbacks.length > 0 ? vscode.window.showWarningMessage(text, 'Show Output') : vscode.window.showInformationMessage(text, 'Show Output');
  void shown.then((pick) => {
    if (pick) output.show(true);
  });
  return report;
}
