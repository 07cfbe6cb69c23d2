// Supervision of one trainer child process (no `vscode` import, so plain-Node tests run it).
// A trainer that crashes, hangs past its deadline or exits early becomes a failed outcome
// carrying the tail of its stderr; it is always reaped and never takes the host down.
import { fork, type ChildProcess } from 'node:child_process';
import { PROTOCOL_VERSION, parseTrainerMessage, type HostMessage, type Job, type TrainerMessage, type TrainerOptions } from '../core/protocol';
import { Disposable, toDisposable } from './disposable';

export interface TrainerLaunch {
  /** The bundled trainer entry (dist/trainer.js). */
  script: string;
  /** Node binary to run it with; defaults to the host's own runtime (VS Code's Electron as Node). */
  nodePath?: string;
  /** The trainer must say hello within this many ms. */
  startTimeoutMs: number;
  /** The whole job must finish within this many ms (undefined: no deadline). */
  deadlineMs?: number;
  /** After `cancel`, how long the trainer may take to stop cleanly before it is killed. */
  cancelGraceMs?: number;
  env?: NodeJS.ProcessEnv;
}

export type TrainerOutcome =
  | { ok: true }
  | {
      ok: false;
      reason: string;
      hint?: string;
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      stderrTail: string;
    };

const STDERR_TAIL_BYTES = 4096;

const MEMORY_HINT = 'Use a smaller train.batchSize, a later unfreeze layer or a smaller backbone; close other memory-hungry programs.';

/** Why a trainer nobody asked to stop went away, from its exit and its last stderr lines. */
export function explainDeath(code: number | null, signal: NodeJS.Signals | null, stderrTail: string): { reason: string; hint?: string } {
  if (/heap out of memory|Allocation failed|std::bad_alloc|OOM when allocating|Cannot allocate memory/i.test(stderrTail)) {
    return { reason: 'the trainer ran out of memory', hint: MEMORY_HINT };
  }
  // Nothing in this extension sends SIGKILL unasked; the usual sender is the system's
  // out-of-memory killer (or a user's kill -9).
  if (signal === 'SIGKILL')
    return { reason: 'the trainer was killed by SIGKILL', hint: `If the system ran low on memory, it may have stopped the trainer. ${MEMORY_HINT}` };
  // SIGFPE/SIGILL come from native kernels, most often oneDNN's on a CPU (or VM) it misreads.
  if (signal === 'SIGFPE' || signal === 'SIGILL') {
    return {
      reason: `TensorFlow's native code crashed (${signal})`,
      hint: 'This is usually oneDNN on a CPU or virtual machine it misreads; a crash with oneDNN on is retried once automatically with oneDNN off (unless TF_ENABLE_ONEDNN_OPTS turned it on), and remembered for that model. If it crashed anyway, set TF_ENABLE_ONEDNN_OPTS=0 in the environment VS Code starts from and run again, or choose the wasm backend (setting transferLab.backend); Show Environment says which kernels are in use and why.',
    };
  }
  if (signal) return { reason: `the trainer was killed by ${signal}` };
  return { reason: `the trainer exited with code ${code} before finishing` };
}
const KILL_GRACE_MS = 2000;

export class TrainerProcess extends Disposable {
  readonly outcome: Promise<TrainerOutcome>;
  private readonly child: ChildProcess;
  private stderrTail = '';
  private failure: { reason: string; hint?: string } | undefined;
  private finished = false;
  private exited = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly cancelGraceMs: number;

  constructor(
    launch: TrainerLaunch,
    job: Job,
    options: TrainerOptions,
    private readonly onMessage: (message: TrainerMessage) => void,
    private readonly onOutput: (text: string) => void = () => {},
  ) {
    super();
    // Disposing (owner disposal) ends the process for good; its exit clears the timers.
    this._register(toDisposable(() => this.kill()));
    this.cancelGraceMs = launch.cancelGraceMs ?? KILL_GRACE_MS;
    this.child = fork(launch.script, [], {
      execPath: launch.nodePath || process.execPath,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inside VS Code, process.execPath is Electron; this makes it behave as plain Node.
      env: { ...process.env, ...launch.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    this.child.stdout?.setEncoding('utf8').on('data', (text: string) => this.onOutput(text));
    this.child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_BYTES);
      this.onOutput(text);
    });

    this.outcome = new Promise<TrainerOutcome>((resolve) => {
      this.child.on('error', (e) => {
        this.fail(
          `could not start the trainer (${launch.nodePath || process.execPath}): ${e.message}`,
          'Check the setting transferLab.nodePath: it must point to a Node.js 20+ binary.',
        );
        // A process that never spawned emits no 'exit'.
        if (this.child.pid === undefined) {
          this.exited = true;
          this.clearTimers();
          resolve({ ok: false, reason: this.failure!.reason, hint: this.failure!.hint, exitCode: null, signal: null, stderrTail: '' });
        }
      });
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        this.clearTimers();
        if (this.finished && !this.failure && code === 0) return resolve({ ok: true });
        const died = this.failure ? undefined : explainDeath(code, signal, this.stderrTail);
        const reason = this.failure?.reason ?? died!.reason;
        resolve({ ok: false, reason, hint: this.failure?.hint ?? died?.hint, exitCode: code, signal, stderrTail: this.stderrTail.trim() });
      });
    });

    let greeted = false;
    this.child.on('message', (raw) => {
      const parsed = parseTrainerMessage(raw);
      if (!parsed.ok) {
        return parsed.mismatch
          ? this.fail(`the trainer is from another version of Transfer Lab (${parsed.error})`, 'Reload the window so the extension and trainer versions match.')
          : this.fail(`the trainer sent a malformed message: ${parsed.error}`);
      }
      const message = parsed.value;
      if (message.type === 'hello') {
        greeted = true;
        this.child.send({ type: 'start', protocol: PROTOCOL_VERSION, job, options } satisfies HostMessage);
      } else if (message.type === 'failed') {
        this.failure ??= { reason: message.message, hint: message.hint };
      } else if (message.type === 'done') {
        this.finished = true;
      }
      this.onMessage(message);
    });

    this.timers.push(
      setTimeout(() => {
        if (!greeted) this.fail(`the trainer did not start within ${launch.startTimeoutMs / 1000} s`);
      }, launch.startTimeoutMs),
    );
    if (launch.deadlineMs !== undefined) {
      const deadline = launch.deadlineMs;
      this.timers.push(setTimeout(() => this.fail(`the trainer did not finish within ${deadline / 1000} s`), deadline));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Asks the trainer to stop; kills it if it does not exit promptly. */
  cancel(): void {
    if (this.exited) return;
    if (this.child.connected) this.child.send({ type: 'cancel', protocol: PROTOCOL_VERSION } satisfies HostMessage);
    this.timers.push(setTimeout(() => this.kill(), this.cancelGraceMs));
  }

  private fail(reason: string, hint?: string): void {
    this.failure ??= { reason, hint };
    this.kill();
  }

  private kill(): void {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    // SIGTERM can be ignored by a process stuck in native code; SIGKILL cannot.
    const hard = setTimeout(() => !this.exited && this.child.kill('SIGKILL'), KILL_GRACE_MS);
    hard.unref();
    this.timers.push(hard);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
  }
}
