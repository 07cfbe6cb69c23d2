// The last environment report (or failure) the trainer produced, for views to show.
import * as vscode from 'vscode';
import type { EnvironmentReport } from '../core/protocol';
import { Disposable } from './disposable';

export type EnvironmentState = { report: EnvironmentReport } | { failure: string } | undefined;

export class EnvironmentStore extends Disposable {
  private current: EnvironmentState;
  private readonly changed = this._register(new vscode.EventEmitter<EnvironmentState>());
  readonly onDidChange = this.changed.event;

  get state(): EnvironmentState {
    return this.current;
  }

  set(state: EnvironmentState): void {
    this.current = state;
    this.changed.fire(state);
  }
}
