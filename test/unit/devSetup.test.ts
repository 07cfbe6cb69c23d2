// F5 from a fresh clone: .vscode/launch.json starts an Extension Development Host on this
// folder after a build task that tasks.json defines as an npm script package.json has, and
// that script writes the file package.json names as the extension's entry. The integration
// suite then loads the extension the same way (extensionDevelopmentPath = the repo, after
// `npm run build`) in code-server, whose CLI has no F5.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';

const root = path.resolve(__dirname, '../../..');

function readJsonc(file: string): any {
  const errors: ParseError[] = [];
  const value = parse(fs.readFileSync(path.join(root, file), 'utf8'), errors, { allowTrailingComma: false });
  assert.deepEqual(errors, [], `${file} parses`);
  return value;
}

test('F5: the launch configuration builds with an npm script and starts this folder as the extension', () => {
  const launch = readJsonc('.vscode/launch.json');
  const tasks = readJsonc('.vscode/tasks.json');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const run = launch.configurations.find((c: any) => c.type === 'extensionHost' && c.request === 'launch');
  assert.ok(run, 'an extensionHost launch configuration');
  assert.ok(run.args.includes('--extensionDevelopmentPath=${workspaceFolder}'), 'it develops this folder');
  const task = tasks.tasks.find((t: any) => t.label === run.preLaunchTask);
  assert.ok(task, `the preLaunchTask '${run.preLaunchTask}' is defined in tasks.json`);
  assert.equal(task.type, 'npm');
  const script: string | undefined = pkg.scripts[task.script];
  assert.ok(script, `package.json has the script '${task.script}'`);
  // The script is esbuild.mjs, and it bundles the entry package.json names (built by npm test's pretest).
  assert.match(script, /esbuild\.mjs/);
  assert.match(fs.readFileSync(path.join(root, 'esbuild.mjs'), 'utf8'), /src\/extension\/extension\.ts/);
  assert.ok(fs.existsSync(path.join(root, pkg.main)), `${pkg.main} was built`);
  assert.ok(
    run.outFiles.some((g: string) => g.startsWith('${workspaceFolder}/dist/')),
    'source maps come from dist/',
  );
});
