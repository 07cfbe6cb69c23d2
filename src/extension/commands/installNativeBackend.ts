// Transfer Lab: Install Native Backend — native TensorFlow for a user who installed the
// extension (no clone, no npm): tfjs-node's prebuilt binding and libtensorflow, downloaded
// into global storage (engine/native/nativeInstall.ts) with a cancellable progress
// notification, or read from local archives when offline. The next trainer loads it: every
// job starts a fresh trainer, so no reload is needed. Also the offer of it, when a trainer
// reports it fell back from native TensorFlow.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { installNativeBackend, NativeInstallError, type InstallResult } from '../../engine/native/nativeInstall';
import { nativeInstallDirOf, type NativeVariant } from '../../engine/native/installedBackend';
import { formatBytes } from '../../engine/download/errors';
import { readConfig } from '../config';
import type { EnvironmentReport } from '../../core/protocol';
import type { Services } from '../services';

export const INSTALL_NATIVE = 'Install Native Backend';
const FROM_FILES = 'Install from Files…';

/** Arguments for scripting (and tests): the variant, or local archives instead of downloads. */
export interface InstallNativeArgs {
  variant?: NativeVariant;
  files?: string[];
}

let running: Promise<InstallResult | undefined> | undefined;

/** Whether a CUDA device is visible (the NVIDIA driver lists a GPU). */
async function cudaVisible(): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  return (await fsp.readdir('/proc/driver/nvidia/gpus').catch(() => [])).length > 0;
}

async function chooseVariant(): Promise<NativeVariant | undefined> {
  if (!(await cudaVisible())) return 'cpu';
  const pick = await vscode.window.showQuickPick(
    [
      {
        label: 'GPU (CUDA)',
        description: 'an NVIDIA GPU is visible',
        detail: "tfjs-node-gpu's libtensorflow: needs the CUDA and cuDNN versions it was built for",
        variant: 'gpu' as const,
      },
      { label: 'CPU', detail: 'works on every machine', variant: 'cpu' as const },
    ],
    { title: 'Transfer Lab: Install Native Backend', placeHolder: 'Which TensorFlow build?' },
  );
  return pick?.variant;
}

/** Sorts chosen archives into libtensorflow and the binding by their names, as the hosts name them. */
export function sortArchives(files: string[]): { libtensorflow?: string; binding?: string; wheel?: string; unknown: string[] } {
  const out: { libtensorflow?: string; binding?: string; wheel?: string; unknown: string[] } = { unknown: [] };
  for (const f of files) {
    const name = path.basename(f);
    if (name.endsWith('.whl')) out.wheel = f;
    else if (/libtensorflow/i.test(name)) out.libtensorflow = f;
    else if (/^(CPU|GPU)-[a-z]+-[\d.]+\.tar\.gz$/.test(name) || /binding/i.test(name)) out.binding = f;
    else out.unknown.push(f);
  }
  return out;
}

export function registerInstallNativeBackend(s: Services): void {
  s.context.subscriptions.push(
    vscode.commands.registerCommand('transferLab.installNativeBackend', (args?: InstallNativeArgs) => installCommand(s, args)),
    vscode.commands.registerCommand('transferLab.installNativeBackendFromFiles', () => installFromFiles(s)),
  );
}

async function installCommand(s: Services, args: InstallNativeArgs = {}): Promise<InstallResult | undefined> {
  if (running) {
    void vscode.window.showInformationMessage('Transfer Lab: the native backend is already being installed.');
    return running;
  }
  const variant = args.variant ?? (await chooseVariant());
  if (!variant) return undefined;
  running = install(s, variant, args.files).finally(() => (running = undefined));
  return running;
}

async function installFromFiles(s: Services): Promise<InstallResult | undefined> {
  const uris = await vscode.window.showOpenDialog({
    canSelectMany: true,
    title: 'Transfer Lab: the libtensorflow archive and the tfjs-node binding archive',
    openLabel: 'Install',
    filters: { 'Archives and wheels': ['gz', 'tgz', 'whl'] },
  });
  if (!uris?.length) return undefined;
  return installCommand(s, { files: uris.map((u) => u.fsPath) });
}

async function install(s: Services, variant: NativeVariant, files: string[] | undefined): Promise<InstallResult | undefined> {
  const { output } = s;
  let localFiles: { libtensorflow?: string; binding?: string } | undefined;
  if (files?.length) {
    const sorted = sortArchives(files);
    if (sorted.wheel) {
      void vscode.window.showErrorMessage(
        `Transfer Lab: ${path.basename(sorted.wheel)} is a TensorFlow wheel; tfjs-node must be compiled against it (a C++ compiler and node-gyp). In a clone of Transfer Lab run \`TRANSFER_LAB_TF_WHEEL=${sorted.wheel} npm run setup:native\`, then set transferLab.nativeBackendPath to the clone. To install without compiling, choose the two .tar.gz archives instead.`,
      );
      return undefined;
    }
    if (sorted.unknown.length) {
      void vscode.window.showErrorMessage(
        `Transfer Lab: ${sorted.unknown.map((f) => path.basename(f)).join(', ')}: not a libtensorflow archive (libtensorflow-…tar.gz) nor a tfjs-node binding archive (CPU-linux-4.22.0.tar.gz).`,
      );
      return undefined;
    }
    localFiles = sorted;
  }
  const nativeInstallDir = nativeInstallDirOf(s.context.globalStorageUri.fsPath);
  output.appendLine(`--- Install Native Backend (${variant.toUpperCase()}) into ${nativeInstallDir} ---`);
  const controller = new AbortController();
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Transfer Lab: installing native TensorFlow', cancellable: true },
      async (progress, token) => {
        token.onCancellationRequested(() => controller.abort());
        let reported = 0;
        return installNativeBackend({
          nativeInstallDir,
          installRoot: s.context.extensionPath,
          variant,
          localFiles,
          nodePath: readConfig().nodePath,
          signal: controller.signal,
          onPlan: (downloads) => downloads.forEach((d) => output.appendLine(`  ${d.what}: ${localFiles?.[d.what] ?? d.url}`)),
          onProgress: (p) => {
            const increment = Math.max(0, Math.round(p.fraction * 100) - reported);
            reported += increment;
            progress.report({ message: p.message, increment });
          },
        });
      },
    );
    const bytes = result.info.sources.reduce((n, src) => n + src.bytes, 0);
    output.appendLine(
      `Installed tfjs-node ${result.info.tfjsNode} with native TensorFlow ${result.tensorflowVersion} (${formatBytes(bytes)} downloaded, loads in ${result.loadMs} ms) in ${result.root}`,
    );
    for (const src of result.info.sources)
      output.appendLine(`  ${src.what}: ${src.from} (${formatBytes(src.bytes)}, sha256 ${src.sha256}; checked: ${src.checked})`);
    void vscode.window.showInformationMessage(
      `Transfer Lab: native TensorFlow ${result.tensorflowVersion} is installed; training uses it from the next run, no reload needed.`,
    );
    // Say what the next trainer loads (Show Environment), so the user sees the switch.
    void vscode.commands.executeCommand('transferLab.showEnvironment');
    return result;
  } catch (e) {
    const err = e instanceof NativeInstallError ? e : undefined;
    const message = err?.message ?? (e instanceof Error ? e.message : String(e));
    output.appendLine(`Install Native Backend failed: ${message}`);
    if (err?.hint) output.appendLine(`What to do: ${err.hint}`);
    if (err?.kind === 'cancelled') {
      void vscode.window.showInformationMessage('Transfer Lab: the native backend install was cancelled; nothing was installed.');
      return undefined;
    }
    const buttons = err?.kind === 'unsupported' ? ['Show Output'] : [FROM_FILES, 'Show Output'];
    void vscode.window
      .showErrorMessage(`Transfer Lab: could not install native TensorFlow: ${message}${err?.hint ? ` ${err.hint}` : ''}`, ...buttons)
      .then((pick) => {
        if (pick === FROM_FILES) void vscode.commands.executeCommand('transferLab.installNativeBackendFromFiles');
        else if (pick) output.show(true);
      });
    return undefined;
  }
}

const OPEN_SETTING = 'Open Setting';

/** Offers the install once per window when a run starts on a portable backend. */
export function registerNativeBackendOffer(s: Services): void {
  let offered = false;
  s.context.subscriptions.push(
    s.runs.onDidEvent(({ event }) => {
      if (event.type !== 'run-started' || event.backend === 'tensorflow' || offered || readConfig().backend !== 'auto') return;
      offered = true;
      void offerNativeBackend(
        s.output,
        `Transfer Lab: this run trains on ${event.backend}, several times slower than native TensorFlow, which is not installed here.`,
      );
    }),
  );
}

/** What Show Environment says when the trainer fell back from native TensorFlow. */
export function fallbackMessage(report: Pick<EnvironmentReport, 'backend' | 'fallbacks' | 'threads'>): string {
  const why = report.fallbacks.find((f) => f.backend === 'tensorflow')?.error;
  // The loader's own reason names folders and commands: the output has it; the toast says what it means.
  const reason = !why || /is not installed/.test(why) ? ', which is not installed here' : ` (it did not load: ${why})`;
  return `Transfer Lab: training on ${report.backend} (${report.threads} thread${report.threads === 1 ? '' : 's'}), several times slower than native TensorFlow${reason}.`;
}

/**
 * The fallback notification: the trainer could not load native TensorFlow. Offers the
 * install, the setting for a tfjs-node of one's own, and the output with the reason.
 */
export async function offerNativeBackend(output: vscode.OutputChannel, message: string): Promise<void> {
  const pick = await vscode.window.showWarningMessage(message, INSTALL_NATIVE, OPEN_SETTING, 'Show Output');
  if (pick === INSTALL_NATIVE) await vscode.commands.executeCommand('transferLab.installNativeBackend');
  else if (pick === OPEN_SETTING) await vscode.commands.executeCommand('workbench.action.openSettings', 'transferLab.nativeBackendPath');
  else if (pick) output.show(true);
}
