// Launches trainer jobs and owns every trainer process it starts: disposing the host
// (extension deactivation) ends them all.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { EnvironmentReport, Job, TrainerMessage } from '../core/protocol';
import { TrainerProcess, type TrainerOutcome } from './trainerProcess';
import { readConfig } from './config';

export type JobResult<T> = { ok: true; value: T } | { ok: false; outcome: Extract<TrainerOutcome, { ok: false }> };

export class TrainerHost implements vscode.Disposable {
  private readonly live = new Set<TrainerProcess>();
  private readonly started = new vscode.EventEmitter<number>();
  /** Fires with the pid of each trainer process as it starts. */
  readonly onDidStartTrainer = this.started.event;

  constructor(
    private readonly extensionPath: string,
    private readonly output: vscode.OutputChannel,
  ) {}

  activePids(): number[] {
    return [...this.live].map((p) => p.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Runs the environment job: load TensorFlow.js in a fresh trainer and report. */
  async environment(): Promise<JobResult<EnvironmentReport>> {
    let report: EnvironmentReport | undefined;
    const outcome = await this.run({ kind: 'environment' }, 120_000, (m) => {
      if (m.type === 'environment') report = m.report;
    });
    if (!outcome.ok) return { ok: false, outcome };
    if (!report) {
      return { ok: false, outcome: { ok: false, reason: 'the trainer finished without a report', exitCode: 0, signal: null, stderrTail: '' } };
    }
    return { ok: true, value: report };
  }

  private async run(job: Job, deadlineMs: number, onMessage: (m: TrainerMessage) => void): Promise<TrainerOutcome> {
    const config = readConfig();
    const trainer = new TrainerProcess(
      {
        script: path.join(this.extensionPath, 'dist', 'trainer.js'),
        nodePath: config.nodePath,
        startTimeoutMs: 30_000,
        deadlineMs,
      },
      job,
      { backend: config.backend, nativeBackendPath: config.nativeBackendPath },
      (m) => {
        if (m.type === 'log') this.output.appendLine(`[trainer ${m.level}] ${m.message}`);
        onMessage(m);
      },
      (text) => this.output.append(text),
    );
    this.live.add(trainer);
    if (trainer.pid !== undefined) this.started.fire(trainer.pid);
    try {
      return await trainer.outcome;
    } finally {
      this.live.delete(trainer);
    }
  }

  dispose(): void {
    for (const trainer of this.live) trainer.dispose();
    this.live.clear();
    this.started.dispose();
  }
}
