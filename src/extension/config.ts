// Typed access to the `transferLab.*` settings declared in package.json.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendPreference } from '../core/protocol';
import type { NativeDevicePreference } from '../core/nativeDevice';

export interface TransferLabConfig {
  backend: BackendPreference;
  nodePath: string | undefined;
  nativeBackendPath: string | undefined;
  /** The Python with TensorFlow for the TFLite and SavedModel exports; undefined: python3/python on PATH. */
  pythonPath: string | undefined;
  nativeDevice: NativeDevicePreference;
  runsFolder: string;
  cacheFolder: string | undefined;
  maxConcurrentRuns: number;
}

export function readConfig(): TransferLabConfig {
  const c = vscode.workspace.getConfiguration('transferLab');
  const text = (key: string) => c.get<string>(key)?.trim() || undefined;
  return {
    backend: c.get<BackendPreference>('backend', 'auto'),
    nodePath: text('nodePath'),
    nativeBackendPath: text('nativeBackendPath'),
    pythonPath: text('pythonPath'),
    nativeDevice: c.get<NativeDevicePreference>('nativeDevice', 'auto'),
    runsFolder: text('runsFolder') ?? '.transferlab/runs',
    cacheFolder: text('cacheFolder'),
    maxConcurrentRuns: Math.max(1, c.get<number>('maxConcurrentRuns', 1)),
  };
}

/** The runs folder for an experiment file: relative to its workspace folder (or its own folder). */
export function runsDirFor(experimentFile: string): string {
  const config = readConfig();
  if (path.isAbsolute(config.runsFolder)) return config.runsFolder;
  const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(experimentFile));
  return path.join(folder?.uri.fsPath ?? path.dirname(experimentFile), config.runsFolder);
}

/** Every runs folder this window shows: one per workspace folder. */
export function allRunsDirs(): string[] {
  const config = readConfig();
  if (path.isAbsolute(config.runsFolder)) return [config.runsFolder];
  return (vscode.workspace.workspaceFolders ?? []).map((f) => path.join(f.uri.fsPath, config.runsFolder));
}

/** Downloaded backbones and activation caches: the setting, or the extension's global storage. */
export function cacheDirOf(context: vscode.ExtensionContext): string {
  return readConfig().cacheFolder ?? path.join(context.globalStorageUri.fsPath, 'cache');
}
