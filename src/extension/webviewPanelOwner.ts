// The base of the classes behind one webview panel (dashboard, layers, compare): what they
// register goes when the panel closes, and their owner hears of it last, once all is released.
import type * as vscode from 'vscode';
import { Disposable, toDisposable } from './disposable';

export class WebviewPanelOwner extends Disposable {
  constructor(
    readonly panel: vscode.WebviewPanel,
    onDispose: () => void,
  ) {
    super();
    // Registered first, so it runs last.
    this._register(toDisposable(onDispose));
    this._register(panel.onDidDispose(() => this.dispose()));
  }
}
