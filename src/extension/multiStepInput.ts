// A multi-step quick input with a Back button and a step counter ("Step 2/4"), the
// documented way to build a wizard from QuickPick and InputBox. Each step is a function that
// shows one input and returns the next step; Back re-runs the previous step.
import * as vscode from 'vscode';

/** Thrown inside a step when the user presses Back or dismisses the input. */
class FlowSignal {
  private constructor(readonly kind: 'back' | 'cancel') {}
  static readonly back = new FlowSignal('back');
  static readonly cancel = new FlowSignal('cancel');
}

export type InputStep = (input: MultiStepInput) => Promise<InputStep | void>;

export interface PickOptions<T extends vscode.QuickPickItem> {
  title: string;
  step: number;
  totalSteps: number;
  items: readonly T[];
  placeholder: string;
  activeItem?: T;
  matchOnDescription?: boolean;
  matchOnDetail?: boolean;
}

export interface TextOptions {
  title: string;
  step: number;
  totalSteps: number;
  value: string;
  prompt: string;
  placeholder?: string;
  /** Returns an error message, or undefined when the value is fine (or a promise of it, for checks that look at the disk). */
  validate: (value: string) => string | undefined | Promise<string | undefined>;
}

export class MultiStepInput {
  private readonly history: InputStep[] = [];
  private current: vscode.QuickInput | undefined;

  /** Runs the steps from `start`; resolves true when the last step finished, false when cancelled. */
  static async run(start: InputStep): Promise<boolean> {
    return new MultiStepInput().stepThrough(start);
  }

  private async stepThrough(start: InputStep): Promise<boolean> {
    let step: InputStep | void = start;
    while (step) {
      this.history.push(step);
      if (this.current) {
        this.current.enabled = false;
        this.current.busy = true;
      }
      try {
        step = await step(this);
      } catch (e) {
        if (e === FlowSignal.back) {
          this.history.pop();
          step = this.history.pop();
        } else if (e === FlowSignal.cancel) {
          this.current?.dispose();
          return false;
        } else {
          this.current?.dispose();
          throw e;
        }
      }
    }
    this.current?.dispose();
    return true;
  }

  get canGoBack(): boolean {
    return this.history.length > 1;
  }

  async pick<T extends vscode.QuickPickItem>(o: PickOptions<T>): Promise<T> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<T>((resolve, reject) => {
        const qp = vscode.window.createQuickPick<T>();
        qp.title = o.title;
        qp.step = o.step;
        qp.totalSteps = o.totalSteps;
        qp.placeholder = o.placeholder;
        qp.items = o.items;
        qp.matchOnDescription = o.matchOnDescription ?? true;
        qp.matchOnDetail = o.matchOnDetail ?? false;
        qp.ignoreFocusOut = true;
        if (o.activeItem) qp.activeItems = [o.activeItem];
        qp.buttons = this.canGoBack ? [vscode.QuickInputButtons.Back] : [];
        disposables.push(
          qp.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && reject(FlowSignal.back)),
          qp.onDidAccept(() => {
            const chosen = qp.selectedItems[0] ?? qp.activeItems[0];
            if (chosen) resolve(chosen);
          }),
          qp.onDidHide(() => reject(FlowSignal.cancel)),
        );
        this.show(qp);
      });
    } finally {
      for (const d of disposables) d.dispose();
    }
  }

  async text(o: TextOptions): Promise<string> {
    const disposables: vscode.Disposable[] = [];
    try {
      return await new Promise<string>((resolve, reject) => {
        const box = vscode.window.createInputBox();
        box.title = o.title;
        box.step = o.step;
        box.totalSteps = o.totalSteps;
        box.value = o.value;
        box.prompt = o.prompt;
        box.placeholder = o.placeholder;
        box.ignoreFocusOut = true;
        box.buttons = this.canGoBack ? [vscode.QuickInputButtons.Back] : [];
        // Only the latest check's answer is shown: an older one may finish after it.
        let checks = 0;
        const check = async (v: string) => {
          const asked = ++checks;
          const message = await o.validate(v);
          if (asked === checks) box.validationMessage = message ? { message, severity: vscode.InputBoxValidationSeverity.Error } : undefined;
          return message;
        };
        void check(o.value);
        disposables.push(
          box.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && reject(FlowSignal.back)),
          box.onDidChangeValue((v) => void check(v)),
          box.onDidAccept(async () => {
            const value = box.value;
            if ((await check(value)) === undefined) resolve(value);
          }),
          box.onDidHide(() => reject(FlowSignal.cancel)),
        );
        this.show(box);
      });
    } finally {
      for (const d of disposables) d.dispose();
    }
  }

  /**
   * Runs a modal UI (e.g. a file dialog) in the middle of a step: the quick input is hidden
   * while it shows, and an undefined answer goes back to the same step.
   */
  async outside<T>(show: () => Thenable<T | undefined>): Promise<T> {
    const previous = this.current;
    this.current = undefined;
    previous?.dispose();
    const value = await show();
    if (value === undefined) {
      // Re-show the step that asked.
      this.history.push(this.history[this.history.length - 1]);
      throw FlowSignal.back;
    }
    return value;
  }

  private show(input: vscode.QuickInput): void {
    const previous = this.current;
    this.current = input;
    input.show();
    previous?.dispose();
  }
}
