// The trainer jobs alive now, one per experiment file (a run, or a study): what RunManager and
// StudyRunner both keep, looked up by the experiment file or by the folder the job writes. Going
// away (deactivation) cancels every job: each trainer then leaves its folder consistent.
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { TrainerJob } from './trainerHost';
import { Disposable, toDisposable } from './disposable';

export class LiveJobs<T extends { readonly experimentFile: string; readonly job: TrainerJob }> extends Disposable {
  private readonly byFile = new Map<string, T>();

  /** `folderOf`: the folder a job writes (a run folder, a study folder), once it is known. */
  constructor(private readonly folderOf: (job: T) => string | undefined) {
    super();
    this._register(toDisposable(() => this.all().forEach((j) => j.job.cancel())));
  }

  all(): T[] {
    return [...this.byFile.values()];
  }

  get size(): number {
    return this.byFile.size;
  }

  ofFile(experimentFile: string): T | undefined {
    return this.byFile.get(path.resolve(experimentFile));
  }

  ofFolder(folder: string): T | undefined {
    const wanted = path.resolve(folder);
    return this.all().find((j) => {
      const f = this.folderOf(j);
      return f !== undefined && path.resolve(f) === wanted;
    });
  }

  add(job: T): void {
    this.byFile.set(path.resolve(job.experimentFile), job);
  }

  remove(job: T): void {
    this.byFile.delete(path.resolve(job.experimentFile));
  }
}

/** Trains what the user sees: the experiment file is saved first when it has unsaved edits. */
export async function saveIfDirty(file: string): Promise<void> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (open?.isDirty) await open.save();
}
