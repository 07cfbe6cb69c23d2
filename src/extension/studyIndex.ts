// The studies on disk (`<runsFolder>/studies/<id>/study.json`), newest first, as the tree and the
// Run Study command see them. study.json is the source of truth: a watcher keeps this cache
// honest, and every read is asynchronous (the extension host never blocks on disk).
import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseStudyFile, STUDIES_FOLDER, STUDY_FILE, type StudyFile } from '../core/studyFile';
import type { StudyEntry } from '../core/studyGrouping';
import { allRunsDirs } from './config';
import { Disposable, DisposableStore, toDisposable } from './disposable';
import { Coalesced, watchGlob } from './fileWatch';

export type StudyRead = { ok: true; value: StudyFile } | { ok: false; error: string };

/** Reads a study folder's study.json without blocking; the error names the file. */
export async function readStudyAsync(studyDir: string): Promise<StudyRead> {
  const file = path.join(studyDir, STUDY_FILE);
  try {
    return parseStudyFile(await fs.promises.readFile(file, 'utf8'), file);
  } catch (e) {
    return { ok: false, error: `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
}

/** The experiment file a study belongs to (study.json names it relative to the study folder). */
export const studyExperimentFile = (entry: StudyEntry<StudyFile>): string => path.resolve(entry.dir, entry.study.experiment);

export class StudyIndex extends Disposable {
  private entries: StudyEntry<StudyFile>[] = [];
  private readonly changed = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private watchers = new DisposableStore();
  /** Coalesces bursts (study.json is rewritten at every cell change). */
  private readonly coalesced = this._register(new Coalesced(() => void this.refresh(), 150));
  private reading: Promise<void> | undefined;
  /** Problems already logged, so a broken study.json is reported once, not on every refresh. */
  private readonly logged = new Set<string>();

  constructor(private readonly log: (line: string) => void) {
    super();
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.rewatch()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('transferLab.runsFolder') && this.rewatch()));
    this._register(toDisposable(() => this.watchers.dispose()));
    this.rewatch();
  }

  private rewatch(): void {
    this.watchers.dispose();
    this.watchers = new DisposableStore();
    for (const dir of allRunsDirs()) watchGlob(this.watchers, dir, `${STUDIES_FOLDER}/*/${STUDY_FILE}`, () => this.scheduleRefresh());
    void this.refresh();
  }

  /** A refresh soon, one for a burst of asks. */
  scheduleRefresh(): void {
    this.coalesced.schedule();
  }

  /** Re-reads every study.json; a refresh asked for during a read runs after it. */
  async refresh(): Promise<void> {
    while (this.reading) await this.reading;
    this.reading = this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    const dirs = (await Promise.all(allRunsDirs().map((runsDir) => studyDirsIn(path.join(runsDir, STUDIES_FOLDER))))).flat();
    const reads = await Promise.all(dirs.map(async (dir) => ({ dir, read: await readStudyAsync(dir) })));
    const entries: StudyEntry<StudyFile>[] = [];
    for (const { dir, read } of reads) {
      if (read.ok) entries.push({ dir, study: read.value });
      else if (!this.logged.has(read.error)) {
        this.logged.add(read.error);
        this.log(`Studies: skipped ${dir}: ${read.error}`);
      }
    }
    this.entries = entries.sort((a, b) => Date.parse(b.study.createdAt) - Date.parse(a.study.createdAt) || b.dir.localeCompare(a.dir));
    this.changed.fire();
  }

  all(): StudyEntry<StudyFile>[] {
    return this.entries;
  }

  get(studyDir: string): StudyEntry<StudyFile> | undefined {
    return this.entries.find((e) => path.resolve(e.dir) === path.resolve(studyDir));
  }

  /** Studies of one experiment file, newest first. */
  forExperiment(file: string): StudyEntry<StudyFile>[] {
    return this.entries.filter((e) => studyExperimentFile(e) === path.resolve(file));
  }
}

async function studyDirsIn(studiesDir: string): Promise<string[]> {
  try {
    const entries = await fs.promises.readdir(studiesDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => path.join(studiesDir, e.name));
  } catch {
    return []; // no studies folder yet
  }
}
