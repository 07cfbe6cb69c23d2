// Typed access to the `transferLab.*` settings declared in package.json.
import * as vscode from 'vscode';
import type { BackendPreference } from '../core/protocol';

export interface TransferLabConfig {
  backend: BackendPreference;
  nodePath: string | undefined;
  nativeBackendPath: string | undefined;
  runsFolder: string;
  cacheFolder: string | undefined;
}

export function readConfig(): TransferLabConfig {
  const c = vscode.workspace.getConfiguration('transferLab');
  const text = (key: string) => c.get<string>(key)?.trim() || undefined;
  return {
    backend: c.get<BackendPreference>('backend', 'auto'),
    nodePath: text('nodePath'),
    nativeBackendPath: text('nativeBackendPath'),
    runsFolder: text('runsFolder') ?? '.transferlab/runs',
    cacheFolder: text('cacheFolder'),
  };
}
