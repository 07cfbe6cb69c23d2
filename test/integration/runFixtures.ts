// Run folders made without training, for the tests of what the views do with them (delete,
// export): an experiment file in the workspace and its run, as the trainer would leave it.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createRun, updateRun } from '../../src/core/runStore';
import { loadExperimentText } from '../../src/core/experimentValidation';

const repo = path.resolve(__dirname, '../../..');

/** A run of a new experiment `name` (on the shipped dataset), marked succeeded; `fill` writes into its folder first. */
export function succeededRun(name: string, fill: (runDir: string) => void = () => undefined): string {
  const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const file = path.join(ws, `${name}.tlexp.json`);
  const exp = {
    name,
    data: { dir: path.join(repo, 'media/datasets/fashion-target') },
    backbone: { catalog: 'fmnist-mini' },
    strategy: { kind: 'feature-extraction' },
  };
  fs.writeFileSync(file, JSON.stringify(exp, null, 2));
  const resolved = loadExperimentText(fs.readFileSync(file, 'utf8'), file);
  assert.ok(resolved.ok);
  const { dir } = createRun(path.join(ws, '.transferlab', 'runs'), resolved.value, { backend: 'tensorflow' });
  fill(dir);
  updateRun(dir, { status: 'succeeded' });
  return dir;
}
