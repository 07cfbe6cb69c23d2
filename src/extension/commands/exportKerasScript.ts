// Export Experiment as Keras Script: the experiment as a Keras 3 job folder (train.py, the
// same file lists per split, requirements, README) for a GPU box or a cluster. The work is
// the CLI's `export-script` (it indexes the dataset and copies the backbone: blocking disk
// work), run as a child Node process so the extension host never waits on the disk.
import * as vscode from 'vscode';
import { execFile, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { slugify } from '../../core/runStore';
import { Disposable, toDisposable } from '../disposable';
import { experimentFileFrom, pickExperiment } from './runCommands';
import type { Services } from '../services';

/** What the CLI reports with --json (src/cli/exportScriptCommand.ts). */
export interface KerasScriptOutcome {
  dir: string;
  files: string[];
  runsDir: string;
  counts: { train: number; val: number; test: number };
}

/** Owns the export child processes: ended with the extension if one is still going. */
export class KerasScriptExporter extends Disposable {
  private readonly children = new Set<ChildProcess>();

  constructor(private readonly extensionPath: string) {
    super();
    this._register(toDisposable(() => this.children.forEach((c) => c.kill())));
  }

  /** Runs `transfer-lab export-script`; rejects with what the CLI said on stderr. */
  run(experimentFile: string, outDir: string): Promise<KerasScriptOutcome> {
    if (this.isDisposed) return Promise.reject(new Error('the extension is shutting down'));
    const cli = path.join(this.extensionPath, 'dist', 'cli.js');
    return new Promise((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [cli, 'export-script', experimentFile, '--out', outDir, '--json'],
        // Inside VS Code, process.execPath is Electron; this makes it behave as plain Node.
        { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 120_000, maxBuffer: 1 << 20 },
        (error, stdout, stderr) => {
          this.children.delete(child);
          if (error) return reject(new Error(stderr.replace(/^transfer-lab: /, '').trim() || error.message));
          try {
            resolve(JSON.parse(stdout) as KerasScriptOutcome);
          } catch {
            reject(new Error(`export-script gave no result (${stdout.slice(0, 200)})`));
          }
        },
      );
      this.children.add(child);
    });
  }
}

/** Palette, explorer and editor title: `arg` a Uri or tree node; `outDir` (scripts, tests) skips the question. */
export async function exportKerasScriptCommand(
  s: Services,
  exporter: KerasScriptExporter,
  arg?: unknown,
  outDir?: unknown,
): Promise<KerasScriptOutcome | undefined> {
  const file = experimentFileFrom(arg) ?? (await pickExperiment(s, 'Export which experiment as a Keras script?'));
  if (!file) return undefined;
  const out = typeof outDir === 'string' ? outDir : await askOutDir(file);
  if (!out) return undefined;
  try {
    const outcome = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Transfer Lab: writing the Keras job for ${path.basename(file)}` },
      () => exporter.run(file, out),
    );
    s.output.appendLine(`Keras job for ${file}: ${outcome.dir} (${outcome.files.join(', ')}); its runs go to ${outcome.runsDir}`);
    if (typeof outDir !== 'string') void offerReadme(outcome);
    return outcome;
  } catch (e) {
    void vscode.window.showErrorMessage(`Transfer Lab: cannot export ${path.basename(file)} as a Keras script: ${(e as Error).message}`);
    return undefined;
  }
}

async function askOutDir(file: string): Promise<string | undefined> {
  const name = path.basename(file, '.tlexp.json');
  return vscode.window.showInputBox({
    title: 'Export Experiment as Keras Script',
    prompt: 'Folder for train.py, job.json, splits.json, requirements.txt and README.md (created if new; files with those names are replaced)',
    value: path.join(path.dirname(file), `${slugify(name)}-keras-job`),
    validateInput: (v) => (v.trim() === '' ? 'Name a folder' : undefined),
  });
}

async function offerReadme(outcome: KerasScriptOutcome): Promise<void> {
  const n = outcome.counts;
  const pick = await vscode.window.showInformationMessage(
    `Transfer Lab: Keras job written to ${outcome.dir} (${n.train} train / ${n.val} val / ${n.test} test images, the same files as a run here). Run \`python train.py\` there; its run folder appears in ${outcome.runsDir}.`,
    'Open README',
    'Open train.py',
  );
  if (pick) await vscode.window.showTextDocument(vscode.Uri.file(path.join(outcome.dir, pick === 'Open README' ? 'README.md' : 'train.py')));
}
