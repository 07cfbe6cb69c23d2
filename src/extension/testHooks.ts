// Commands only the integration tests call (what a webview last showed, its message handler).
// They exist only when VS Code runs the extension under test (extensionTestsPath sets
// ExtensionMode.Test): an installed extension registers none of them.
import * as vscode from 'vscode';

export function testHooks(context: vscode.ExtensionContext, hooks: Record<string, (...args: never[]) => unknown>): vscode.Disposable[] {
  if (context.extensionMode !== vscode.ExtensionMode.Test) return [];
  return Object.entries(hooks).map(([id, fn]) => vscode.commands.registerCommand(id, fn as (...args: unknown[]) => unknown));
}
